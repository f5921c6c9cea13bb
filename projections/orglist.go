package projections

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"unicode"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
)

// OrganisationItem is one registered organisation in a list.
type OrganisationItem struct {
	ID                uuid.UUID               `json:"id"`
	Name              string                  `json:"name"`
	Kind              domain.OrganisationKind `json:"kind"`
	RegisteredService bool                    `json:"registered_service"`
}

// OrganisationList returns the registered organisations, ordered by name
// then id: what the console offers where an organisation is chosen.
func (p *Projector) OrganisationList(ctx context.Context) ([]OrganisationItem, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m := p.cur.Load()
	if m == nil {
		return nil, ErrNotReady
	}
	m.mu.RLock()
	out := make([]OrganisationItem, 0, len(m.orgs))
	for _, o := range m.orgs {
		if o == nil || !o.Registered {
			continue
		}
		out = append(out, OrganisationItem{ID: o.ID, Name: o.Name, Kind: o.Kind, RegisteredService: o.RegisteredService})
	}
	m.mu.RUnlock()
	slices.SortFunc(out, func(a, b OrganisationItem) int {
		if c := cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return lessID(a.ID, b.ID)
	})
	return out, nil
}

// containsFold reports whether s contains sub, ignoring case.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.Map(unicode.ToLower, s), strings.Map(unicode.ToLower, sub))
}
