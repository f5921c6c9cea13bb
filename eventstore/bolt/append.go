package bolt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"runtime"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/eventstore"
)

// appendRequest is one Append call waiting for the writer.
type appendRequest struct {
	ctx      context.Context
	stream   string
	expected eventstore.ExpectedRevision
	events   []eventstore.EventData
	// parts, when not nil, makes this an AppendMany of several streams
	// (stream, expected and events are then unused), and results its
	// outcome; see appendmany.go.
	parts   []eventstore.StreamAppend
	results []eventstore.AppendResult
	// res and err are set by the writer before it closes done.
	res  eventstore.AppendResult
	err  error
	done chan struct{}
}

// Append adds events to the end of stream atomically; see eventstore.Store.
//
// The call is checked on its own first (ErrInvalidEvent), then queued for
// the writer, which checks it against the stream inside the transaction of
// the next group commit and acknowledges it only once that transaction is
// on disk. A context that ends while the call is still queued refuses it;
// once the writer has taken it, Append waits for its outcome, because the
// caller's buffers are read until then.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := s.validate(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	req := &appendRequest{ctx: ctx, stream: stream, expected: expected, events: events, done: make(chan struct{})}
	if err := s.enqueue(req); err != nil {
		return eventstore.AppendResult{}, err
	}
	<-req.done
	return req.res, req.err
}

// enqueue hands req to the writer, or refuses it when the store is closing.
func (s *Store) enqueue(req *appendRequest) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return eventstore.ErrClosed
	}
	s.queue = append(s.queue, req)
	n := len(s.queue)
	s.mu.Unlock()
	if s.hooks != nil && s.hooks.queued != nil {
		s.hooks.queued(n)
	}
	s.signal()
	return nil
}

func (s *Store) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", eventstore.ErrInvalidEvent, fmt.Sprintf(format, args...))
}

// validate checks what can be checked without the stream: it runs in the
// caller's goroutine so that the writer spends its time on the disk.
func (s *Store) validate(stream string, events []eventstore.EventData) error {
	switch {
	case stream == "":
		return invalidf("empty stream name")
	case len(stream) > maxStreamBytes:
		return invalidf("stream name of %d bytes, more than %d", len(stream), maxStreamBytes)
	case len(events) == 0:
		return invalidf("no events to append to %s", stream)
	case len(events) > s.opts.MaxAppendEvents:
		return invalidf("%d events in one append, more than %d", len(events), s.opts.MaxAppendEvents)
	}
	total := 0
	for i := range events {
		e := &events[i]
		size := len(e.Data) + len(e.Metadata)
		total += size
		switch {
		case e.ID == uuid.Nil:
			return invalidf("event %d: nil id", i)
		case e.Type == "":
			return invalidf("event %d (%s): empty type", i, e.ID)
		case len(e.Type) > maxTypeBytes:
			return invalidf("event %d (%s): type of %d bytes, more than %d", i, e.ID, len(e.Type), maxTypeBytes)
		case len(e.OccurredOn) > maxOccurredOnBytes:
			return invalidf("event %d (%s): occurred_on of %d bytes, more than %d", i, e.ID, len(e.OccurredOn), maxOccurredOnBytes)
		case len(e.RecordedBy) > maxRecordedByBytes:
			return invalidf("event %d (%s): recorded_by of %d bytes, more than %d", i, e.ID, len(e.RecordedBy), maxRecordedByBytes)
		case size > s.opts.MaxEventBytes:
			return invalidf("event %d (%s): %d bytes of data and metadata, more than %d", i, e.ID, size, s.opts.MaxEventBytes)
		case !e.RecordedAt.IsZero() && !unixNanoRange(e.RecordedAt):
			return invalidf("event %d (%s): recorded time %s out of range", i, e.ID, e.RecordedAt)
		}
	}
	if total > s.opts.MaxAppendBytes {
		return invalidf("%d bytes of data and metadata in one append, more than %d", total, s.opts.MaxAppendBytes)
	}
	if len(events) <= 16 {
		for i := range events {
			for j := range i {
				if events[i].ID == events[j].ID {
					return invalidf("event id %s repeated in one append", events[i].ID)
				}
			}
		}
		return nil
	}
	seen := make(map[uuid.UUID]struct{}, len(events))
	for i := range events {
		if _, ok := seen[events[i].ID]; ok {
			return invalidf("event id %s repeated in one append", events[i].ID)
		}
		seen[events[i].ID] = struct{}{}
	}
	return nil
}

