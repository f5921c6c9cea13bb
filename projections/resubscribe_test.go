package projections

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/kurrentdb"
	"github.com/imattertraining/ledger/eventstore/kurrentdb/protocoldouble"
)

// breakable is a store whose subscriptions can be cut, as a failing disk
// or connection would: cut ends every running subscription with errCut,
// and until restore every new one fails with it at once.
type breakable struct {
	eventstore.Store
	mu      sync.Mutex
	down    bool
	cancels []context.CancelCauseFunc
}

var errCut = errors.New("injected: the subscription failed")

func (b *breakable) Subscribe(ctx context.Context, from eventstore.Position, fn func(eventstore.RecordedEvent) error) error {
	b.mu.Lock()
	if b.down {
		b.mu.Unlock()
		return errCut
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	b.cancels = append(b.cancels, cancel)
	b.mu.Unlock()
	err := b.Store.Subscribe(ctx, from, fn)
	if errors.Is(context.Cause(ctx), errCut) {
		return errCut
	}
	return err
}

func (b *breakable) cut() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.down = true
	for _, c := range b.cancels {
		c(errCut)
	}
	b.cancels = nil
}

func (b *breakable) restore() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.down = false
}

// logLines collects what the projector logs.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// register appends a practitioner's registration and returns it as stored.
func register(f *fixture, name string) eventstore.RecordedEvent {
	f.t.Helper()
	return f.add(PractitionerStream(uuid.New()), "2029-05-01", &domain.PractitionerRegistered{Name: name, Profession: domain.ProfessionEducation})
}

// waitReady waits, boundedly, for p to be ready: through its retries
// (WaitReady returns at once while the models are stopped).
func waitReady(t *testing.T, p *Projector) {
	t.Helper()
	require.Eventually(t, func() bool { return p.Ready() == nil }, 20*time.Second, time.Millisecond,
		"the read models never got ready: %v", p.Ready())
}

// listed returns the names of the practitioners the models list.
func listed(t *testing.T, p *Projector) []string {
	t.Helper()
	page, err := p.ListPractitioners(t.Context(), Filter{Limit: 100}, date("2030-03-01"))
	require.NoError(t, err)
	var names []string
	for _, it := range page.Items {
		names = append(names, it.Name)
	}
	return names
}

// startRetrying runs a projector over store that retries from retry,
// doubling up to four times that, and waits until it holds a first
// practitioner, registered through f ("Practitioner Before").
func startRetrying(t *testing.T, store eventstore.Store, f *fixture, retry time.Duration) (*Projector, context.Context, *logLines) {
	t.Helper()
	logs := &logLines{}
	p, err := New(store, Options{Today: func() domain.Date { return date("2030-03-01") },
		RetryMin: retry, RetryMax: 4 * retry, Logf: logs.logf})
	require.NoError(t, err)
	ctx := runProjector(t, p)
	before := register(f, "Practitioner Before")
	require.NoError(t, p.WaitFor(ctx, before.Position))
	waitReady(t, p)
	return p, ctx, logs
}

// TestRunResubscribesAfterAFailure: a subscription that fails no longer
// stops the read models for good. The failure is logged and counted, Ready
// says the models are stopped (so queries can answer 503 rather than stale
// data) and WaitFor returns at once; Run subscribes again with backoff for
// as long as the failure lasts, and once the store serves again the models
// catch up with what was stored meanwhile and are ready.
func TestRunResubscribesAfterAFailure(t *testing.T) {
	store := openStore(t, t.TempDir())
	f := newFixture(t, store)
	b := &breakable{Store: store}
	p, ctx, logs := startRetrying(t, b, f, 5*time.Millisecond)
	assert.Zero(t, p.Failures())

	b.cut()
	require.Eventually(t, func() bool { return p.Failures() >= 3 }, 20*time.Second, time.Millisecond,
		"Run subscribes again, and again, while the store fails")
	assert.ErrorIs(t, p.Ready(), ErrNotReady)
	var nr *NotReadyError
	require.ErrorAs(t, p.Ready(), &nr)
	assert.Contains(t, []string{StateStopped, StateRecovering}, nr.State)
	assert.ErrorIs(t, nr.Cause, errCut)
	assert.False(t, nr.Since.IsZero())
	during := register(f, "Practitioner During")
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	err := p.WaitFor(wctx, during.Position)
	cancel()
	assert.ErrorIs(t, err, ErrNotReady, "WaitFor says the models are stopped rather than wait for them")
	assert.Contains(t, logs.String(), "read models stopped")
	assert.Contains(t, logs.String(), errCut.Error())

	b.restore()
	waitReady(t, p)
	require.NoError(t, p.WaitFor(ctx, during.Position))
	assert.ElementsMatch(t, []string{"Practitioner Before", "Practitioner During"}, listed(t, p))
	assert.Contains(t, logs.String(), "read models running again")
	after := register(f, "Practitioner After")
	require.NoError(t, p.WaitFor(ctx, after.Position), "the new subscription is live")
	assert.Len(t, listed(t, p), 3)
}

