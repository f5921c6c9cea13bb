package bolt

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/storetest"
)

// openAt opens a store at path that is closed when t ends.
func openAt(t *testing.T, path string, opts Options, hooks *testHooks) *Store {
	t.Helper()
	s, err := open(path, opts, hooks)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// openTemp opens a fresh store in a temporary directory.
func openTemp(t *testing.T, opts Options, hooks *testHooks) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	return openAt(t, path, opts, hooks), path
}

func events(n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = storetest.Event("CourseCompleted")
	}
	return out
}

func readAllOf(t *testing.T, s *Store) []eventstore.RecordedEvent {
	t.Helper()
	var out []eventstore.RecordedEvent
	for e, err := range s.ReadAll(t.Context(), eventstore.Start) {
		require.NoError(t, err)
		out = append(out, e)
	}
	return out
}

// gate holds the writer before its commits until released, so that a test
// can queue several appends and know they share one commit.
type gate struct {
	queued  chan int
	held    chan int // receives the batch size of each held commit
	release chan struct{}
	fail    error
}

func newGate() *gate {
	return &gate{queued: make(chan int, 1024), held: make(chan int, 16), release: make(chan struct{})}
}

func (g *gate) hooks() *testHooks {
	return &testHooks{
		queued: func(n int) { g.queued <- n },
		beforeCommit: func(n int) error {
			g.held <- n
			<-g.release
			return g.fail
		},
	}
}

type outcome struct {
	res eventstore.AppendResult
	err error
}

// appendAsync starts an append and returns where its outcome will arrive.
func appendAsync(ctx context.Context, s *Store, stream string, exp eventstore.ExpectedRevision, evs ...eventstore.EventData) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		res, err := s.Append(ctx, stream, exp, evs...)
		ch <- outcome{res, err}
	}()
	return ch
}

func TestGroupCommitSharesOneTransaction(t *testing.T) {
	g := newGate()
	s, _ := openTemp(t, Options{}, g.hooks())
	ctx := t.Context()

	// The first append's commit is held; everything queued meanwhile must go
	// into the next commit together.
	first := appendAsync(ctx, s, "practitioner-0", eventstore.NoStream(), storetest.Event("PractitionerRegistered"))
	<-g.queued
	assert.Equal(t, 1, <-g.held)

	const writers = 20
	outs := make([]<-chan outcome, writers)
	for i := range writers {
		outs[i] = appendAsync(ctx, s, fmt.Sprintf("practitioner-%d", i+1), eventstore.NoStream(), events(1+i%3)...)
	}
	for range writers {
		<-g.queued
	}
	g.release <- struct{}{}
	require.NoError(t, (<-first).err)
	assert.Equal(t, writers, <-g.held, "every append queued during a commit shares the next one")
	close(g.release)

	seen := map[eventstore.Position]bool{}
	for i, ch := range outs {
		o := <-ch
		require.NoError(t, o.err)
		assert.Equal(t, uint64(0), o.res.FirstRevision)
		assert.Equal(t, uint64(i%3), o.res.LastRevision)
		for p := o.res.FirstPosition; p <= o.res.LastPosition; p++ {
			assert.False(t, seen[p], "position %d given twice", p)
			seen[p] = true
		}
	}
	all := readAllOf(t, s)
	require.Len(t, all, 1+len(seen))
	for i, e := range all {
		assert.Equal(t, eventstore.Position(i+1), e.Position, "positions are contiguous from 1")
	}
}

// gatherStore is a store with no file and no writer, whose queue the test
// fills by hand, for driving the writer's gathering directly.
func gatherStore(wait time.Duration) (*Store, chan [2]int) {
	held := make(chan [2]int, 16)
	s := &Store{
		wake:  make(chan struct{}, 1),
		opts:  Options{GroupCommitWait: wait},
		hooks: &testHooks{gathering: func(queued, target int) { held <- [2]int{queued, target} }},
	}
	return s, held
}

// queueOne puts a request in s's queue as Append does.
func queueOne(s *Store) {
	s.mu.Lock()
	s.queue = append(s.queue, &appendRequest{})
	s.mu.Unlock()
	s.signal()
}