// writer is the store's only writing goroutine. Each round takes every
// queued append and commits them in one transaction, so that concurrent
// appends share one fsync.
//
// A round starts as soon as the last commit ends, with one exception: the
// appenders the last commit answered are usually back with their next
// append a few microseconds later, and if the round started without them
// they would queue behind a whole commit. So closed-loop writers fall into
// two groups that take turns, each commit carrying half of them. The writer
// therefore gathers: it holds the round open until as many appends are
// queued as the last commit answered plus those that queued during it, or
// until Options.GroupCommitWait (by default as long as the last commit
// took) has passed, whichever comes first. A lone appender never waits:
// with one answered and none queued the round starts with the first to
// arrive. The wait is the idea of PostgreSQL's commit_delay and
// commit_siblings, bounded by the commit's own cost: an append that waits
// for it would otherwise have waited for the whole next commit.
func (s *Store) writer() {
	defer close(s.writerDone)
	var (
		spare []*appendRequest
		g     gatherer
	)
	g.timer = time.NewTimer(time.Hour)
	g.timer.Stop()
	defer s.wakeSubscriptions()
	for {
		s.wakeSubscriptions() // nothing to do: nothing to make wait
		<-s.wake
		for {
			s.gather(&g)
			s.mu.Lock()
			batch := s.queue
			s.queue, spare = spare[:0], nil
			closing := s.closing
			s.mu.Unlock()
			if len(batch) == 0 {
				if closing {
					return
				}
				break
			}
			start := time.Now()
			s.commitBatch(batch)
			g.committed(s, len(batch), time.Since(start))
			clear(batch)
			spare = batch
			// The appenders just answered were made runnable on this
			// thread; let them run before taking the queue.
			runtime.Gosched()
		}
	}
}

// gatherer is the writer's memory of its last commit, from which it decides
// how long to hold the next round open.
type gatherer struct {
	// target is the queue length at which the next round starts at once:
	// the appenders the last commit answered plus those queued during it.
	target int
	// wait bounds the hold; zero means no hold.
	wait time.Duration
	// ended is when the last commit ended: a first append arriving later
	// than wait after it is not one of the answered coming back.
	ended time.Time
	timer *time.Timer
}

// maxGroupCommitWait caps the default wait, which follows the last commit's
// duration, so that one slow commit cannot make the next round wait long.
const maxGroupCommitWait = 2 * time.Millisecond

// committed records a commit of n requests that took d.
func (g *gatherer) committed(s *Store, n int, d time.Duration) {
	s.mu.Lock()
	queued := len(s.queue)
	s.mu.Unlock()
	g.target = n + queued
	switch w := s.opts.GroupCommitWait; {
	case w < 0 || g.target < 2:
		g.wait = 0
	case w > 0:
		g.wait = w
	default:
		g.wait = min(d, maxGroupCommitWait)
	}
	g.ended = time.Now()
}

// gather holds the round open, as the writer's doc says, and returns once
// it may start. It returns at once when the store is closing.
func (s *Store) gather(g *gatherer) {
	if g.wait <= 0 {
		return
	}
	wait := g.wait
	g.wait = 0 // whatever happens, the next round decides afresh
	deadline := g.ended.Add(wait)
	for {
		s.mu.Lock()
		n, closing := len(s.queue), s.closing
		s.mu.Unlock()
		if closing || n >= g.target {
			return
		}
		now := time.Now()
		if n == 0 {
			// Nobody yet: the round begins with the first append to come,
			// and the hold only if it came while the answered could still
			// be coming back. Past the deadline the writer may wait for
			// long, so the subscriptions are woken first.
			if now.Before(deadline) {
				g.timer.Reset(deadline.Sub(now))
				select {
				case <-s.wake:
					g.timer.Stop()
					continue
				case <-g.timer.C:
				}
			}
			s.wakeSubscriptions()
			<-s.wake
			return
		}
		if !now.Before(deadline) {
			return
		}
		if s.hooks != nil && s.hooks.gathering != nil {
			s.hooks.gathering(n, g.target)
		}
		g.timer.Reset(deadline.Sub(now))
		select {
		case <-s.wake:
			g.timer.Stop()
		case <-g.timer.C:
			return
		}
	}
}

// batchState is what a group commit tracks across its appends: the
// store-wide counters as they stand inside its transaction.
type batchState struct {
	lastPos eventstore.Position
	lastAt  int64
	// arena holds every key and value put in the transaction: bbolt keeps
	// references to them until the commit, so none may be overwritten.
	arena []byte
	// pending holds each stream the batch has looked at, as its
	// transaction sees it; the index takes it once the commit is on disk.
	pending map[string]*pendingStream
}

