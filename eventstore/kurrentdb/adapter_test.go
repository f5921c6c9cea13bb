package kurrentdb_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/kurrentdb"
	"github.com/imattertraining/ledger/eventstore/kurrentdb/protocoldouble"
	"github.com/imattertraining/ledger/eventstore/storetest"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func ids(evs []eventstore.RecordedEvent) []uuid.UUID {
	out := make([]uuid.UUID, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

// deadAddr is a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := lis.Addr().String()
	require.NoError(t, lis.Close())
	return addr
}

func TestOpenRefuses(t *testing.T) {
	srv := protocoldouble.StartTest(t, withSystemEvents)
	cases := []struct {
		name string
		url  string
		opts kurrentdb.Options
		is   error
	}{
		{name: "a malformed connection string", url: "http://" + srv.Addr()},
		{name: "credentials without TLS", url: "esdb://admin:changeit@" + srv.Addr() + "?tls=false"},
		{name: "an empty prefix without a namespace", url: srv.ConnectionString(), opts: kurrentdb.Options{StreamPrefixes: []string{""}}},
		{name: "a prefix in the system namespace", url: srv.ConnectionString(), opts: kurrentdb.Options{StreamPrefixes: []string{"$ce-"}}},
		{
			name: "an unreachable server",
			url:  "esdb://" + deadAddr(t) + "?tls=false&maxDiscoverAttempts=1&discoveryInterval=10",
			opts: kurrentdb.Options{RetryFor: 300 * time.Millisecond},
			is:   eventstore.ErrUnavailable,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := kurrentdb.Open(testCtx(t), tc.url, tc.opts)
			require.Error(t, err)
			assert.Nil(t, s)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
		})
	}
}

func TestOpenWithGossipSeedsFindsTheLeader(t *testing.T) {
	srv := protocoldouble.StartTest(t, withSystemEvents)
	// A cluster connection string: the client asks the seeds for gossip and
	// connects to the leader they name; one seed is down.
	url := fmt.Sprintf("esdb://%s,%s?tls=false&maxDiscoverAttempts=3&discoveryInterval=10", deadAddr(t), srv.Addr())
	s := openStore(t, url, kurrentdb.Options{})
	_, err := s.Append(testCtx(t), "practitioner-1", eventstore.NoStream(), storetest.Event("PractitionerRegistered"))
	require.NoError(t, err)
}

func TestOnlyTheLedgersStreamsAreSeen(t *testing.T) {
	srv := protocoldouble.StartTest(t, withSystemEvents)
	s := openStore(t, srv.ConnectionString(), kurrentdb.Options{})
	ctx := testCtx(t)

	// Another application's stream and the server's own live beside the
	// ledger's in $all.
	srv.AppendRaw("orders-1", protocoldouble.RawEvent{Type: "OrderPlaced", Data: []byte(`{}`)})
	mine := storetest.Event("PractitionerRegistered")
	_, err := s.Append(ctx, "practitioner-1", eventstore.NoStream(), mine)
	require.NoError(t, err)
	srv.AppendRaw("$stats-node", protocoldouble.RawEvent{Type: "$statsCollected", Data: []byte(`{}`)})
	org := storetest.Event("OrganisationRegistered")
	_, err = s.Append(ctx, "organisation-1", eventstore.NoStream(), org)
	require.NoError(t, err)
	srv.AppendRaw("practitionerish", protocoldouble.RawEvent{Type: "Nope", Data: []byte(`{}`)})

	assert.Equal(t, []uuid.UUID{mine.ID, org.ID}, ids(storetest.ReadAll(t, s)))

	got := make(chan eventstore.RecordedEvent, 10)
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_ = s.Subscribe(subCtx, eventstore.Start, func(e eventstore.RecordedEvent) error { got <- e; return nil })
	}()
	assert.Equal(t, mine.ID, (<-got).ID)
	assert.Equal(t, org.ID, (<-got).ID)

	for _, stream := range []string{"orders-2", "$settings", "practitioner"} {
		_, err := s.Append(ctx, stream, eventstore.Any(), storetest.Event("X"))
		assert.ErrorIs(t, err, eventstore.ErrInvalidEvent, "stream %q", stream)
	}
}

