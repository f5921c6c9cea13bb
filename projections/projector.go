package projections

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/keystore"
)

// Options configure a Projector. The zero value keeps the models in memory
// only and computes standings for the UTC date of the system clock.
type Options struct {
	// SnapshotPath is the file the models are persisted in, with their
	// checkpoint, so that a restart catches up from there instead of
	// replaying the whole store. Empty: no persistence.
	SnapshotPath string
	// SnapshotEvery is how many applied events trigger a new snapshot while
	// running (default 10,000). A snapshot is also written after a rebuild
	// and when Run returns.
	SnapshotEvery int
	// Today gives the date the models compute standings for until a query
	// asks for a later one (default: the UTC date of time.Now). Only the
	// projector's bookkeeping calls it; folds never read a clock.
	Today func() domain.Date
	// Workers is how many goroutines a rebuild folds streams with
	// (default GOMAXPROCS).
	Workers int
	// CachedFacts is how many decoded facts the projector keeps, so that a
	// stream re-folded or viewed again decodes only its new events
	// (default DefaultCachedFacts; negative: none).
	CachedFacts int
	// CachedViewBytes bounds the practitioner views kept rendered, so that
	// a view asked for again is answered without a fold (default
	// DefaultCachedViewBytes; negative: none). See PractitionerJSON.
	CachedViewBytes int64
	// Keys open practitioners' sealed personal data (nil: none opens; the
	// names read as unavailable). An erasure seen in the store rewrites
	// the snapshot at once, so the erased name leaves the file.
	Keys *keystore.Keys
	// Rulebooks are the rulebooks the models are folded with, and the
	// current one (default domain.NewRulebooks()). A snapshot folded under
	// another current version is not used: the models are rebuilt.
	Rulebooks *domain.Rulebooks
	// Logf, when set, receives notes a operator may want (a snapshot that
	// could not be used, say, or the subscription failing and coming back).
	// Nothing personal is ever logged.
	Logf func(format string, args ...any)
	// RetryMin and RetryMax bound Run's backoff when its subscription
	// fails: it subscribes again after about RetryMin, doubling each
	// failure in a row up to RetryMax (defaults DefaultRetryMin,
	// DefaultRetryMax). RetryMin is also how long a new subscription must
	// stand before the models count as recovered.
	RetryMin, RetryMax time.Duration
	// BehindAfter is how long an event known to be stored may wait to be
	// folded in before Ready says the models are behind
	// (default DefaultBehindAfter).
	BehindAfter time.Duration
	// Now is the clock of Run's bookkeeping (backoff, how long the models
	// have been stopped or behind); time.Now when nil. Folds never read it.
	Now func() time.Time
	// Waiting, when set, is called each time a caller of WaitFor,
	// WaitReady or WaitLoaded finds the models not there yet and is about
	// to block: a hook for tests that must hold the models until a query
	// waits for them, with no clock deciding the order. It must not block.
	Waiting func()
}

// Projector keeps the global read models current: it subscribes to the
// store from the models' checkpoint and folds each new event in, persists the
// models with their checkpoint, and rebuilds them beside the served ones when
// asked. It embeds the Views that fold one stream on demand. Safe for
// concurrent use; Run must be called at most once at a time.
type Projector struct {
	*Views
	store eventstore.Store
	opts  Options

	// cur is the models being served; an online rebuild swaps it whole.
	cur atomic.Pointer[models]
	// applyMu serialises every writer of the models: the subscription's
	// batches, date advances, snapshots and the rebuild's final catch-up.
	applyMu   sync.Mutex
	scratch   foldScratch  // folds under applyMu, keeping recent states
	sinceSnap atomic.Int64 // events applied since the last snapshot

	seen     atomic.Uint64 // highest position the subscription delivered
	failures atomic.Uint64 // runs of the subscription that ended in an error
	notifyMu sync.Mutex
	notify   chan struct{} // closed and replaced whenever the checkpoint or state moves
	state    runState      // where Run is; see readiness.go
	behind   behindMark    // how long a known event has waited
}

