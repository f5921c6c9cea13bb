package projections

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
)

// canonicalModels are a models' records in a fixed order, with the
// organisations' folded state, for comparing two models.
type canonicalModels struct {
	*snapshotData
	OrgStates domain.OrganisationSet
}

func canonical(p *Projector) canonicalModels {
	m := p.cur.Load()
	m.mu.RLock()
	defer m.mu.RUnlock()
	d := m.export(p.rules.version)
	slices.SortFunc(d.Orgs, lessID)
	slices.SortFunc(d.Decisions, func(a, b decisionRec) int { return lessID(a.EventID, b.EventID) })
	slices.SortFunc(d.Reviews, func(a, b reviewRec) int { return lessID(a.EventID, b.EventID) })
	for i := range d.Practitioners {
		s := &d.Practitioners[i]
		slices.SortFunc(s.Refs, lessID)
	}
	return canonicalModels{d, maps.Clone(m.orgs)}
}

// randomHistory appends n random events across a few practitioners and
// organisations: registrations, memberships, licences and their changes,
// consents, decisions, reviews and retractions of earlier events.
type randomHistory struct {
	f       *fixture
	rng     *rand.Rand
	pracs   []uuid.UUID
	orgs    []uuid.UUID
	events  map[string][]uuid.UUID // stream -> event ids, for retractions
	decided map[string][]uuid.UUID // stream -> decision ids, for reviews
	last    eventstore.Position
}

func newRandomHistory(f *fixture, seed uint64) *randomHistory {
	return &randomHistory{f: f, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		events: map[string][]uuid.UUID{}, decided: map[string][]uuid.UUID{}}
}

func (h *randomHistory) day() string {
	return date("2029-01-01").AddDays(h.rng.IntN(700)).String()
}

func (h *randomHistory) step() {
	rng := h.rng
	if len(h.orgs) == 0 || rng.IntN(20) == 0 {
		h.orgs = append(h.orgs, uuid.New())
		h.put(OrganisationStream(h.orgs[len(h.orgs)-1]), &domain.OrganisationRegistered{Name: fmt.Sprintf("Example School %d", len(h.orgs)), Kind: domain.OrgSchool, RegisteredService: rng.IntN(2) == 0})
		return
	}
	if len(h.pracs) == 0 || rng.IntN(8) == 0 {
		h.pracs = append(h.pracs, uuid.New())
		h.put(PractitionerStream(h.pracs[len(h.pracs)-1]), &domain.PractitionerRegistered{Name: fmt.Sprintf("Practitioner %d", len(h.pracs)), Profession: domain.ProfessionHealth})
		return
	}
	stream := PractitionerStream(h.pracs[rng.IntN(len(h.pracs))])
	if rng.IntN(6) == 0 {
		stream = OrganisationStream(h.orgs[rng.IntN(len(h.orgs))])
	}
	dec := domain.Decision{DecidedBy: "Dana Decider", Rationale: "as the rules say", Exception: rng.IntN(3) == 0}
	lid := fmt.Sprintf("L-%d", rng.IntN(3))
	org := h.orgs[rng.IntN(len(h.orgs))]
	var ev domain.Event
	switch rng.IntN(12) {
	case 0:
		ev = &domain.PractitionerJoinedOrganisation{OrganisationID: org}
	case 1:
		ev = &domain.PractitionerLeftOrganisation{OrganisationID: org}
	case 2:
		ev = &domain.LicenceGranted{LicenceID: lid, Kind: domain.LicenceLevel3A, ValidUntil: date(h.day()).AddYears(1), Decision: dec}
	case 3:
		ev = &domain.LicenceSuspended{LicenceID: lid, Reason: "under review", Decision: dec}
	case 4:
		ev = &domain.LicenceRenewed{LicenceID: lid, ValidUntil: date(h.day()).AddYears(2), Decision: dec}
	case 5:
		ev = &domain.DirectoryListingConsented{Directory: domain.DirectoryInformed}
	case 6:
		ev = &domain.CertificationAwarded{Role: domain.RoleLeadProfessional, Decision: dec}
	case 7:
		if ds := h.decided[stream]; len(ds) > 0 {
			ev = &domain.DecisionReviewed{DecisionEventID: ds[rng.IntN(len(ds))], Outcome: domain.ReviewUpheld}
		}
	case 8:
		if es := h.events[stream]; len(es) > 1 {
			ev = &domain.EventRetracted{RetractedEventID: es[1+rng.IntN(len(es)-1)], Reason: "recorded in error"}
		}
	case 9:
		ev = &domain.LicenceReinstated{LicenceID: lid, Reason: "review done", Decision: dec}
	default:
		ev = &domain.CourseCompleted{Course: domain.CourseFoundationB}
	}
	if ev == nil {
		ev = &domain.CPDEngagementRecorded{Kind: domain.CPDLinkedCPD, Hours: 2}
	}
	// Only what the stream's kind may hold, as the API would allow.
	kind := domain.PractitionerStream
	if stream[0] == 'o' {
		kind = domain.OrganisationStream
	}
	if info, _ := domain.Lookup(ev.EventType()); !info.AllowedIn(kind) {
		stream = PractitionerStream(h.pracs[rng.IntN(len(h.pracs))])
	}
	h.put(stream, ev)
}

func (h *randomHistory) put(stream string, ev domain.Event) {
	e := h.f.event(h.day(), ev)
	res, err := h.f.store.Append(h.f.ctx, stream, eventstore.Any(), e)
	require.NoError(h.f.t, err)
	h.last = res.LastPosition
	h.events[stream] = append(h.events[stream], e.ID)
	if _, ok := domain.DecisionOf(ev); ok {
		h.decided[stream] = append(h.decided[stream], e.ID)
	}
}

