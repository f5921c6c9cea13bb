package projections

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
)

// Filter selects practitioners for ListPractitioners. Zero fields match
// everything.
type Filter struct {
	// Standing is one of good, at_risk, lapsed, suspended, withdrawn.
	Standing string
	// Level, when not nil, is the level (0-5) to match.
	Level *int
	// Role is a certified role the practitioner must hold.
	Role domain.Role
	// OrganisationID is an organisation the practitioner must be in.
	OrganisationID uuid.UUID
	// Limit caps the page (default 50, at most 1000).
	Limit int
	// Cursor is a previous page's NextCursor.
	Cursor string
	// Name, when not empty, is text the practitioner's name must contain,
	// ignoring case (the console's search).
	Name string
}

// PractitionerItem is one practitioner in a list: a summary, not the
// folded state (GET the practitioner for requirements and next steps).
type PractitionerItem struct {
	ID            uuid.UUID     `json:"id"`
	Name          string        `json:"name"`
	Level         int           `json:"level"`
	Roles         []domain.Role `json:"roles"`
	Standing      string        `json:"standing"`
	Organisations []uuid.UUID   `json:"organisations"`
	// NextChange is the next date the standing can change with no new event.
	NextChange *domain.Date `json:"next_change,omitempty"`
	Revision   uint64       `json:"revision"`
}

// Page is one page of a list. NextCursor is empty on the last page.
type Page struct {
	Items      []PractitionerItem `json:"items"`
	NextCursor string             `json:"next_cursor"`
}

// served returns the served models brought to today: when today is later
// than their date, the practitioners whose NextChange has come are re-folded
// first. past reports that today is earlier than the models' date, so each
// summary must be recomputed for it (see summaryAt).
func (p *Projector) served(ctx context.Context, today domain.Date) (m *models, past bool, err error) {
	m = p.cur.Load()
	if m == nil {
		return nil, false, ErrNotReady
	}
	if today.IsZero() {
		return nil, false, invalid("today", "a date is required")
	}
	t := dayOf(today)
	if err := p.advance(ctx, m, t); err != nil {
		return nil, false, err
	}
	m.mu.RLock()
	past = t < m.date
	return m, past, nil
}

// summaryAt returns s as it stood on a date earlier than the models' date,
// by re-folding the practitioner's stream: summaries are only kept for the
// models' date onwards. Callers hold m.mu for reading.
func (p *Projector) summaryAt(ctx context.Context, m *models, s *summary, today domain.Date) (*summary, error) {
	stream := PractitionerStream(s.ID)
	events, err := p.store.ReadStream(ctx, stream, eventstore.ReadOptions{})
	if err != nil {
		return nil, fmt.Errorf("projections: read practitioner %s: %w", s.ID, err)
	}
	sf, err := decodeStream(events, p.keys)
	if err != nil {
		return nil, fmt.Errorf("projections: %s: %w", stream, err)
	}
	out, _, _, err := p.rules.practitioner(nil, s.ID, stream, sf, m.orgs, today)
	return out, err
}

func encodeCursor(id uuid.UUID) string { return base64.RawURLEncoding.EncodeToString(id[:]) }

func decodeCursor(c string) (uuid.UUID, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) != 16 {
		return uuid.Nil, invalid("cursor", "%q is not a cursor this list gave", c)
	}
	return uuid.UUID(b), nil
}

func (f Filter) check() error {
	if f.Standing != "" && !slices.Contains(standingNames, f.Standing) {
		return invalid("standing", "%q is not one of %s", f.Standing, strings.Join(standingNames, ", "))
	}
	if f.Level != nil && (*f.Level < 0 || *f.Level > 5) {
		return invalid("level", "%d is not a level from 0 to 5", *f.Level)
	}
	if f.Role != "" && !slices.Contains(certifiedRoles, f.Role) {
		return invalid("role", "%q is not a certified role", f.Role)
	}
	if f.Limit < 0 {
		return invalid("limit", "%d is negative", f.Limit)
	}
	return nil
}

func (f Filter) match(s *summary) bool {
	if f.Standing != "" && standingNames[s.Standing] != f.Standing {
		return false
	}
	if f.Level != nil && int(s.Level) != *f.Level {
		return false
	}
	if f.Role != "" && s.Roles&bitsOf(certifiedRoles, []domain.Role{f.Role}) == 0 {
		return false
	}
	if f.OrganisationID != uuid.Nil && !slices.Contains(s.Orgs, f.OrganisationID) {
		return false
	}
	if f.Name != "" && !containsFold(s.Name, f.Name) {
		return false
	}
	return true
}

// ListPractitioners returns a page of the practitioners that match f on
// today, in the stable order of their ids. Standing, level and roles are
// those of today: the models keep each summary with the next date it can
// change, so moving the date on re-folds only the practitioners whose date
// has come, never all of them.
func (p *Projector) ListPractitioners(ctx context.Context, f Filter, today domain.Date) (Page, error) {
	if err := f.check(); err != nil {
		return Page{}, err
	}
	limit := f.Limit
	if limit == 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	var after uuid.UUID
	if f.Cursor != "" {
		id, err := decodeCursor(f.Cursor)
		if err != nil {
			return Page{}, err
		}
		after = id
	}
	m, past, err := p.served(ctx, today)
	if err != nil {
		return Page{}, err
	}
	defer m.mu.RUnlock()
	start := 0
	if f.Cursor != "" {
		i, found := slices.BinarySearchFunc(m.order, after, lessID)
		if found {
			i++
		}
		start = i
	}
	page := Page{Items: []PractitionerItem{}}
	for i := start; i < len(m.order); i++ {
		s := m.practitioners[m.order[i]]
		if past {
			if s, err = p.summaryAt(ctx, m, s, today); err != nil {
				return Page{}, err
			}
		}
		if !f.match(s) {
			continue
		}
		if len(page.Items) == limit {
			page.NextCursor = encodeCursor(page.Items[limit-1].ID)
			break
		}
		page.Items = append(page.Items, itemOf(s))
	}
	return page, nil
}