// TestAnotherWriterBetweenReadAndAppend puts a second ledger process's
// append between this one's read of the stream and its append: the adapter
// must notice through KurrentDB's expected revision, never fork the chain,
// retry an Any append on the new tip and report the true current revision
// for a NoStream or Exact one.
func TestAnotherWriterBetweenReadAndAppend(t *testing.T) {
	cases := []struct {
		name     string
		existing int
		expected eventstore.ExpectedRevision
		wantRev  uint64 // the append's first revision, when it succeeds
		conflict bool
		current  uint64
	}{
		{name: "any is retried on the new tip", existing: 1, expected: eventstore.Any(), wantRev: 2},
		{name: "any on a new stream is retried", existing: 0, expected: eventstore.Any(), wantRev: 1},
		{name: "exact conflicts with the new revision", existing: 1, expected: eventstore.Exact(0), conflict: true, current: 1},
		{name: "no stream conflicts once the stream exists", existing: 0, expected: eventstore.NoStream(), conflict: true, current: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := protocoldouble.StartTest(t, withSystemEvents)
			a := openStore(t, srv.ConnectionString(), kurrentdb.Options{})
			b := openStore(t, srv.ConnectionString(), kurrentdb.Options{})
			ctx := testCtx(t)
			const stream = "practitioner-7"
			for range tc.existing {
				_, err := a.Append(ctx, stream, eventstore.Any(), storetest.Event("CourseCompleted"))
				require.NoError(t, err)
			}
			var once atomic.Bool
			var otherErr error
			srv.BeforeAppend(func(string) {
				if once.CompareAndSwap(false, true) {
					_, otherErr = b.Append(ctx, stream, eventstore.Any(), storetest.Event("CPDRecorded"))
				}
			})
			res, err := a.Append(ctx, stream, tc.expected, storetest.Event("CourseCompleted"))
			require.NoError(t, otherErr)
			if tc.conflict {
				var conflict *eventstore.RevisionConflictError
				require.ErrorAs(t, err, &conflict)
				assert.Equal(t, tc.current, conflict.Current)
				assert.True(t, conflict.Exists)
				assert.Equal(t, tc.expected, conflict.Expected)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.wantRev, res.FirstRevision)
			}
			rep, err := eventstore.Verify(ctx, a)
			require.NoError(t, err)
			assert.True(t, rep.OK, "%+v", rep.FirstFailure)
		})
	}
}

func TestALostReplyIsRetriedIdempotently(t *testing.T) {
	srv := protocoldouble.StartTest(t, withSystemEvents)
	s := openStore(t, srv.ConnectionString(), kurrentdb.Options{})
	ctx := testCtx(t)
	batch := []eventstore.EventData{storetest.Event("CourseCompleted"), storetest.Event("CPDRecorded")}
	srv.LoseNextReply()
	res, err := s.Append(ctx, "practitioner-1", eventstore.NoStream(), batch...)
	require.NoError(t, err, "the resent append is recognised as the one that landed")
	got, err := s.ReadStream(ctx, "practitioner-1", eventstore.ReadOptions{})
	require.NoError(t, err)
	require.Len(t, got, 2, "stored once")
	assert.Equal(t, eventstore.AppendResult{FirstRevision: 0, LastRevision: 1, FirstPosition: got[0].Position, LastPosition: got[1].Position}, res)
}