// TestSubscriptionMatchesRebuild appends a random mix of events over several
// rounds, closing and reopening the store and the projector between rounds
// (so each round resumes from the snapshot), and checks after each round that
// the subscription-fed models equal models rebuilt from scratch.
func TestSubscriptionMatchesRebuild(t *testing.T) {
	dir := t.TempDir()
	today := func() domain.Date { return date("2030-03-01") }
	opts := Options{SnapshotPath: filepath.Join(dir, "models.snapshot"), SnapshotEvery: 7, Today: today}
	var h *randomHistory
	for round := range 5 {
		t.Run(fmt.Sprint("round ", round), func(t *testing.T) {
			store := openStore(t, dir)
			f := newFixture(t, store)
			if h == nil {
				h = newRandomHistory(f, 42)
			}
			f.clock = h.f.clock
			h.f = f
			p, err := New(store, opts)
			require.NoError(t, err)
			if round > 0 {
				require.True(t, p.Loaded(), "round %d starts from the snapshot", round)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx) }()
			n := 20 + h.rng.IntN(60)
			for range n {
				h.step()
			}
			require.NoError(t, p.WaitFor(ctx, h.last))
			cancel()
			require.ErrorIs(t, <-done, context.Canceled)

			fresh, err := New(store, Options{Today: today})
			require.NoError(t, err)
			require.NoError(t, fresh.Rebuild(context.Background(), nil))
			want, got := canonical(fresh), canonical(p)
			require.NotEmpty(t, want.Practitioners)
			require.NotEmpty(t, want.Decisions)
			assert.Equal(t, want, got)
			assert.Equal(t, h.last, p.Checkpoint())
			require.NoError(t, store.Close())
		})
	}
}

func TestWaitForAndLag(t *testing.T) {
	store := openStore(t, t.TempDir())
	f := newFixture(t, store)
	p, err := New(store, Options{Today: func() domain.Date { return date("2030-03-01") }})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var last eventstore.Position
	for i := range 10 {
		id := f.practitioner(fmt.Sprintf("Practitioner %d", i), "2029-05-01")
		stored, err := store.ReadStream(ctx, PractitionerStream(id), eventstore.ReadOptions{})
		require.NoError(t, err)
		last = stored[0].Position
		require.NoError(t, p.WaitFor(ctx, last))
		page, err := p.ListPractitioners(ctx, Filter{Limit: 100}, date("2030-03-01"))
		require.NoError(t, err)
		assert.Len(t, page.Items, i+1, "the practitioner just appended is listed")
	}
	assert.Equal(t, last, p.Checkpoint())
	assert.Zero(t, p.Lag())

	short, stop := context.WithCancel(ctx)
	stop()
	assert.ErrorIs(t, p.WaitFor(short, last+1000), context.Canceled)
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
}

// TestWaitLoaded: before Run has built the models, list queries say
// ErrNotReady and WaitLoaded waits (until its context ends); once Run has
// built them, WaitLoaded returns and the queries answer.
func TestWaitLoaded(t *testing.T) {
	store := openStore(t, t.TempDir())
	f := newFixture(t, store)
	f.practitioner("Practitioner Waiting", "2029-05-01")
	p, err := New(store, Options{Today: func() domain.Date { return date("2030-03-01") }})
	require.NoError(t, err)
	assert.False(t, p.Loaded())
	_, err = p.ListPractitioners(t.Context(), Filter{Limit: 10}, date("2030-03-01"))
	assert.ErrorIs(t, err, ErrNotReady)
	short, stop := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer stop()
	assert.ErrorIs(t, p.WaitLoaded(short), context.DeadlineExceeded)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	require.NoError(t, p.WaitLoaded(ctx))
	assert.True(t, p.Loaded())
	page, err := p.ListPractitioners(ctx, Filter{Limit: 10}, date("2030-03-01"))
	require.NoError(t, err)
	assert.Len(t, page.Items, 1)
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
}

// TestOnlineRebuild rebuilds while the projector serves and events keep
// arriving: every query meanwhile sees at least what was served before (the
// old models until the swap, never half-built ones), and afterwards the
// served models equal a fresh rebuild.
func TestOnlineRebuild(t *testing.T) {
	store := openStore(t, t.TempDir())
	f := newFixture(t, store)
	today := func() domain.Date { return date("2030-03-01") }
	p, err := New(store, Options{Today: today})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	h := newRandomHistory(f, 7)
	for range 150 {
		h.step()
	}
	require.NoError(t, p.WaitFor(ctx, h.last))
	before, err := p.ListPractitioners(ctx, Filter{Limit: 1000}, today())
	require.NoError(t, err)
	require.NotEmpty(t, before.Items)

	rebuilt := make(chan error, 1)
	go func() { rebuilt <- p.Rebuild(ctx, nil) }()
	var queries int
	appending := true
	for appending || queries < 50 {
		select {
		case err := <-rebuilt:
			require.NoError(t, err)
			appending = false
			rebuilt = nil
		default:
		}
		if appending {
			h.step()
		}
		page, err := p.ListPractitioners(ctx, Filter{Limit: 1000}, today())
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(page.Items), len(before.Items), "a query during the rebuild saw fewer practitioners than before it")
		queries++
	}
	require.NoError(t, p.WaitFor(ctx, h.last))
	fresh, err := New(store, Options{Today: today})
	require.NoError(t, err)
	require.NoError(t, fresh.Rebuild(ctx, nil))
	assert.Equal(t, canonical(fresh), canonical(p))
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
}
