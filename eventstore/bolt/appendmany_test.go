package bolt

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/storetest"
)

func TestAppendMany(t *testing.T) {
	ctx := t.Context()
	s, path := openTemp(t, Options{}, nil)
	reg := storetest.Event("PractitionerRegistered")
	_, err := s.Append(ctx, "practitioner-0", eventstore.NoStream(), reg)
	require.NoError(t, err)

	parts := []eventstore.StreamAppend{
		{Stream: "practitioner-1", Expected: eventstore.NoStream(), Events: events(3)},
		{Stream: "practitioner-0", Expected: eventstore.Exact(0), Events: events(2)},
		{Stream: "practitioner-2", Expected: eventstore.NoStream(), Events: events(1)},
		// A stream may come again: its expected revision is checked
		// against what the parts before it left.
		{Stream: "practitioner-1", Expected: eventstore.Exact(2), Events: events(2)},
	}
	res, err := s.AppendMany(ctx, parts...)
	require.NoError(t, err)
	require.Len(t, res, 4)
	assert.Equal(t, eventstore.AppendResult{FirstRevision: 0, LastRevision: 2, FirstPosition: 2, LastPosition: 4}, res[0])
	assert.Equal(t, eventstore.AppendResult{FirstRevision: 1, LastRevision: 2, FirstPosition: 5, LastPosition: 6}, res[1])
	assert.Equal(t, eventstore.AppendResult{FirstRevision: 0, LastRevision: 0, FirstPosition: 7, LastPosition: 7}, res[2])
	assert.Equal(t, eventstore.AppendResult{FirstRevision: 3, LastRevision: 4, FirstPosition: 8, LastPosition: 9}, res[3])

	t.Run("a retry of the whole stores nothing and answers the same", func(t *testing.T) {
		again, err := s.AppendMany(ctx, parts...)
		require.NoError(t, err)
		assert.Equal(t, res, again)
		assert.Len(t, readAllOf(t, s), 9)
	})

	t.Run("a refused last part stores nothing of the others", func(t *testing.T) {
		fresh := []eventstore.StreamAppend{
			{Stream: "practitioner-3", Expected: eventstore.NoStream(), Events: events(2)},
			{Stream: "practitioner-0", Expected: eventstore.Exact(2), Events: events(1)},
			{Stream: "practitioner-2", Expected: eventstore.Exact(7), Events: events(1)},
		}
		_, err := s.AppendMany(ctx, fresh...)
		var c *eventstore.RevisionConflictError
		require.ErrorAs(t, err, &c)
		assert.Equal(t, "practitioner-2", c.Stream)
		assert.Len(t, readAllOf(t, s), 9)
		_, err = s.ReadStream(ctx, "practitioner-3", eventstore.ReadOptions{})
		assert.ErrorIs(t, err, eventstore.ErrStreamNotFound, "the index holds nothing of the refused call either")

		// The same parts, corrected, land as if nothing had happened.
		fresh[2].Expected = eventstore.Exact(0)
		got, err := s.AppendMany(ctx, fresh...)
		require.NoError(t, err)
		assert.Equal(t, uint64(0), got[0].FirstRevision)
		assert.Equal(t, eventstore.Position(10), got[0].FirstPosition)
	})

	t.Run("refusals of one part refuse the whole", func(t *testing.T) {
		changed := reg
		changed.Data = []byte(`{"changed":true}`)
		old := storetest.Event("CourseCompleted")
		old.RecordedAt = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
		cases := []struct {
			name string
			bad  eventstore.StreamAppend
			want error
		}{
			{"mismatched retry", eventstore.StreamAppend{Stream: "practitioner-0", Expected: eventstore.Any(), Events: []eventstore.EventData{changed}}, eventstore.ErrIdempotencyMismatch},
			{"recorded time before the stream's last", eventstore.StreamAppend{Stream: "practitioner-0", Expected: eventstore.Any(), Events: []eventstore.EventData{old}}, eventstore.ErrInvalidEvent},
			{"invalid on its own", eventstore.StreamAppend{Stream: "", Expected: eventstore.Any(), Events: events(1)}, eventstore.ErrInvalidEvent},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := len(readAllOf(t, s))
				_, err := s.AppendMany(ctx, eventstore.StreamAppend{Stream: "practitioner-4", Expected: eventstore.NoStream(), Events: events(1)}, tc.bad)
				assert.ErrorIs(t, err, tc.want)
				assert.Len(t, readAllOf(t, s), before)
			})
		}
	})

	t.Run("chains verify and survive a reopen", func(t *testing.T) {
		want := readAllOf(t, s)
		require.NoError(t, s.Close())
		s2 := openAt(t, path, Options{}, nil)
		got := readAllOf(t, s2)
		require.Len(t, got, len(want))
		for i := range want {
			assert.Equal(t, want[i].Hash, got[i].Hash)
		}
		rep, err := eventstore.Verify(ctx, s2)
		require.NoError(t, err)
		assert.True(t, rep.OK, "%+v", rep.FirstFailure)
		s1, err := s2.ReadStream(ctx, "practitioner-1", eventstore.ReadOptions{})
		require.NoError(t, err)
		assert.Len(t, s1, 5)
	})
}