func itemOf(s *summary) PractitionerItem {
	it := PractitionerItem{
		ID: s.ID, Name: s.Name, Level: int(s.Level), Roles: fromBits(certifiedRoles, s.Roles),
		Standing: standingNames[s.Standing], Organisations: nonNil(slices.Clone(s.Orgs)), Revision: s.Revision,
	}
	if s.NextChange != 0 {
		d := s.NextChange.date()
		it.NextChange = &d
	}
	return it
}

// LicenceItem is one licence in the register, a practitioner's or an
// organisation's, with its status on the date asked.
type LicenceItem struct {
	LicenceID  string             `json:"licence_id"`
	Kind       domain.LicenceKind `json:"kind"`
	Status     string             `json:"status"`
	ValidUntil domain.Date        `json:"valid_until"`
	// DaysLeft counts the days from the date asked to ValidUntil.
	DaysLeft int `json:"days_left"`
	// HolderType is "practitioner" or "organisation".
	HolderType string    `json:"holder_type"`
	HolderID   uuid.UUID `json:"holder_id"`
	HolderName string    `json:"holder_name"`
}

// Licences returns the licence register on today, ordered by expiry: with
// expiringWithinDays > 0 only the active licences whose validity ends within
// that many days of today, otherwise every licence with its status.
func (p *Projector) Licences(ctx context.Context, expiringWithinDays int, today domain.Date) ([]LicenceItem, error) {
	m, past, err := p.served(ctx, today)
	if err != nil {
		return nil, err
	}
	defer m.mu.RUnlock()
	out := []LicenceItem{}
	keep := func(lid string, kind domain.LicenceKind, status domain.LicenceStatus, validUntil domain.Date, holderType string, id uuid.UUID, name string) {
		it := LicenceItem{
			LicenceID: lid, Kind: kind, Status: string(status), ValidUntil: validUntil,
			DaysLeft: today.DaysUntil(validUntil), HolderType: holderType, HolderID: id, HolderName: name,
		}
		if expiringWithinDays > 0 && (status != domain.LicenceStatusActive || it.DaysLeft > expiringWithinDays) {
			return
		}
		out = append(out, it)
	}
	for _, id := range m.order {
		s := m.practitioners[id]
		if len(s.Licences) == 0 {
			continue
		}
		if past {
			if s, err = p.summaryAt(ctx, m, s, today); err != nil {
				return nil, err
			}
		}
		for _, l := range s.Licences {
			keep(l.ID, l.Kind, l.Status, l.ValidUntil.date(), "practitioner", s.ID, s.Name)
		}
	}
	for _, o := range m.orgs {
		for _, l := range o.Licences(today) {
			keep(l.LicenceID, l.Kind, l.Status, l.ValidUntil, "organisation", o.ID, o.Name)
		}
	}
	slices.SortFunc(out, func(a, b LicenceItem) int {
		if c := a.DaysLeft - b.DaysLeft; c != 0 {
			return c
		}
		return strings.Compare(a.LicenceID, b.LicenceID)
	})
	return out, nil
}

// Listing is one entry of the public directory: no more than name, certified
// roles, organisation and directory; never an email address.
type Listing struct {
	Name         string           `json:"name"`
	Roles        []domain.Role    `json:"roles"`
	Organisation string           `json:"organisation"`
	Directory    domain.Directory `json:"directory"`
}

// Directory returns the public directory on today: practitioners who
// consented and may be listed (DOMAIN.md "Directories"), one entry per
// directory, ordered by directory then name.
func (p *Projector) Directory(ctx context.Context, today domain.Date) ([]Listing, error) {
	m, past, err := p.served(ctx, today)
	if err != nil {
		return nil, err
	}
	defer m.mu.RUnlock()
	out := []Listing{}
	for _, id := range m.order {
		s := m.practitioners[id]
		if past {
			if s, err = p.summaryAt(ctx, m, s, today); err != nil {
				return nil, err
			}
		}
		if s.Listings == 0 || personalDataGone(s.Name) {
			// A listing is a name: an erased one lists nothing.
			continue
		}
		var names []string
		for _, o := range s.Orgs {
			if org := m.orgs[o]; org != nil && org.Name != "" {
				names = append(names, org.Name)
			}
		}
		slices.Sort(names)
		for _, d := range fromBits(directories, s.Listings) {
			out = append(out, Listing{Name: s.Name, Roles: fromBits(certifiedRoles, s.Roles), Organisation: strings.Join(names, ", "), Directory: d})
		}
	}
	slices.SortStableFunc(out, func(a, b Listing) int {
		if c := strings.Compare(string(a.Directory), string(b.Directory)); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}