// maxKeptArena is the largest arena the writer keeps between batches.
const maxKeptArena = 4 << 20

// errWrite marks an append that failed while writing (not a refusal): the
// transaction holds part of it and must be rolled back.
type errWrite struct{ err error }

func (e *errWrite) Error() string { return e.err.Error() }
func (e *errWrite) Unwrap() error { return e.err }

// commitBatch applies every request of batch in one transaction, commits it
// and acknowledges each request. A request refused on its own (conflict,
// invalid, mismatch) does not touch the transaction, so it cannot affect the
// others. A request that fails half-written (or makes bbolt panic) is taken
// out with its error and the batch is done again without it. If the
// transaction fails as a whole, every request not refused on its own gets
// the error, idempotent retries included: they may have matched events of
// the same, lost, transaction.
func (s *Store) commitBatch(batch []*appendRequest) {
	pending := batch
	for len(pending) > 0 {
		failed, err := s.tryBatch(pending)
		if failed != nil {
			failed.res, failed.err = eventstore.AppendResult{}, err
			close(failed.done)
			pending = without(pending, failed)
			continue
		}
		for _, r := range pending {
			if err != nil && r.err == nil {
				r.res, r.err = eventstore.AppendResult{}, err
			}
			close(r.done)
		}
		return
	}
}

func without(reqs []*appendRequest, r *appendRequest) []*appendRequest {
	out := make([]*appendRequest, 0, len(reqs)-1)
	for _, o := range reqs {
		if o != r {
			out = append(out, o)
		}
	}
	return out
}

// tryBatch runs one transaction over reqs, setting each request's res or
// err, and commits it. It returns the transaction's error, or, if one
// request failed while writing, that request and its error (the transaction
// is then rolled back and the others must be tried again).
func (s *Store) tryBatch(reqs []*appendRequest) (failed *appendRequest, err error) {
	for _, r := range reqs {
		r.res, r.err = eventstore.AppendResult{}, nil
	}
	var current *appendRequest
	err = guard("appending", func() error {
		tx, err := s.db.Begin(true)
		if err != nil {
			return dbErr(err)
		}
		defer func() {
			// Reached with the transaction open when nothing is stored, on
			// an error or on a panic; Commit closes it otherwise.
			if tx.DB() != nil {
				_ = tx.Rollback()
			}
		}()
		b, err := openBuckets(tx)
		if err != nil {
			return err
		}
		// Positions only ever grow: fill the events bucket's pages rather
		// than split them in half, for half the pages to write and read.
		b.events.FillPercent = 1.0
		st := &batchState{arena: s.arena[:0]}
		defer func() {
			// Kept for the next batch unless one huge append grew it.
			if cap(st.arena) <= maxKeptArena {
				s.arena = st.arena[:0]
			}
		}()
		if st.lastPos, err = lastPosition(b.events); err != nil {
			return err
		}
		if v := b.meta.Get(metaLastAt); v != nil {
			p, err := parsePosition(v)
			if err != nil {
				return err
			}
			st.lastAt = int64(p)
		}
		stored := 0
		for _, r := range reqs {
			current = r
			if err := r.ctx.Err(); err != nil {
				r.err = err
				continue
			}
			var (
				res eventstore.AppendResult
				n   int
				err error
			)
			if r.parts != nil {
				n, err = s.applyParts(b, st, r)
			} else {
				res, n, err = s.apply(b, st, r)
			}
			if we, ok := err.(*errWrite); ok {
				failed = r
				return we.err
			}
			r.res, r.err = res, err
			stored += n
		}
		current = nil
		if stored == 0 {
			s.wakeSubscriptions()
			return nil
		}
		if err := b.meta.Put(metaLastAt, st.slice(func(d []byte) []byte {
			return appendPositionKey(d, eventstore.Position(st.lastAt))
		})); err != nil {
			return err
		}
		if err := b.meta.Put(metaLastPos, st.slice(func(d []byte) []byte {
			return appendPositionKey(d, st.lastPos)
		})); err != nil {
			return err
		}
		if s.hooks != nil && s.hooks.beforeCommit != nil {
			if err := s.hooks.beforeCommit(len(reqs)); err != nil {
				return fmt.Errorf("bolt: commit: %w", err)
			}
		}
		crashpoint("before_commit")
		s.wakeSubscriptions() // for the last commit: this one waits on the disk
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("bolt: commit: %w", err)
		}
		crashpoint("after_commit")
		if s.hooks != nil && s.hooks.afterCommit != nil {
			s.hooks.afterCommit()
		}
		s.idx.merge(st.pending, st.lastPos)
		s.published()
		return nil
	})
	if err != nil && failed == nil && current != nil {
		// bbolt panicked while applying this request: take it out, the
		// others may still be stored.
		failed = current
	}
	return failed, noSpace(err)
}