func TestTransientFailures(t *testing.T) {
	cases := []struct {
		name  string
		fails int
		code  codes.Code
		ok    bool
		is    error
	}{
		{name: "a few unavailable replies are retried", fails: 3, code: codes.Unavailable, ok: true},
		{name: "a server timeout is retried", fails: 2, code: codes.Aborted, ok: true},
		{name: "an outage longer than RetryFor is ErrUnavailable", fails: 1 << 20, code: codes.Unavailable, is: eventstore.ErrUnavailable},
		{name: "access denied is not retried", fails: 1, code: codes.PermissionDenied},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := protocoldouble.StartTest(t, withSystemEvents)
			s := openStore(t, srv.ConnectionString(), kurrentdb.Options{RetryFor: 500 * time.Millisecond})
			srv.FailNext(tc.fails, tc.code)
			_, err := s.Append(testCtx(t), "practitioner-1", eventstore.Any(), storetest.Event("CourseCompleted"))
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			} else {
				assert.NotErrorIs(t, err, eventstore.ErrUnavailable)
			}
			srv.FailNext(0, codes.OK)
		})
	}
}

func TestSubscriptionSurvivesRestartsAndDrops(t *testing.T) {
	srv := protocoldouble.StartTest(t, withSystemEvents)
	s := openStore(t, srv.ConnectionString(), kurrentdb.Options{RetryFor: time.Minute})
	ctx := testCtx(t)
	var want []uuid.UUID
	appendN := func(n int) {
		for range n {
			e := storetest.Event("CourseCompleted")
			_, err := s.Append(ctx, fmt.Sprintf("practitioner-%d", len(want)%3), eventstore.Any(), e)
			require.NoError(t, err)
			want = append(want, e.ID)
		}
	}
	got := make(chan uuid.UUID, 100)
	subCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- s.Subscribe(subCtx, eventstore.Start, func(e eventstore.RecordedEvent) error { got <- e.ID; return nil })
	}()
	receive := func(n int) []uuid.UUID {
		var out []uuid.UUID
		for range n {
			select {
			case id := <-got:
				out = append(out, id)
			case <-ctx.Done():
				t.Fatal("subscription stalled")
			}
		}
		return out
	}

	appendN(4)
	seen := receive(4)
	srv.Stop()
	require.NoError(t, srv.Restart())
	appendN(4)
	seen = append(seen, receive(4)...)
	srv.DropSubscriptions()
	appendN(4)
	seen = append(seen, receive(4)...)
	assert.Equal(t, want, seen, "every event once, in order")

	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	assert.Empty(t, got, "nothing delivered twice")
}

func TestPositionsThatAreNotEventPositions(t *testing.T) {
	srv := protocoldouble.StartTest(t, withSystemEvents)
	s := openStore(t, srv.ConnectionString(), kurrentdb.Options{})
	ctx := testCtx(t)
	for i := range 6 {
		_, err := s.Append(ctx, fmt.Sprintf("practitioner-%d", i%2), eventstore.Any(), storetest.Event("CourseCompleted"))
		require.NoError(t, err)
	}
	all := storetest.ReadAll(t, s)
	require.Len(t, all, 6)
	from := all[2].Position + 1 // inside the record of all[2]: KurrentDB refuses to read there

	got := make(chan uuid.UUID, 10)
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_ = s.Subscribe(subCtx, from, func(e eventstore.RecordedEvent) error { got <- e.ID; return nil })
	}()
	var seen []uuid.UUID
	for range 3 {
		seen = append(seen, <-got)
	}
	assert.Equal(t, ids(all[3:]), seen)
}

func TestTamperingIsFoundByVerify(t *testing.T) {
	srv := protocoldouble.StartTest(t, withSystemEvents)
	s := openStore(t, srv.ConnectionString(), kurrentdb.Options{})
	ctx := testCtx(t)
	evs := []eventstore.EventData{storetest.Event("PractitionerRegistered"), storetest.Event("CourseCompleted"), storetest.Event("CPDRecorded")}
	_, err := s.Append(ctx, "practitioner-1", eventstore.NoStream(), evs...)
	require.NoError(t, err)
	srv.Tamper("practitioner-1", 1, []byte(`{"practitioner":"Someone Else"}`))

	rep, err := eventstore.Verify(ctx, s)
	require.NoError(t, err)
	assert.False(t, rep.OK)
	require.NotNil(t, rep.FirstFailure)
	assert.Equal(t, evs[1].ID, rep.FirstFailure.EventID)
}

