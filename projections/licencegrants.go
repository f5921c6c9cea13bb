package projections

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
)

// LicenceGrants returns the LicenceGranted events of licenceID in every
// stream but stream (domain.DecisionInputs.LicenceGrants): those effective
// on or before on (any date when on is zero), as known at knownAt (zero:
// now), retractions applied as known then. The streams read are the
// holders of licenceID in the licence register, practitioners' and
// organisations'; a grant the register no longer shows (retracted since)
// is not looked for.
func (p *Projector) LicenceGrants(ctx context.Context, licenceID, stream string, on domain.Date, knownAt time.Time) ([]uuid.UUID, error) {
	m := p.cur.Load()
	if m == nil {
		return nil, ErrNotReady
	}
	var holders []string
	m.mu.RLock()
	for _, id := range m.order {
		if slices.ContainsFunc(m.practitioners[id].Licences, func(l licenceRec) bool { return l.ID == licenceID }) {
			holders = append(holders, PractitionerStream(id))
		}
	}
	for id, o := range m.orgs {
		if slices.ContainsFunc(o.Licences(m.date.date()), func(l domain.Licence) bool { return l.LicenceID == licenceID }) {
			holders = append(holders, OrganisationStream(id))
		}
	}
	m.mu.RUnlock()
	slices.Sort(holders)

	var out []uuid.UUID
	for _, h := range holders {
		if h == stream {
			continue
		}
		facts, _, err := p.factsAsOf(ctx, h, on, knownAt)
		if err != nil {
			return nil, err
		}
		out = append(out, domain.LicenceGrantsIn(facts, licenceID)...)
	}
	return out, nil
}

// factsAsOf reads stream as known at knownAt (zero: now) and returns the
// facts that qualify as of on (zero: every date); found is false for a
// stream that does not exist or held nothing then.
func (p *Projector) factsAsOf(ctx context.Context, stream string, on domain.Date, knownAt time.Time) (facts []domain.Fact, found bool, err error) {
	events, err := p.store.ReadStream(ctx, stream, eventstore.ReadOptions{KnownAt: knownAt})
	if isNotFound(err) || err == nil && len(events) == 0 {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("projections: read %s: %w", stream, err)
	}
	noteRead(ctx, events)
	sf, err := decodeStream(events, p.keys)
	if err != nil {
		return nil, false, fmt.Errorf("projections: %s: %w", stream, err)
	}
	facts, _ = sf.qualifying(on, uuid.Nil)
	return facts, true, nil
}