// New returns a Projector over store. When opts.SnapshotPath holds a
// snapshot of this projection and rulebook version, the models are loaded
// from it and Run only catches up from its checkpoint; otherwise Run starts
// with a full rebuild.
func New(store eventstore.Store, opts Options) (*Projector, error) {
	if opts.SnapshotEvery <= 0 {
		opts.SnapshotEvery = 10_000
	}
	if opts.Today == nil {
		opts.Today = func() domain.Date { return domain.DateOf(time.Now().UTC()) }
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.CachedFacts == 0 {
		opts.CachedFacts = DefaultCachedFacts
	}
	if opts.CachedViewBytes == 0 {
		opts.CachedViewBytes = DefaultCachedViewBytes
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = DefaultRetryMin
	}
	if opts.RetryMax < opts.RetryMin {
		opts.RetryMax = max(DefaultRetryMax, opts.RetryMin)
	}
	if opts.BehindAfter <= 0 {
		opts.BehindAfter = DefaultBehindAfter
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p := &Projector{Views: newViews(store, opts.CachedFacts, opts.Keys, opts.Rulebooks), store: store, opts: opts, notify: make(chan struct{})}
	p.scratch.kept = newKeptFolds(keptFoldFacts)
	if opts.SnapshotPath != "" {
		m, err := loadSnapshot(context.Background(), store, p.rules, opts.SnapshotPath)
		switch {
		case err == nil:
			p.cur.Store(m)
			p.seen.Store(uint64(m.pos))
		case errors.Is(err, errNoSnapshot):
		default:
			// A snapshot that cannot be used is never an answer: rebuild.
			p.logf("projections: snapshot not used, rebuilding: %v", err)
		}
	}
	return p, nil
}

func (p *Projector) logf(format string, args ...any) {
	if p.opts.Logf != nil {
		p.opts.Logf(format, args...)
	}
}

// Loaded reports whether the projector holds models (from a snapshot or a
// rebuild) and so can answer list queries before Run has caught up.
func (p *Projector) Loaded() bool { return p.cur.Load() != nil }

// WaitLoaded blocks until the projector holds models (see Loaded), or ctx
// is done, or Run has stopped on an error (which WaitLoaded then returns).
func (p *Projector) WaitLoaded(ctx context.Context) error {
	return p.waitUntil(ctx, p.Loaded)
}

// Checkpoint returns the position of the last event the served models
// include (Start before any).
func (p *Projector) Checkpoint() eventstore.Position {
	if m := p.cur.Load(); m != nil {
		m.mu.RLock()
		defer m.mu.RUnlock()
		return m.pos
	}
	return eventstore.Start
}

// Lag returns how far, in positions, the served models trail the newest
// position known to be in the store (delivered by the subscription, or
// waited for by WaitFor): zero when caught up.
func (p *Projector) Lag() uint64 {
	seen, cp := p.seen.Load(), uint64(p.Checkpoint())
	if seen <= cp {
		return 0
	}
	return seen - cp
}

// WaitFor blocks until the served models include the event at pos (so a
// client reads its own write after an append), or ctx is done, or Run has
// stopped on an error (which WaitFor then returns, wrapped).
func (p *Projector) WaitFor(ctx context.Context, pos eventstore.Position) error {
	// Whoever waits for pos knows the store holds it: count it in Lag.
	p.bumpSeen(pos)
	return p.waitUntil(ctx, func() bool { return p.Checkpoint() >= pos })
}

// waitUntil blocks until done reports true, or ctx is done, or Run has
// stopped on an error. done is asked again each time the models move.
func (p *Projector) waitUntil(ctx context.Context, done func() bool) error {
	for {
		p.notifyMu.Lock()
		ch := p.notify
		p.notifyMu.Unlock()
		if done() {
			return nil
		}
		if err := p.failed(); err != nil {
			return err
		}
		if p.opts.Waiting != nil {
			p.opts.Waiting()
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// failed returns why the models are not moving: a *NotReadyError while Run
// waits to subscribe again after a failure (or has, but the store has not
// answered yet), Run's error once it has returned on one; nil while it
// runs or after a clean stop.
func (p *Projector) failed() error {
	p.notifyMu.Lock()
	st := p.state
	p.notifyMu.Unlock()
	switch {
	case st.phase == phaseStopped:
		return &NotReadyError{State: StateStopped, Since: st.since, Failures: st.failures, Cause: st.err}
	case st.phase == phaseRecovering && !st.checked:
		// Subscribed again, but the store has not answered yet (on
		// KurrentDB that can take the client's whole RetryFor): nothing
		// to wait for yet.
		return &NotReadyError{State: StateRecovering, Since: st.since, Failures: st.failures, Cause: st.err}
	case st.phase == phaseIdle && st.err != nil:
		return fmt.Errorf("projections: projector stopped: %w", st.err)
	}
	return nil
}

// moved wakes every waiter: the checkpoint or Run's state has changed.
func (p *Projector) moved() {
	cp := p.Checkpoint()
	p.notifyMu.Lock()
	close(p.notify)
	p.notify = make(chan struct{})
	note := p.caughtUp(cp)
	p.notifyMu.Unlock()
	if note != "" {
		p.logf("%s", note)
	}
}

// Organisations returns the organisations of the served models as the
// domain's lookup: each folded from everything recorded in its stream. The
// values returned are never modified afterwards (a change replaces them), so
// they are safe to read concurrently. Before the models are loaded every
// lookup returns nil.
func (p *Projector) Organisations() domain.Organisations { return orgLookup{p} }

type orgLookup struct{ p *Projector }

func (l orgLookup) Organisation(id uuid.UUID) *domain.Organisation {
	m := l.p.cur.Load()
	if m == nil {
		return nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.orgs[id]
}

// Run keeps the models current until ctx is done (returning ctx.Err()) or
// the store is closed (returning eventstore.ErrClosed). Without loaded
// models it first rebuilds them from the whole store. It writes a snapshot
// every SnapshotEvery events when idle, and once more whenever a run of the
// subscription ends.
//
// Anything else that ends a run (the subscription fails, a KurrentDB
// cluster is out of reach for longer than the store retries, an event
// cannot be folded) is logged, counted (Failures) and met by subscribing
// again from the checkpoint after a backoff: about RetryMin, doubling with
// each failure in a row up to RetryMax, for as long as ctx lasts.
// Meanwhile Ready says the models are stopped and WaitFor returns at once
// with the failure, so that no query is answered from models that have
// stopped moving. Ready says they are ready again once, subscribed anew,
// they have caught up with what the store held when they resubscribed.
func (p *Projector) Run(ctx context.Context) error {
	p.starting()
	wait := p.opts.RetryMin
	failures := 0
	for {
		live, err := p.runOnce(ctx)
		switch {
		case ctx.Err() != nil:
			p.idle(nil)
			return ctx.Err()
		case errors.Is(err, eventstore.ErrClosed):
			p.logf("projections: read models stopped for good: the store is closed")
			p.idle(err)
			return err
		case err == nil:
			err = errors.New("the subscription ended without an error")
		}
		if live {
			wait, failures = p.opts.RetryMin, 0
		}
		failures++
		n := p.failures.Add(1)
		d := backoff(wait)
		p.stopped(err, failures, d)
		p.logf("projections: read models stopped (failure %d in a row, %d in all): %v; subscribing again in %s",
			failures, n, err, d.Round(time.Millisecond))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			p.idle(nil)
			return ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, p.opts.RetryMax)
	}
}

// runOnce is one run of the subscription: rebuild the models if there are
// none, bring them to today, subscribe from their checkpoint and fold what
// comes until something ends it. live reports that the run got as far as
// checking the store after subscribing (see checked).
func (p *Projector) runOnce(ctx context.Context) (live bool, err error) {
	if p.cur.Load() == nil {
		if err := p.Rebuild(ctx, nil); err != nil {
			return false, err
		}
	}
	// A snapshot may be days old: bring it to today now rather than on the
	// first query.
	if err := p.advance(ctx, p.cur.Load(), dayOf(p.opts.Today())); err != nil {
		return false, err
	}
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan eventstore.RecordedEvent, 4096)
	subErr := make(chan error, 1)
	from := p.Checkpoint()
	go func() {
		subErr <- p.store.Subscribe(subCtx, from, func(e eventstore.RecordedEvent) error {
			select {
			case ch <- e:
				return nil
			case <-subCtx.Done():
				return subCtx.Err()
			}
		})
	}()
	p.resubscribed()
	checkedCh := make(chan checkResult, 1)
	go func() { checkedCh <- p.check(subCtx) }()
	finish := func(err error) (bool, error) {
		cancel()
		if serr := p.snapshotIfDirty(); serr != nil && err == nil {
			err = serr
		}
		return live, err
	}
	batch := make([]eventstore.RecordedEvent, 0, 4096)
	snapAt := int64(p.opts.SnapshotEvery) // events since the last snapshot that call for the next
	for {
		select {
		case <-ctx.Done():
			return finish(ctx.Err())
		case err := <-subErr:
			if err == nil {
				err = eventstore.ErrClosed
			}
			return finish(err)
		case r := <-checkedCh:
			if r.err != nil {
				return finish(r.err)
			}
			live = true
			p.checked(r.first)
		case e := <-ch:
			batch = append(batch[:0], e)
		drain:
			for len(batch) < cap(batch) {
				select {
				case e := <-ch:
					batch = append(batch, e)
				default:
					break drain
				}
			}
			p.bumpSeen(batch[len(batch)-1].Position)
			if err := p.applyBatch(ctx, batch); err != nil {
				return finish(err)
			}
			if p.sinceSnap.Load() >= snapAt && len(ch) == 0 {
				snapAt = int64(p.opts.SnapshotEvery)
				if err := p.Snapshot(); err != nil {
					// A full disk, say: try again after as many events
					// again, not on every batch (nor log each).
					snapAt = p.sinceSnap.Load() + int64(p.opts.SnapshotEvery)
					p.logf("projections: snapshot: %v (trying again after %d more events)", err, p.opts.SnapshotEvery)
				}
			}
		}
	}
}

// checkResult is what check found.
type checkResult struct {
	first eventstore.Position
	err   error
}

// check looks at the store once a new subscription has stood for
// RetryMin (at once on Run's first): the first position after the
// models' checkpoint (Start if none), which the models must reach to count
// as caught up, or the error that shows the store is still out of reach
// (a subscription that keeps retrying inside the store says nothing).
func (p *Projector) check(ctx context.Context) checkResult {
	p.notifyMu.Lock()
	recovering := p.state.phase == phaseRecovering
	p.notifyMu.Unlock()
	if recovering {
		t := time.NewTimer(p.opts.RetryMin)
		select {
		case <-ctx.Done():
			t.Stop()
			return checkResult{err: ctx.Err()}
		case <-t.C:
		}
	}
	for e, err := range p.store.ReadAll(ctx, p.Checkpoint()) {
		if err != nil {
			return checkResult{err: fmt.Errorf("projections: checking the store after subscribing: %w", err)}
		}
		return checkResult{first: e.Position}
	}
	return checkResult{}
}

func (p *Projector) bumpSeen(pos eventstore.Position) {
	for {
		old := p.seen.Load()
		if uint64(pos) <= old {
			return
		}
		if p.seen.CompareAndSwap(old, uint64(pos)) {
			p.markBehind(pos)
			return
		}
	}
}

// applyBatch folds a batch of new events into the served models.
func (p *Projector) applyBatch(ctx context.Context, batch []eventstore.RecordedEvent) error {
	p.applyMu.Lock()
	defer p.applyMu.Unlock()
	m := p.cur.Load()
	from := m.pos
	if erasedIn(batch, from) {
		// Another process sharing the key file may have done it: learn
		// of the deleted key before the re-fold.
		if err := p.keys.Reload(); err != nil {
			return fmt.Errorf("projections: key store: %w", err)
		}
	}
	n, err := p.applyTo(ctx, m, batch, &p.scratch)
	if err != nil {
		return err
	}
	p.sinceSnap.Add(int64(n))
	if erasedIn(batch, from) && p.opts.SnapshotPath != "" {
		// The snapshot on disk holds the erased name: replace it now,
		// before anyone is told the erasure is in the models.
		if err := p.snapshotLocked(); err != nil {
			return fmt.Errorf("projections: snapshot after an erasure: %w", err)
		}
	}
	p.moved()
	return nil
}

// erasedIn reports whether batch holds an erasure after position from.
func erasedIn(batch []eventstore.RecordedEvent, from eventstore.Position) bool {
	for i := range batch {
		if batch[i].Type == domain.TypePersonalDataErased && batch[i].Position > from {
			return true
		}
	}
	return false
}

// applyTo folds events into m: every stream they touch is re-folded once
// (streams are short), from the decoded facts cached for it plus the
// batch's new events, or else re-read whole; organisations first so that the
// practitioners who name them are evaluated against their new state, then
// the checkpoint moves to the last event. Events at or before m's checkpoint
// are skipped, so a batch that overlaps what m already holds is harmless.
// Callers hold applyMu, or own m (an online rebuild's first catch-up); sc
// is the caller's own.
func (p *Projector) applyTo(ctx context.Context, m *models, batch []eventstore.RecordedEvent, sc *foldScratch) (int, error) {
	var orgIDs, pracIDs []uuid.UUID
	var pracStreams []string // pracIDs' streams
	seenStream := make(map[string]bool)
	fresh := make(map[string][]eventstore.RecordedEvent)
	n := 0
	last := m.pos
	for i, e := range batch {
		if e.Position <= m.pos {
			continue
		}
		n++
		last = e.Position
		if f, ok := fresh[e.Stream]; ok {
			fresh[e.Stream] = append(f, e)
		} else {
			// Most batches bring one event per stream: no copy. Capped,
			// so a second one is appended to a copy.
			fresh[e.Stream] = batch[i : i+1 : i+1]
		}
		if seenStream[e.Stream] {
			continue
		}
		seenStream[e.Stream] = true
		kind, id, ok := streamKind(e.Stream)
		switch {
		case !ok:
			// a stream of no ledger shape holds nothing the models show
		case kind == 'o':
			orgIDs = append(orgIDs, id)
		default:
			pracIDs = append(pracIDs, id)
			pracStreams = append(pracStreams, e.Stream)
		}
	}
	if n == 0 {
		return 0, nil
	}
	on := m.date.date()

	// Only writers touch m.orgs and they hold applyMu, so it is read here
	// without m.mu; changed organisations go into a copy until the swap-in.
	orgs := m.orgs
	if len(orgIDs) > 0 {
		orgs = maps.Clone(m.orgs)
	}
	type orgResult struct {
		o  *domain.Organisation
		ds []decisionRec
		rs []reviewRec
	}
	orgResults := make([]orgResult, 0, len(orgIDs))
	for _, id := range orgIDs {
		sf, err := p.streamFacts(ctx, OrganisationStream(id), fresh)
		if err != nil {
			return 0, err
		}
		o, ds, rs, err := p.rules.organisation(id, sf)
		if err != nil {
			return 0, err
		}
		orgs[id] = o
		orgResults = append(orgResults, orgResult{o, ds, rs})
	}
	// Practitioners who name a changed organisation are re-evaluated too.
	if len(orgIDs) > 0 {
		m.mu.RLock()
		for _, o := range orgIDs {
			for pid := range m.refs[o] {
				if stream := PractitionerStream(pid); !seenStream[stream] {
					seenStream[stream] = true
					pracIDs = append(pracIDs, pid)
					pracStreams = append(pracStreams, stream)
				}
			}
		}
		m.mu.RUnlock()
	}
	pracResults, err := p.practitionersWith(ctx, sc, pracIDs, pracStreams, fresh, orgs, on)
	if err != nil {
		return 0, err
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range orgResults {
		m.orgs[r.o.ID] = r.o
		m.putStreamRecords(OrganisationStream(r.o.ID), r.ds, r.rs)
	}
	for _, r := range pracResults {
		m.putPractitioner(r.s)
		m.putStreamRecords(r.stream, r.ds, r.rs)
	}
	m.pos = last
	return n, nil
}

// pracResult is one practitioner re-folded, from stream.
type pracResult struct {
	stream string
	s      *summary
	ds     []decisionRec
	rs     []reviewRec
}

// practitioners re-reads and re-folds each practitioner on date on.
// Callers hold applyMu.
func (p *Projector) practitioners(ctx context.Context, ids []uuid.UUID, orgs domain.OrganisationSet, on domain.Date) ([]pracResult, error) {
	return p.practitionersWith(ctx, &p.scratch, ids, nil, nil, orgs, on)
}

// practitionersWith is practitioners for a batch whose new events, by
// stream, are fresh, with ids' stream names in streams (nil: named here),
// folding in sc.
func (p *Projector) practitionersWith(ctx context.Context, sc *foldScratch, ids []uuid.UUID, streams []string, fresh map[string][]eventstore.RecordedEvent, orgs domain.OrganisationSet, on domain.Date) ([]pracResult, error) {
	out := make([]pracResult, 0, len(ids))
	for i, id := range ids {
		// The re-folds are background work: between practitioners, any
		// goroutine waiting for the CPU goes first. On a small machine the
		// store's writer, back from its fsync with a commit to finish, is
		// otherwise kept waiting (HTTP appends: 9,100-9,350 -> 9,380-9,500
		// a second, 2 vCPU, BenchmarkHTTPAppend8 A/B, three pairs).
		runtime.Gosched()
		var stream string
		if streams != nil {
			stream = streams[i]
		} else {
			stream = PractitionerStream(id)
		}
		sf, err := p.streamFacts(ctx, stream, fresh)
		if isNotFound(err) {
			continue // an organisation named someone never registered
		}
		if err != nil {
			return nil, err
		}
		s, ds, rs, err := p.rules.practitioner(sc, id, stream, sf, orgs, on)
		if err != nil {
			return nil, err
		}
		out = append(out, pracResult{stream, s, ds, rs})
	}
	return out, nil
}

// streamFacts decodes stream for a re-fold: the cached facts plus its new
// events in fresh when the cache reaches them, else the stream read whole
// (decoding only what the cache does not hold).
func (p *Projector) streamFacts(ctx context.Context, stream string, fresh map[string][]eventstore.RecordedEvent) (*streamFacts, error) {
	sf, ok, err := p.extend(stream, fresh[stream])
	if err != nil {
		return nil, fmt.Errorf("projections: %s: %w", stream, err)
	}
	if ok {
		return sf, nil
	}
	events, err := p.store.ReadStream(ctx, stream, eventstore.ReadOptions{})
	if err != nil {
		return nil, fmt.Errorf("projections: read %s: %w", stream, err)
	}
	if sf, err = p.decode(stream, events, domain.Date{}); err != nil {
		return nil, fmt.Errorf("projections: %s: %w", stream, err)
	}
	return sf, nil
}