// TestRunSurvivesAKurrentDBOutage: on KurrentDB the store's subscription
// gives up when the cluster has been out of reach for its RetryFor; the
// read models then subscribe again with backoff until the cluster is back,
// rather than freeze every list until a restart. Run against the protocol
// double, stopped for longer than RetryFor and restarted.
func TestRunSurvivesAKurrentDBOutage(t *testing.T) {
	srv, err := protocoldouble.Start(protocoldouble.Options{})
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	octx, ocancel := context.WithTimeout(t.Context(), time.Minute)
	defer ocancel()
	store, err := kurrentdb.Open(octx, srv.ConnectionString(), kurrentdb.Options{RetryFor: 300 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	f := newFixture(t, store)
	p, ctx, logs := startRetrying(t, store, f, 20*time.Millisecond)

	srv.Stop()
	require.Eventually(t, func() bool { return p.Failures() >= 2 }, 30*time.Second, 5*time.Millisecond,
		"the store's subscription gave up, and Run keeps trying")
	assert.ErrorIs(t, p.Ready(), ErrNotReady)
	assert.ErrorIs(t, p.Ready().(*NotReadyError).Cause, eventstore.ErrUnavailable)

	require.NoError(t, srv.Restart())
	during := register(f, "Practitioner After The Outage")
	waitReady(t, p)
	require.NoError(t, p.WaitFor(ctx, during.Position))
	assert.ElementsMatch(t, []string{"Practitioner Before", "Practitioner After The Outage"}, listed(t, p))
	assert.Contains(t, logs.String(), "read models running again")
}

// TestReadyWhenBehind: an event known to be stored (a server's own append,
// waited for) that the models have not folded in within BehindAfter makes
// Ready say they are behind; once they fold it in they are ready again.
func TestReadyWhenBehind(t *testing.T) {
	store := openStore(t, t.TempDir())
	f := newFixture(t, store)
	var mu sync.Mutex
	clock := time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	tick := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	p, err := New(store, Options{Today: func() domain.Date { return date("2030-03-01") }, Now: now, BehindAfter: time.Minute})
	require.NoError(t, err)
	ctx := runProjector(t, p)
	first := register(f, "Practitioner Before")
	require.NoError(t, p.WaitFor(ctx, first.Position))
	waitReady(t, p)

	// The next position is known to be stored (as a server knows its own
	// append) before the models have it.
	next := first.Position + 1
	short, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, p.WaitFor(short, next), context.Canceled)
	assert.NoError(t, p.Ready(), "not behind for long yet")
	tick(2 * time.Minute)
	var nr *NotReadyError
	require.ErrorAs(t, p.Ready(), &nr)
	assert.Equal(t, StateBehind, nr.State)
	assert.Equal(t, now().Add(-2*time.Minute), nr.Since)

	second := register(f, "Practitioner Next")
	require.Equal(t, next, second.Position)
	require.NoError(t, p.WaitFor(ctx, next))
	assert.NoError(t, p.Ready(), "caught up")
}

// TestSnapshotFailuresAreNotRetriedEveryBatch: a snapshot that cannot be
// written (a full disk, here a path that cannot be a file) is logged and
// tried again after SnapshotEvery more events, not on every batch after.
func TestSnapshotFailuresAreNotRetriedEveryBatch(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	f := newFixture(t, store)
	register(f, "Practitioner First")
	var logs logLines
	p, err := New(store, Options{Today: func() domain.Date { return date("2030-03-01") },
		SnapshotPath: filepath.Join(dir, "events.db", "models.snapshot"), SnapshotEvery: 3,
		RetryMin: time.Millisecond, Logf: logs.logf})
	require.NoError(t, err)
	ctx := runProjector(t, p)
	waitReady(t, p)
	snapshotLines := func() int {
		n := 0
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.HasPrefix(l, "projections: snapshot: ") {
				n++
			}
		}
		return n
	}
	before := snapshotLines()
	for i := range 12 {
		e := register(f, fmt.Sprintf("Practitioner %d", i))
		require.NoError(t, p.WaitFor(ctx, e.Position))
	}
	tries := snapshotLines() - before
	assert.Positive(t, tries, "the failure is logged")
	assert.LessOrEqual(t, tries, 4, "once per 3 events at most, not once per batch:\n%s", logs.String())
}