// TestAppendManyInAGroupCommit queues an AppendMany refused half-way
// between ordinary appends in one group commit: it is taken out (its
// written parts rolled back) and the others are stored as if it had never
// been queued.
func TestAppendManyInAGroupCommit(t *testing.T) {
	g := newGate()
	s, _ := openTemp(t, Options{}, g.hooks())
	ctx := t.Context()
	blocker := appendAsync(ctx, s, "practitioner-9", eventstore.NoStream(), storetest.Event("PractitionerRegistered"))
	<-g.queued
	<-g.held // the writer is inside a commit: what follows queues up

	before := appendAsync(ctx, s, "practitioner-1", eventstore.NoStream(), events(2)...)
	<-g.queued
	type manyOutcome struct {
		res []eventstore.AppendResult
		err error
	}
	many := func(parts ...eventstore.StreamAppend) <-chan manyOutcome {
		ch := make(chan manyOutcome, 1)
		go func() {
			res, err := s.AppendMany(ctx, parts...)
			ch <- manyOutcome{res, err}
		}()
		<-g.queued
		return ch
	}
	refused := many(
		eventstore.StreamAppend{Stream: "practitioner-2", Expected: eventstore.NoStream(), Events: events(3)},
		eventstore.StreamAppend{Stream: "practitioner-1", Expected: eventstore.Exact(1), Events: events(1)},
		eventstore.StreamAppend{Stream: "practitioner-1", Expected: eventstore.Exact(1), Events: events(1)},
	)
	accepted := many(
		eventstore.StreamAppend{Stream: "practitioner-3", Expected: eventstore.NoStream(), Events: events(1)},
		eventstore.StreamAppend{Stream: "practitioner-1", Expected: eventstore.Exact(1), Events: events(1)},
	)
	after := appendAsync(ctx, s, "practitioner-2", eventstore.NoStream(), events(1)...)
	<-g.queued
	g.release <- struct{}{}
	require.NoError(t, (<-blocker).err)
	assert.Equal(t, 3, <-g.held, "the four were tried in one transaction; it was rolled back and the three others committed without the refused call")
	close(g.release)

	require.NoError(t, (<-before).err)
	r := <-refused
	var c *eventstore.RevisionConflictError
	require.ErrorAs(t, r.err, &c)
	assert.Equal(t, uint64(2), c.Current)
	a := <-accepted
	require.NoError(t, a.err)
	assert.Equal(t, uint64(2), a.res[1].FirstRevision)
	o := <-after
	require.NoError(t, o.err)
	assert.Equal(t, uint64(0), o.res.LastRevision, "practitioner-2 holds nothing of the refused call")

	all := readAllOf(t, s)
	assert.Len(t, all, 1+2+1+1+1)
	for i, e := range all {
		assert.Equal(t, eventstore.Position(i+1), e.Position, "positions are contiguous")
	}
	rep, err := eventstore.Verify(ctx, s)
	require.NoError(t, err)
	assert.True(t, rep.OK, "%+v", rep.FirstFailure)
}

func TestAppendManyCancelledOrClosed(t *testing.T) {
	s, _ := openTemp(t, Options{}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	part := eventstore.StreamAppend{Stream: "practitioner-1", Expected: eventstore.NoStream(), Events: events(1)}
	_, err := s.AppendMany(ctx, part)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = s.AppendMany(t.Context())
	assert.ErrorIs(t, err, eventstore.ErrInvalidEvent, "no parts")
	require.NoError(t, s.Close())
	_, err = s.AppendMany(t.Context(), part)
	assert.ErrorIs(t, err, eventstore.ErrClosed)
}

// TestAppendAllWithoutMultiAppender runs eventstore.AppendAll over a store
// that only has Append: one append per part, and a run again after a
// failure finishes the job.
func TestAppendAllWithoutMultiAppender(t *testing.T) {
	s, _ := openTemp(t, Options{}, nil)
	ctx := t.Context()
	parts := make([]eventstore.StreamAppend, 5)
	for i := range parts {
		parts[i] = eventstore.StreamAppend{Stream: fmt.Sprintf("practitioner-%d", i), Expected: eventstore.NoStream(), Events: events(2)}
	}
	// practitioner-3 holds something else: the first run stops there.
	_, err := s.Append(ctx, "practitioner-3", eventstore.NoStream(), storetest.Event("PractitionerRegistered"))
	require.NoError(t, err)
	var seen []int
	atomic, err := eventstore.AppendAll(ctx, appendOnly{s}, parts, func(n int) { seen = append(seen, n) })
	assert.False(t, atomic)
	assert.Error(t, err)
	assert.Equal(t, []int{2, 4, 6}, seen)
	assert.Len(t, readAllOf(t, s), 7)

	parts[3].Events = []eventstore.EventData{{ID: uuid.New(), Type: "CourseCompleted"}}
	parts[3].Expected = eventstore.Exact(0)
	_, err = eventstore.AppendAll(ctx, appendOnly{s}, parts, nil)
	require.NoError(t, err)
	assert.Len(t, readAllOf(t, s), 1+2*4+1)

	atomic, err = eventstore.AppendAll(ctx, s, parts, nil)
	assert.True(t, atomic, "the store itself is a MultiAppender")
	require.NoError(t, err, "the whole again is an idempotent retry")
}

// appendOnly hides the store's AppendMany.
type appendOnly struct{ eventstore.Store }