// startGather runs one gather after a commit of answered requests and
// returns a channel closed when the round may start.
func startGather(s *Store, answered int) <-chan struct{} {
	g := &gatherer{timer: time.NewTimer(time.Hour)}
	g.timer.Stop()
	g.committed(s, answered, time.Millisecond)
	done := make(chan struct{})
	go func() {
		s.gather(g)
		close(done)
	}()
	return done
}

func TestGatherWaitsForTheAnswered(t *testing.T) {
	s, held := gatherStore(time.Hour)
	done := startGather(s, 2) // two appenders were just answered
	queueOne(s)               // one is back
	assert.Equal(t, [2]int{1, 2}, <-held, "the round is held open with one queued")
	select {
	case <-done:
		t.Fatal("the round started without the second")
	default:
	}
	queueOne(s) // the other is back
	<-done
}

func TestGatherCountsThoseQueuedDuringTheCommit(t *testing.T) {
	s, held := gatherStore(time.Hour)
	queueOne(s) // queued while the commit of 2 ran
	done := startGather(s, 2)
	queueOne(s) // one of the 2 answered is back
	// The gatherer reports each time it holds the round; it may hold it
	// with 1 queued first, if it runs before the second queueOne.
	for queued := 0; queued < 2; {
		select {
		case h := <-held:
			assert.Equal(t, 3, h[1], "the target is the 2 answered and the 1 queued during the commit")
			queued = h[0]
		case <-done:
			t.Fatal("the round started with fewer than 3 queued")
		}
	}
	queueOne(s)
	<-done
}

func TestGatherIsBounded(t *testing.T) {
	s, _ := gatherStore(5 * time.Millisecond)
	done := startGather(s, 2)
	queueOne(s) // the other never comes back
	<-done      // the round starts once the wait has passed
}

func TestGatherNeverHoldsALoneAppender(t *testing.T) {
	for name, wait := range map[string]time.Duration{"default": 0, "never": -1} {
		t.Run(name, func(t *testing.T) {
			s, held := gatherStore(wait)
			done := startGather(s, 1)
			<-done // no wait at all: gather returns before anyone queues
			assert.Empty(t, held)
		})
	}
	t.Run("negative wait, many answered", func(t *testing.T) {
		s, held := gatherStore(-1)
		<-startGather(s, 8)
		assert.Empty(t, held)
	})
}

func TestGatherEndsWhenClosing(t *testing.T) {
	s, held := gatherStore(time.Hour)
	done := startGather(s, 2)
	queueOne(s)
	<-held
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.signal()
	<-done
}

