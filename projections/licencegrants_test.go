package projections

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/domain"
)

// TestLicenceGrants: the grants of a licence_id in other streams, as of a
// date and as known at a time, for a grant's evaluation now and then
// (DOMAIN.md: "`LicenceGranted` with a `licence_id` already granted are
// outside the rules"); a retracted grant does not count.
func TestLicenceGrants(t *testing.T) {
	store := openStore(t, t.TempDir())
	f := newFixture(t, store)
	a := PractitionerStream(f.practitioner("Alex Example", "2024-01-01"))
	b := PractitionerStream(f.practitioner("Sam Example", "2024-01-01"))
	school := f.organisation("Fellside Primary", domain.OrgSchool, "2024-01-01")
	dec := domain.Decision{DecidedBy: "Dana Decider", Rationale: "as recorded on paper", Exception: true}
	g := func(stream, on, id string) grantRec {
		r := f.add(stream, on, &domain.LicenceGranted{LicenceID: id, Kind: domain.LicenceInformalUse, ValidUntil: date("2025-06-30"), Decision: dec})
		return grantRec{r.ID, r.RecordedAt}
	}
	ga := g(a, "2024-03-01", "X-1")
	gb := g(b, "2024-06-01", "X-1")
	gs := g(OrganisationStream(school), "2024-02-01", "S-1")
	gone := g(b, "2024-02-01", "S-1")
	last := f.add(b, "2024-02-02", &domain.EventRetracted{RetractedEventID: gone.id, Reason: "recorded in error"})

	p, err := New(store, Options{Today: func() domain.Date { return date("2024-07-01") }})
	require.NoError(t, err)
	ctx := runProjector(t, p)
	require.NoError(t, p.WaitFor(ctx, last.Position))

	for _, c := range []struct {
		name, licence, stream string
		on                    string
		knownAt               time.Time
		want                  []uuid.UUID
	}{
		{"the write path: every other holder, whatever the date", "X-1", a, "", time.Time{}, []uuid.UUID{gb.id}},
		{"not the deciding stream", "X-1", b, "", time.Time{}, []uuid.UUID{ga.id}},
		{"as of a date: a later grant is not yet", "X-1", a, "2024-05-31", time.Time{}, nil},
		{"as known then: a grant recorded later is not known", "X-1", b, "2024-06-01", ga.at.Add(-time.Nanosecond), nil},
		{"an organisation's licence; a retracted grant does not count", "S-1", a, "", time.Time{}, []uuid.UUID{gs.id}},
		{"no holder", "Z-9", a, "", time.Time{}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var on domain.Date
			if c.on != "" {
				on = date(c.on)
			}
			got, err := p.LicenceGrants(ctx, c.licence, c.stream, on, c.knownAt)
			require.NoError(t, err)
			assert.ElementsMatch(t, c.want, got)
		})
	}
}

type grantRec struct {
	id uuid.UUID
	at time.Time
}