// published records a commit that stored events: readers waiting for the
// index are woken at once, the subscriptions later (wakeSubscriptions).
func (s *Store) published() {
	s.mu.Lock()
	close(s.indexed)
	s.indexed = make(chan struct{})
	s.mu.Unlock()
	s.unannounced = true
}

// wakeSubscriptions wakes every live subscription if a commit stored events
// since they were last woken. The writer calls it when it is about to wait
// on the disk (just before a commit's fsyncs), when it has nothing to do,
// and when it stops; never straight after a commit. Straight after a
// commit is when the appenders it has just answered need the CPU to send
// their responses and bring their next appends, and the subscriptions
// (the read models' re-folds) would take it from them; during the next
// commit's fsyncs the CPU is otherwise idle. A subscription is so woken at
// most one gathering (Options.GroupCommitWait, at most 2 ms) after the
// commit, and at once when no append follows.
func (s *Store) wakeSubscriptions() {
	if !s.unannounced {
		return
	}
	s.unannounced = false
	s.mu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
}

// apply checks r against the stream as it stands in the transaction and, if
// it is accepted, writes its events. It returns the result, the number of
// events written (0 for an idempotent retry) and an error: a refusal, which
// leaves the transaction untouched, or an *errWrite.
func (s *Store) apply(b buckets, st *batchState, r *appendRequest) (eventstore.AppendResult, int, error) {
	ps, err := s.pending(st, r.stream)
	if err != nil {
		return eventstore.AppendResult{}, 0, err
	}
	count := ps.count()
	exists := count > 0
	var lastRevision uint64
	if exists {
		lastRevision = uint64(count - 1)
		if pos, ok := ps.find(s.idx, r.events[0].ID); ok {
			res, err := s.retried(b, ps, pos, lastRevision, r)
			return res, 0, err
		}
		for _, e := range r.events[1:] {
			if _, ok := ps.find(s.idx, e.ID); ok {
				return eventstore.AppendResult{}, 0, fmt.Errorf("%w: event %s is already in %s, but the append's first event %s is not", eventstore.ErrIdempotencyMismatch, e.ID, r.stream, r.events[0].ID)
			}
		}
	}
	if !r.expected.Check(lastRevision, exists) {
		return eventstore.AppendResult{}, 0, &eventstore.RevisionConflictError{Stream: r.stream, Expected: r.expected, Current: lastRevision, Exists: exists}
	}

	// Plan every event before writing any: a refusal found here must leave
	// the transaction as it was.
	rev := uint64(count)
	first := rev
	prev := ps.lastHash
	streamAt := ps.lastAt
	lastAt := st.lastAt
	pos := st.lastPos
	recs := make([]eventstore.RecordedEvent, len(r.events))
	for i := range r.events {
		e := &r.events[i]
		var at int64
		if !e.RecordedAt.IsZero() {
			at = e.RecordedAt.UnixNano()
			if exists || i > 0 {
				if at < streamAt {
					return eventstore.AppendResult{}, 0, invalidf("event %d (%s): recorded time %s is before the stream's last, %s", i, e.ID, e.RecordedAt.UTC().Format(timeFormat), unixTime(streamAt).Format(timeFormat))
				}
			}
		} else {
			// The store's clock, made strictly increasing so that recorded
			// order follows global order even if the clock steps back.
			at = max(s.opts.Clock().UnixNano(), lastAt+1)
		}
		lastAt = max(lastAt, at)
		streamAt = at
		pos++
		sv := e.SchemaVersion
		if sv == 0 {
			sv = 1
		}
		recs[i] = eventstore.RecordedEvent{
			ID: e.ID, Stream: r.stream, Type: e.Type, SchemaVersion: sv,
			Revision: rev, Position: pos, RecordedAt: unixTime(at),
			OccurredOn: e.OccurredOn, RecordedBy: e.RecordedBy,
			Data: e.Data, Metadata: e.Metadata, PrevHash: prev,
		}
		recs[i].Hash = eventstore.ComputeHash(eventstore.ChainFields{
			ID: e.ID, Stream: r.stream, Type: e.Type, SchemaVersion: sv,
			Revision: rev, RecordedAt: recs[i].RecordedAt, OccurredOn: e.OccurredOn,
			RecordedBy: e.RecordedBy, DataSum: sha256.Sum256(e.Data),
			MetadataSum: sha256.Sum256(e.Metadata), PrevHash: prev,
		})
		prev = recs[i].Hash
		rev++
	}

	// Write. Nothing below refuses the append; an error here is the
	// database's, and the caller rolls the whole transaction back.
	for i := range recs {
		e := &recs[i]
		k := st.slice(func(d []byte) []byte { return appendPositionKey(d, e.Position) })
		v := st.slice(func(d []byte) []byte { return appendRecord(d, e) })
		if err := b.events.Put(k, v); err != nil {
			return eventstore.AppendResult{}, 0, &errWrite{err}
		}
		if s.hooks != nil && s.hooks.write != nil {
			if err := s.hooks.write(r.stream); err != nil {
				return eventstore.AppendResult{}, 0, &errWrite{err}
			}
		}
	}
	for i := range recs {
		ps.add(&recs[i])
	}
	last := &recs[len(recs)-1]
	st.lastPos = pos
	st.lastAt = lastAt
	return eventstore.AppendResult{
		FirstRevision: first, LastRevision: last.Revision,
		FirstPosition: recs[0].Position, LastPosition: last.Position,
	}, len(recs), nil
}