func TestBatchRefusalsDoNotAffectOthers(t *testing.T) {
	g := newGate()
	s, _ := openTemp(t, Options{}, g.hooks())
	ctx := t.Context()

	// Commit a first event, then queue a batch of appends that refer to it
	// and to each other while the writer is held.
	stored := storetest.Event("PractitionerRegistered")
	first := appendAsync(ctx, s, "practitioner-1", eventstore.NoStream(), stored)
	<-g.queued
	<-g.held
	g.release <- struct{}{}
	r0 := <-first
	require.NoError(t, r0.err)

	blocker := appendAsync(ctx, s, "practitioner-9", eventstore.Any(), storetest.Event("CourseCompleted"))
	<-g.queued
	<-g.held // the writer is now inside a commit: the next appends queue up

	inBatch := storetest.Event("CourseCompleted")
	changed := stored
	changed.Data = []byte(`{"changed":true}`)
	later := storetest.Event("CourseCompleted")
	cases := []struct {
		name   string
		stream string
		exp    eventstore.ExpectedRevision
		evs    []eventstore.EventData
		check  func(t *testing.T, o outcome)
	}{
		{"accepted", "practitioner-1", eventstore.Exact(0), []eventstore.EventData{inBatch}, func(t *testing.T, o outcome) {
			require.NoError(t, o.err)
			assert.Equal(t, uint64(1), o.res.FirstRevision)
		}},
		{"conflict with the append before it in the batch", "practitioner-1", eventstore.Exact(0), events(2), func(t *testing.T, o outcome) {
			var c *eventstore.RevisionConflictError
			require.ErrorAs(t, o.err, &c)
			assert.Equal(t, uint64(1), c.Current)
			assert.True(t, c.Exists)
		}},
		{"retry of the append before it in the batch", "practitioner-1", eventstore.NoStream(), []eventstore.EventData{inBatch}, func(t *testing.T, o outcome) {
			require.NoError(t, o.err)
			assert.Equal(t, uint64(1), o.res.FirstRevision)
			assert.Equal(t, uint64(1), o.res.LastRevision)
		}},
		{"mismatched retry", "practitioner-1", eventstore.Any(), []eventstore.EventData{changed}, func(t *testing.T, o outcome) {
			assert.ErrorIs(t, o.err, eventstore.ErrIdempotencyMismatch)
		}},
		{"recorded time before the stream's last", "practitioner-1", eventstore.Any(), []eventstore.EventData{func() eventstore.EventData {
			e := storetest.Event("CourseCompleted")
			e.RecordedAt = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
			return e
		}()}, func(t *testing.T, o outcome) {
			assert.ErrorIs(t, o.err, eventstore.ErrInvalidEvent)
		}},
		{"accepted after the refusals", "practitioner-1", eventstore.Exact(1), []eventstore.EventData{later}, func(t *testing.T, o outcome) {
			require.NoError(t, o.err)
			assert.Equal(t, uint64(2), o.res.FirstRevision)
		}},
		{"new stream in the same batch", "practitioner-2", eventstore.NoStream(), events(3), func(t *testing.T, o outcome) {
			require.NoError(t, o.err)
			assert.Equal(t, uint64(2), o.res.LastRevision)
		}},
	}
	outs := make([]<-chan outcome, len(cases))
	for i, tc := range cases {
		outs[i] = appendAsync(ctx, s, tc.stream, tc.exp, tc.evs...)
		<-g.queued // queue them in order, so the batch applies them in order
	}
	g.release <- struct{}{}
	require.NoError(t, (<-blocker).err)
	assert.Equal(t, len(cases), <-g.held)
	close(g.release)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, <-outs[i]) })
	}

	got, err := s.ReadStream(ctx, "practitioner-1", eventstore.ReadOptions{})
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, []uuid.UUID{stored.ID, inBatch.ID, later.ID}, []uuid.UUID{got[0].ID, got[1].ID, got[2].ID})
	rep, err := eventstore.Verify(ctx, s)
	require.NoError(t, err)
	assert.True(t, rep.OK, "%+v", rep.FirstFailure)
	assert.Equal(t, 7, rep.EventsChecked)
}

func TestFailedCommitStoresNothingAndForgetsItsState(t *testing.T) {
	g := newGate()
	s, path := openTemp(t, Options{}, g.hooks())
	ctx := t.Context()

	a := appendAsync(ctx, s, "practitioner-1", eventstore.NoStream(), storetest.Event("PractitionerRegistered"))
	<-g.queued
	<-g.held
	g.release <- struct{}{}
	require.NoError(t, (<-a).err)

	// Hold the next commit, queue a batch behind it, then fail that batch.
	blocker := appendAsync(ctx, s, "practitioner-9", eventstore.Any(), storetest.Event("CourseCompleted"))
	<-g.queued
	<-g.held
	lost := storetest.Event("CourseCompleted")
	doomed := []<-chan outcome{
		appendAsync(ctx, s, "practitioner-1", eventstore.Exact(0), lost),
		appendAsync(ctx, s, "practitioner-2", eventstore.NoStream(), events(2)...),
	}
	<-g.queued
	<-g.queued
	retryOfLost := appendAsync(ctx, s, "practitioner-1", eventstore.Any(), lost)
	<-g.queued
	conflict := appendAsync(ctx, s, "practitioner-1", eventstore.NoStream(), storetest.Event("CourseCompleted"))
	<-g.queued
	g.release <- struct{}{}
	require.NoError(t, (<-blocker).err)
	<-g.held
	g.fail = errors.New("disk on fire")
	g.release <- struct{}{}
	for _, ch := range doomed {
		o := <-ch
		assert.ErrorContains(t, o.err, "disk on fire")
		assert.Equal(t, eventstore.AppendResult{}, o.res)
	}
	o := <-retryOfLost
	assert.ErrorContains(t, o.err, "disk on fire", "a retry that matched an event of the lost commit is not acknowledged")
	assert.ErrorIs(t, (<-conflict).err, eventstore.ErrRevisionConflict, "a refusal keeps its own error")

	// The next commit starts from the file, not from the lost batch.
	g.fail = nil
	close(g.release)
	res, err := s.Append(ctx, "practitioner-1", eventstore.Exact(0), lost)
	require.NoError(t, err)
	assert.Equal(t, eventstore.AppendResult{FirstRevision: 1, LastRevision: 1, FirstPosition: 3, LastPosition: 3}, res)
	_, err = s.ReadStream(ctx, "practitioner-2", eventstore.ReadOptions{})
	assert.ErrorIs(t, err, eventstore.ErrStreamNotFound)

	require.NoError(t, s.Close())
	s2 := openAt(t, path, Options{}, nil)
	all := readAllOf(t, s2)
	require.Len(t, all, 3)
	rep, err := eventstore.Verify(ctx, s2)
	require.NoError(t, err)
	assert.True(t, rep.OK)
}

