package projections

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/bolt"
)

// openStore opens a bolt store in dir (the real embedded store: no mocks),
// closed when the test ends.
func openStore(t testing.TB, dir string) eventstore.Store {
	t.Helper()
	s, err := bolt.Open(filepath.Join(dir, "events.db"), bolt.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// fixture appends events with recorded times it controls, so that known_at
// cuts in tests fall exactly between events without reading a clock.
type fixture struct {
	t     testing.TB
	ctx   context.Context
	store eventstore.Store
	clock time.Time
}

func newFixture(t testing.TB, store eventstore.Store) *fixture {
	t.Helper()
	return &fixture{t: t, ctx: context.Background(), store: store, clock: time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)}
}

// tick moves the fixture's clock on and returns it.
func (f *fixture) tick() time.Time {
	f.clock = f.clock.Add(time.Minute + 123*time.Nanosecond)
	return f.clock
}

// event makes an EventData of ev with the next recorded time.
func (f *fixture) event(occurred string, ev domain.Event) eventstore.EventData {
	f.t.Helper()
	data, version, err := domain.Encode(ev)
	require.NoError(f.t, err)
	return eventstore.EventData{
		ID: uuid.New(), Type: ev.EventType(), SchemaVersion: version, OccurredOn: occurred,
		RecordedBy: "admin:Test Admin", RecordedAt: f.tick(), Data: data,
	}
}

// add appends one event to stream and returns it as stored.
func (f *fixture) add(stream, occurred string, ev domain.Event) eventstore.RecordedEvent {
	f.t.Helper()
	e := f.event(occurred, ev)
	res, err := f.store.Append(f.ctx, stream, eventstore.Any(), e)
	require.NoError(f.t, err)
	events, err := f.store.ReadStream(f.ctx, stream, eventstore.ReadOptions{})
	require.NoError(f.t, err)
	got := events[len(events)-1]
	require.Equal(f.t, res.LastRevision, got.Revision)
	require.Equal(f.t, e.ID, got.ID)
	return got
}

// practitioner registers a fictional adult practitioner and returns its id.
func (f *fixture) practitioner(name, occurred string) uuid.UUID {
	f.t.Helper()
	id := uuid.New()
	f.add(PractitionerStream(id), occurred, &domain.PractitionerRegistered{Name: name, Email: "someone@example.org", Profession: domain.ProfessionEducation})
	return id
}

// organisation registers an organisation and returns its id.
func (f *fixture) organisation(name string, kind domain.OrganisationKind, occurred string) uuid.UUID {
	f.t.Helper()
	id := uuid.New()
	f.add(OrganisationStream(id), occurred, &domain.OrganisationRegistered{Name: name, Kind: kind, RegisteredService: true})
	return id
}

func date(s string) domain.Date { return domain.MustDate(s) }

// decide records decision ev on a practitioner's stream as the API does:
// evaluated on the history known now, as of its effective date, with the
// rulebook version and the evaluation stored in the event.
func (f *fixture) decide(id uuid.UUID, occurred string, ev domain.Event) eventstore.RecordedEvent {
	f.t.Helper()
	d, ok := domain.DecisionOf(ev)
	require.True(f.t, ok, "%T is not a decision", ev)
	v := NewViews(f.store)
	on := date(occurred)
	facts, _, err := v.Facts(f.ctx, PractitionerStream(id), on, time.Time{})
	require.NoError(f.t, err)
	// Recorded under v1, so that tests can tell then (its version) from now.
	rb := domain.RulebookV1()
	eval, err := rb.EvaluateInStream(PractitionerStream(id), facts, ev, on, domain.DecisionInputs{
		Organisation: func(org uuid.UUID) (*domain.Organisation, error) {
			orgs, err := v.organisationsOf(f.ctx, []uuid.UUID{org}, on, time.Time{})
			return orgs[org], err
		},
	})
	require.NoError(f.t, err)
	d.RulebookVersion, d.Evaluation = rb.Version, &eval
	return f.add(PractitionerStream(id), occurred, ev)
}