// slice appends to the arena with fn and returns what fn appended, capped so
// that later appends to the arena cannot write into it.
func (st *batchState) slice(fn func([]byte) []byte) []byte {
	start := len(st.arena)
	st.arena = fn(st.arena)
	return st.arena[start:len(st.arena):len(st.arena)]
}

// retried answers an append whose first event is already in the stream: an
// idempotent retry if every event of the call matches the stored events
// from that revision on, in order; ErrIdempotencyMismatch otherwise.
func (s *Store) retried(b buckets, ps *pendingStream, firstPos eventstore.Position, lastRevision uint64, r *appendRequest) (eventstore.AppendResult, error) {
	var res eventstore.AppendResult
	var key [8]byte
	var stored eventstore.RecordedEvent
	for i := range r.events {
		want := &r.events[i]
		pos := firstPos
		if i > 0 {
			rev := res.FirstRevision + uint64(i)
			if rev > lastRevision {
				return eventstore.AppendResult{}, fmt.Errorf("%w: event %s of a retry in %s lies past the stored events", eventstore.ErrIdempotencyMismatch, want.ID, r.stream)
			}
			pos = ps.position(rev)
		}
		raw := b.events.Get(appendPositionKey(key[:0], pos))
		if raw == nil {
			return eventstore.AppendResult{}, corruptf("stream %s indexes position %d, which holds no event", r.stream, pos)
		}
		if err := decodeRecord(pos, raw, &stored); err != nil {
			return eventstore.AppendResult{}, err
		}
		if stored.Stream != r.stream {
			return eventstore.AppendResult{}, corruptf("stream %s indexes position %d, which holds an event of %s", r.stream, pos, stored.Stream)
		}
		if i == 0 {
			res.FirstRevision, res.FirstPosition = stored.Revision, pos
		}
		if why := differs(want, &stored); why != "" {
			return eventstore.AppendResult{}, fmt.Errorf("%w: event %s at %s revision %d: %s", eventstore.ErrIdempotencyMismatch, want.ID, r.stream, stored.Revision, why)
		}
		res.LastRevision, res.LastPosition = stored.Revision, pos
	}
	return res, nil
}

// differs names the first field in which a retried event differs from the
// stored one, or returns "" if they are the same event.
func differs(want *eventstore.EventData, got *eventstore.RecordedEvent) string {
	sv := want.SchemaVersion
	if sv == 0 {
		sv = 1
	}
	switch {
	case want.ID != got.ID:
		return fmt.Sprintf("the stored event there is %s", got.ID)
	case want.Type != got.Type:
		return "type differs"
	case sv != got.SchemaVersion:
		return "schema version differs"
	case want.OccurredOn != got.OccurredOn:
		return "occurred_on differs"
	case want.RecordedBy != got.RecordedBy:
		return "recorded_by differs"
	case !bytes.Equal(want.Data, got.Data):
		return "data differs"
	case !bytes.Equal(want.Metadata, got.Metadata):
		return "metadata differs"
	}
	return ""
}