func TestFailedWriteTakesOutOnlyThatAppend(t *testing.T) {
	g := newGate()
	h := g.hooks()
	h.write = func(stream string) error {
		if stream == "practitioner-bad" {
			return errors.New("write refused")
		}
		return nil
	}
	s, _ := openTemp(t, Options{}, h)
	ctx := t.Context()

	blocker := appendAsync(ctx, s, "practitioner-0", eventstore.Any(), storetest.Event("CourseCompleted"))
	<-g.queued
	<-g.held
	good1 := appendAsync(ctx, s, "practitioner-1", eventstore.Any(), events(2)...)
	<-g.queued
	bad := appendAsync(ctx, s, "practitioner-bad", eventstore.Any(), events(3)...)
	<-g.queued
	good2 := appendAsync(ctx, s, "practitioner-2", eventstore.Any(), events(1)...)
	<-g.queued
	close(g.release)
	require.NoError(t, (<-blocker).err)

	assert.ErrorContains(t, (<-bad).err, "write refused")
	o1, o2 := <-good1, <-good2
	require.NoError(t, o1.err)
	require.NoError(t, o2.err)
	assert.Equal(t, eventstore.Position(2), o1.res.FirstPosition)
	assert.Equal(t, eventstore.Position(4), o2.res.FirstPosition, "positions stay contiguous around the failed append")
	_, err := s.ReadStream(ctx, "practitioner-bad", eventstore.ReadOptions{})
	assert.ErrorIs(t, err, eventstore.ErrStreamNotFound)
	assert.Len(t, readAllOf(t, s), 4)
}

func TestCancelledWhileQueuedStoresNothing(t *testing.T) {
	g := newGate()
	s, _ := openTemp(t, Options{}, g.hooks())
	blocker := appendAsync(t.Context(), s, "practitioner-0", eventstore.Any(), storetest.Event("CourseCompleted"))
	<-g.queued
	<-g.held
	ctx, cancel := context.WithCancel(t.Context())
	queued := appendAsync(ctx, s, "practitioner-1", eventstore.Any(), storetest.Event("CourseCompleted"))
	<-g.queued
	cancel()
	close(g.release)
	require.NoError(t, (<-blocker).err)
	assert.ErrorIs(t, (<-queued).err, context.Canceled)
	assert.Len(t, readAllOf(t, s), 1)
}

func TestConcurrentAppendsUnderRace(t *testing.T) {
	s, path := openTemp(t, Options{}, nil)
	ctx := t.Context()
	const writers, perWriter = 16, 20
	var wg sync.WaitGroup
	results := make(chan eventstore.AppendResult, writers*perWriter)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				// Writers share streams, so batches mix appends to one stream.
				res, err := s.Append(ctx, fmt.Sprintf("practitioner-%d", (w+i)%5), eventstore.Any(), events(1+i%2)...)
				if !assert.NoError(t, err) {
					return
				}
				results <- res
			}
		})
	}
	wg.Wait()
	close(results)
	total := 0
	for r := range results {
		total += int(r.LastPosition-r.FirstPosition) + 1
	}
	require.NoError(t, s.Close())

	s2 := openAt(t, path, Options{}, nil)
	all := readAllOf(t, s2)
	require.Len(t, all, total)
	for i, e := range all {
		require.Equal(t, eventstore.Position(i+1), e.Position)
	}
	rep, err := eventstore.Verify(ctx, s2)
	require.NoError(t, err)
	assert.True(t, rep.OK, "%+v", rep.FirstFailure)
	assert.Equal(t, total, rep.EventsChecked)
}