func TestRecordedTimesNeverGoBackwards(t *testing.T) {
	srv := protocoldouble.StartTest(t, withSystemEvents)
	var mu sync.Mutex
	clock := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	s := openStore(t, srv.ConnectionString(), kurrentdb.Options{Now: now})
	ctx := testCtx(t)
	_, err := s.Append(ctx, "practitioner-1", eventstore.Any(), storetest.Event("CourseCompleted"))
	require.NoError(t, err)

	mu.Lock()
	clock = clock.Add(-time.Hour) // this host's clock steps back
	mu.Unlock()
	_, err = s.Append(ctx, "practitioner-1", eventstore.Any(), storetest.Event("CourseCompleted"))
	require.NoError(t, err)
	got, err := s.ReadStream(ctx, "practitioner-1", eventstore.ReadOptions{})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, got[0].RecordedAt, got[1].RecordedAt, "held at the stream's last recorded time")

	migrated := storetest.Event("CourseCompleted")
	migrated.RecordedAt = got[1].RecordedAt.Add(-time.Nanosecond)
	_, err = s.Append(ctx, "practitioner-1", eventstore.Any(), migrated)
	assert.ErrorIs(t, err, eventstore.ErrInvalidEvent, "a given recorded time before the stream's last")
}

// TestTwoLedgerProcessesOnOneServer is the store-level shape of scale-out:
// two stores (as two ledger processes would open) on one KurrentDB; a write
// through one reaches the other's subscription, and racing writes on one
// revision through both have exactly one winner.
func TestTwoLedgerProcessesOnOneServer(t *testing.T) {
	srv := protocoldouble.StartTest(t, withSystemEvents)
	a := openStore(t, srv.ConnectionString(), kurrentdb.Options{})
	b := openStore(t, srv.ConnectionString(), kurrentdb.Options{})
	ctx := testCtx(t)

	got := make(chan eventstore.RecordedEvent, 10)
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_ = b.Subscribe(subCtx, eventstore.Start, func(e eventstore.RecordedEvent) error { got <- e; return nil })
	}()
	first := storetest.Event("PractitionerRegistered")
	_, err := a.Append(ctx, "practitioner-1", eventstore.NoStream(), first)
	require.NoError(t, err)
	assert.Equal(t, first.ID, (<-got).ID)

	const rounds = 10
	for round := range rounds {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, s := range []*kurrentdb.Store{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.Append(ctx, "practitioner-1", eventstore.Exact(uint64(round)), storetest.Event("CourseCompleted"))
			}()
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
			} else {
				assert.ErrorIs(t, err, eventstore.ErrRevisionConflict)
			}
		}
		assert.Equal(t, 1, wins, "round %d", round)
	}
	evs, err := a.ReadStream(ctx, "practitioner-1", eventstore.ReadOptions{})
	require.NoError(t, err)
	assert.Len(t, evs, rounds+1)
	rep, err := eventstore.Verify(ctx, b)
	require.NoError(t, err)
	assert.True(t, rep.OK, "%+v", rep.FirstFailure)
}

func TestCallsAfterCloseFail(t *testing.T) {
	srv := protocoldouble.StartTest(t, withSystemEvents)
	s, err := kurrentdb.Open(testCtx(t), srv.ConnectionString(), kurrentdb.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "twice is fine")
	_, err = s.Append(testCtx(t), "practitioner-1", eventstore.Any(), storetest.Event("X"))
	assert.True(t, errors.Is(err, eventstore.ErrClosed))
}