func TestIdempotentRetries(t *testing.T) {
	s, _ := openTemp(t, Options{}, nil)
	ctx := t.Context()
	batch := events(3)
	orig, err := s.Append(ctx, "practitioner-1", eventstore.NoStream(), batch...)
	require.NoError(t, err)
	_, err = s.Append(ctx, "practitioner-1", eventstore.Any(), events(2)...)
	require.NoError(t, err)
	before := readAllOf(t, s)

	zeroSV := batch[1]
	zeroSV.SchemaVersion = 0 // stored as 1, so the same event
	cases := []struct {
		name    string
		stream  string
		evs     []eventstore.EventData
		want    eventstore.AppendResult
		wantErr error
		grows   int
	}{
		{"whole batch with a stale expectation", "practitioner-1", batch, orig, nil, 0},
		{"a prefix of the batch", "practitioner-1", batch[:2], eventstore.AppendResult{FirstRevision: 0, LastRevision: 1, FirstPosition: 1, LastPosition: 2}, nil, 0},
		{"from the middle of the batch", "practitioner-1", []eventstore.EventData{zeroSV, batch[2]}, eventstore.AppendResult{FirstRevision: 1, LastRevision: 2, FirstPosition: 2, LastPosition: 3}, nil, 0},
		{"in a different order", "practitioner-1", []eventstore.EventData{batch[1], batch[0]}, eventstore.AppendResult{}, eventstore.ErrIdempotencyMismatch, 0},
		{"with a new event after the stored ones", "practitioner-1", append(append([]eventstore.EventData{}, batch...), storetest.Event("CourseCompleted")), eventstore.AppendResult{}, eventstore.ErrIdempotencyMismatch, 0},
		{"stored id later in the call", "practitioner-1", []eventstore.EventData{storetest.Event("CourseCompleted"), batch[0]}, eventstore.AppendResult{}, eventstore.ErrIdempotencyMismatch, 0},
		{"same id in another stream is a new event", "practitioner-2", batch[:1], eventstore.AppendResult{FirstRevision: 0, LastRevision: 0, FirstPosition: 6, LastPosition: 6}, nil, 1},
	}
	grown := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.Append(ctx, tc.stream, eventstore.NoStream(), tc.evs...)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.want, res)
			grown += tc.grows
			assert.Len(t, readAllOf(t, s), len(before)+grown)
		})
	}
}

func TestRecordedTimes(t *testing.T) {
	base := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := base
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	s, path := openTemp(t, Options{Clock: clock}, nil)
	ctx := t.Context()

	r1, err := s.Append(ctx, "practitioner-1", eventstore.Any(), events(3)...)
	require.NoError(t, err)
	set(base.Add(-time.Hour)) // the clock steps back
	_, err = s.Append(ctx, "practitioner-2", eventstore.Any(), events(1)...)
	require.NoError(t, err)
	all := readAllOf(t, s)
	require.Len(t, all, 4)
	assert.True(t, all[0].RecordedAt.Equal(base))
	for i := 1; i < len(all); i++ {
		assert.Equal(t, all[i-1].RecordedAt.Add(time.Nanosecond), all[i].RecordedAt, "event %d is 1ns after the one before", i)
	}
	assert.Equal(t, r1.LastPosition, all[2].Position)

	// A migrated time is kept as given, and must not go back in its stream.
	migrated := storetest.Event("CourseCompleted")
	migrated.RecordedAt = base.Add(-48 * time.Hour)
	_, err = s.Append(ctx, "practitioner-1", eventstore.Any(), migrated)
	assert.ErrorIs(t, err, eventstore.ErrInvalidEvent, "earlier than the stream's last")
	_, err = s.Append(ctx, "practitioner-3", eventstore.Any(), migrated)
	require.NoError(t, err, "a new stream takes any time")
	inOneCall := events(2)
	inOneCall[0].RecordedAt = base.Add(-47 * time.Hour)
	inOneCall[1].RecordedAt = base.Add(-47*time.Hour - 1)
	_, err = s.Append(ctx, "practitioner-4", eventstore.Any(), inOneCall...)
	assert.ErrorIs(t, err, eventstore.ErrInvalidEvent, "going back within one append")
	future := storetest.Event("CourseCompleted")
	future.RecordedAt = base.Add(24 * time.Hour)
	_, err = s.Append(ctx, "practitioner-3", eventstore.Any(), future)
	require.NoError(t, err)

	// After a restart, the clock goes on from the greatest time stored.
	require.NoError(t, s.Close())
	s2 := openAt(t, path, Options{Clock: clock}, nil)
	_, err = s2.Append(ctx, "practitioner-5", eventstore.Any(), events(1)...)
	require.NoError(t, err)
	all = readAllOf(t, s2)
	assert.Equal(t, future.RecordedAt.Add(time.Nanosecond), all[len(all)-1].RecordedAt)
}

func TestValidation(t *testing.T) {
	s, _ := openTemp(t, Options{MaxEventBytes: 100, MaxAppendBytes: 250, MaxAppendEvents: 20}, nil)
	ctx := t.Context()
	with := func(fn func(*eventstore.EventData)) []eventstore.EventData {
		e := storetest.Event("CourseCompleted")
		fn(&e)
		return []eventstore.EventData{e}
	}
	big := make([]byte, 101)
	many := events(17)
	for i := range many {
		many[i].Data = []byte(`{"x":"0123456789"}`)
	}
	cases := []struct {
		name   string
		stream string
		evs    []eventstore.EventData
	}{
		{"stream name too long", string(make([]byte, maxStreamBytes+1)), events(1)},
		{"type too long", "s", with(func(e *eventstore.EventData) { e.Type = string(make([]byte, maxTypeBytes+1)) })},
		{"occurred on too long", "s", with(func(e *eventstore.EventData) { e.OccurredOn = string(make([]byte, 65)) })},
		{"recorder too long", "s", with(func(e *eventstore.EventData) { e.RecordedBy = string(make([]byte, maxRecordedByBytes+1)) })},
		{"data too large", "s", with(func(e *eventstore.EventData) { e.Data = big })},
		{"data and metadata together too large", "s", with(func(e *eventstore.EventData) { e.Data, e.Metadata = big[:60], big[:41] })},
		{"append too large", "s", many},
		{"too many events", "s", events(21)},
		{"duplicate ids among many", "s", func() []eventstore.EventData {
			evs := events(18)
			for i := range evs {
				evs[i].Data, evs[i].Metadata = nil, nil
			}
			evs[17].ID = evs[3].ID
			return evs
		}()},
		{"recorded time out of range", "s", with(func(e *eventstore.EventData) { e.RecordedAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.Append(ctx, tc.stream, eventstore.Any(), tc.evs...)
			assert.ErrorIs(t, err, eventstore.ErrInvalidEvent)
			assert.Equal(t, eventstore.AppendResult{}, res)
		})
	}
	assert.Empty(t, readAllOf(t, s))
	_, err := s.Append(ctx, "s", eventstore.Any(), with(func(e *eventstore.EventData) { e.Data = big[:60]; e.Metadata = big[:40] })...)
	assert.NoError(t, err, "exactly at the limit")
}

func TestReadAllInSmallChunks(t *testing.T) {
	s, _ := openTemp(t, Options{ReadChunk: 3}, nil)
	ctx := t.Context()
	var want []uuid.UUID
	for i := range 10 {
		evs := events(1 + i%4)
		if i == 5 {
			evs[0].Data = make([]byte, bufBytes+10) // larger than a read buffer
		}
		_, err := s.Append(ctx, fmt.Sprintf("practitioner-%d", i%3), eventstore.Any(), evs...)
		require.NoError(t, err)
		for _, e := range evs {
			want = append(want, e.ID)
		}
	}
	cases := []struct {
		name string
		from eventstore.Position
	}{
		{"from the start", 0},
		{"from a chunk boundary", 3},
		{"from inside a chunk", 4},
		{"from the last", eventstore.Position(len(want))},
		{"from the largest position", eventstore.Position(1<<64 - 1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []uuid.UUID
			for e, err := range s.ReadAll(ctx, tc.from) {
				require.NoError(t, err)
				got = append(got, e.ID)
			}
			if tc.from >= eventstore.Position(len(want)) {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, want[tc.from:], got)
		})
	}
	rep, err := eventstore.Verify(ctx, s)
	require.NoError(t, err)
	assert.True(t, rep.OK)
}

func TestEventsKeepTheirBytesAcrossChunks(t *testing.T) {
	// Events handed out point into read buffers: a later chunk must not
	// overwrite an earlier one's payloads.
	s, _ := openTemp(t, Options{ReadChunk: 2}, nil)
	ctx := t.Context()
	evs := events(9)
	_, err := s.Append(ctx, "practitioner-1", eventstore.NoStream(), evs...)
	require.NoError(t, err)
	var kept []eventstore.RecordedEvent
	for e, err := range s.ReadAll(ctx, eventstore.Start) {
		require.NoError(t, err)
		kept = append(kept, e)
	}
	require.Len(t, kept, len(evs))
	for i := range evs {
		assert.Equal(t, string(evs[i].Data), string(kept[i].Data))
		assert.Equal(t, string(evs[i].Metadata), string(kept[i].Metadata))
	}
}

func TestSubscribeAcrossCatchUpAndLive(t *testing.T) {
	s, _ := openTemp(t, Options{ReadChunk: 4}, nil)
	ctx := t.Context()
	for range 10 {
		_, err := s.Append(ctx, "practitioner-old", eventstore.Any(), events(1)...)
		require.NoError(t, err)
	}
	const writers, perWriter = 4, 25
	total := 10 + writers*perWriter
	errStop := errors.New("enough")
	subs := make([]chan []eventstore.Position, 3)
	for i := range subs {
		subs[i] = make(chan []eventstore.Position, 1)
		go func() {
			var got []eventstore.Position
			err := s.Subscribe(ctx, eventstore.Start, func(e eventstore.RecordedEvent) error {
				got = append(got, e.Position)
				if len(got) == total {
					return errStop
				}
				return nil
			})
			assert.Equal(t, errStop, err)
			subs[i] <- got
		}()
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for range perWriter {
				_, err := s.Append(ctx, fmt.Sprintf("practitioner-%d", w), eventstore.Any(), events(1)...)
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	for _, ch := range subs {
		got := <-ch
		require.Len(t, got, total)
		for i, p := range got {
			assert.Equal(t, eventstore.Position(i+1), p, "delivered in order, once each")
		}
	}
}

func TestSubscribeEndsWithClose(t *testing.T) {
	s, _ := openTemp(t, Options{}, nil)
	ctx := t.Context()
	_, err := s.Append(ctx, "practitioner-1", eventstore.Any(), events(2)...)
	require.NoError(t, err)
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		n := 0
		done <- s.Subscribe(ctx, eventstore.Start, func(eventstore.RecordedEvent) error {
			if n++; n == 2 {
				close(started)
			}
			return nil
		})
	}()
	<-started
	require.NoError(t, s.Close())
	assert.ErrorIs(t, <-done, eventstore.ErrClosed)
	assert.ErrorIs(t, s.Close(), eventstore.ErrClosed, "a second Close")
	assert.ErrorIs(t, s.Subscribe(ctx, 0, func(eventstore.RecordedEvent) error { return nil }), eventstore.ErrClosed)
}

func TestCloseFinishesQueuedAppends(t *testing.T) {
	g := newGate()
	s, path := openTemp(t, Options{}, g.hooks())
	ctx := t.Context()
	blocker := appendAsync(ctx, s, "practitioner-0", eventstore.Any(), storetest.Event("CourseCompleted"))
	<-g.queued
	<-g.held
	queued := appendAsync(ctx, s, "practitioner-1", eventstore.Any(), events(2)...)
	<-g.queued
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	close(g.release)
	require.NoError(t, (<-blocker).err)
	o := <-queued
	require.NoError(t, o.err, "an append queued before Close is committed")
	require.NoError(t, <-closed)
	_, err := s.Append(ctx, "practitioner-1", eventstore.Any(), storetest.Event("CourseCompleted"))
	assert.ErrorIs(t, err, eventstore.ErrClosed)

	s2 := openAt(t, path, Options{}, nil)
	assert.Len(t, readAllOf(t, s2), 3)
}

func TestReopenContinuesPositionsAndChains(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	ctx := t.Context()
	for round := range 3 {
		s, err := Open(path, Options{})
		require.NoError(t, err)
		res, err := s.Append(ctx, "practitioner-1", eventstore.Any(), events(2)...)
		require.NoError(t, err)
		assert.Equal(t, eventstore.Position(2*round+1), res.FirstPosition)
		assert.Equal(t, uint64(2*round), res.FirstRevision)
		require.NoError(t, s.Close())
	}
	s := openAt(t, path, Options{}, nil)
	rep, err := eventstore.Verify(ctx, s)
	require.NoError(t, err)
	assert.True(t, rep.OK)
	assert.Equal(t, 6, rep.EventsChecked)
}

func TestOpenTwiceTimesOut(t *testing.T) {
	_, path := openTemp(t, Options{}, nil)
	_, err := Open(path, Options{LockTimeout: 50 * time.Millisecond})
	assert.ErrorContains(t, err, "another ledger process")
}

// TestSubscriptionsWaitForTheNextCommitsDisk: the subscriptions are not
// woken straight after a commit, when the appenders it answered need the
// CPU, but when the writer next waits on the disk (or has nothing to do).
// The first commit's appender is answered while the second commit is held
// before its fsync; only then does the subscription see the first event.
func TestSubscriptionsWaitForTheNextCommitsDisk(t *testing.T) {
	g := newGate()
	s, _ := openTemp(t, Options{}, g.hooks())
	var once sync.Once
	release := func() { once.Do(func() { close(g.release) }) }
	t.Cleanup(release) // registered after the store's Close: runs before it
	ctx := t.Context()
	seen := subscribed(ctx, s)

	first := appendAsync(ctx, s, "practitioner-0", eventstore.NoStream(), storetest.Event("PractitionerRegistered"))
	<-g.queued
	assert.Equal(t, 1, <-g.held)
	second := appendAsync(ctx, s, "practitioner-1", eventstore.NoStream(), storetest.Event("PractitionerRegistered"))
	<-g.queued
	g.release <- struct{}{} // the first commit goes on; the second is queued behind it
	require.NoError(t, (<-first).err, "the first append is answered")
	assert.Equal(t, 1, <-g.held, "the second commit is held before its fsync")
	select {
	case e := <-seen:
		t.Fatalf("the subscription was woken for position %d before the writer waited on the disk", e.Position)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	require.NoError(t, (<-second).err)
	for want := eventstore.Position(1); want <= 2; want++ {
		select {
		case e := <-seen:
			assert.Equal(t, want, e.Position)
		case <-time.After(10 * time.Second):
			t.Fatalf("the subscription never saw position %d", want)
		}
	}
}

// TestSubscriptionsWokenWhenTheWriterIsIdle: a lone append wakes the
// subscriptions as soon as the writer has nothing left to do.
func TestSubscriptionsWokenWhenTheWriterIsIdle(t *testing.T) {
	s, _ := openTemp(t, Options{}, nil)
	ctx := t.Context()
	seen := subscribed(ctx, s)
	for i := range 3 {
		_, err := s.Append(ctx, fmt.Sprintf("practitioner-%d", i), eventstore.NoStream(), storetest.Event("PractitionerRegistered"))
		require.NoError(t, err)
		select {
		case e := <-seen:
			assert.Equal(t, eventstore.Position(i+1), e.Position)
		case <-time.After(10 * time.Second):
			t.Fatalf("append %d never reached the subscription", i+1)
		}
	}
}

// subscribed subscribes to s from the start until ctx ends and returns
// where the events arrive.
func subscribed(ctx context.Context, s *Store) <-chan eventstore.RecordedEvent {
	seen := make(chan eventstore.RecordedEvent, 16)
	go func() {
		_ = s.Subscribe(ctx, eventstore.Start, func(e eventstore.RecordedEvent) error {
			seen <- e
			return nil
		})
	}()
	return seen
}
