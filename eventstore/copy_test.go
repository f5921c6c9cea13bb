package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/bolt"
	"github.com/imattertraining/ledger/eventstore/storetest"
)

// openBolt opens an embedded store in a fresh directory, closed when t ends.
func openBolt(t *testing.T) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "events.db"), bolt.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newEvent(typ string, n int) eventstore.EventData {
	return eventstore.EventData{
		ID: uuid.New(), Type: typ, SchemaVersion: 1, OccurredOn: "2024-05-01",
		RecordedBy: fmt.Sprintf("admin:copy-test-%d", n%3), Data: fmt.Appendf(nil, `{"n":%d}`, n),
	}
}

// fillSource writes a small ledger: several interleaved streams, one-event
// and multi-event appends, events with given recorded times, an older
// schema version, metadata, and one stream longer than Copy appends at once.
// It returns how many events it wrote.
func fillSource(t *testing.T, s eventstore.Store) int {
	t.Helper()
	ctx := context.Background()
	base := time.Date(2019, 4, 1, 8, 30, 0, 123456789, time.UTC)
	n := 0
	for i := range 30 {
		stream := fmt.Sprintf("practitioner-%d", i%4)
		if i%7 == 0 {
			stream = "organisation-1"
		}
		evs := []eventstore.EventData{newEvent("CourseCompleted", n)}
		n++
		if i%3 == 0 {
			evs = append(evs, newEvent("CPDEngagementRecorded", n), newEvent("DirectoryListingConsented", n+1))
			n += 2
		}
		if i < 6 {
			evs[0].RecordedAt = base.Add(time.Duration(i) * time.Hour)
			evs[0].SchemaVersion = 2
			evs[0].Metadata = []byte(`{"imported": true}`)
		}
		_, err := s.Append(ctx, stream, eventstore.Any(), evs...)
		require.NoError(t, err)
	}
	long := make([]eventstore.EventData, 250)
	for i := range long {
		long[i] = newEvent("CPDEngagementRecorded", n)
		n++
	}
	_, err := s.Append(ctx, "practitioner-long", eventstore.NoStream(), long...)
	require.NoError(t, err)
	_, err = s.Append(ctx, "practitioner-0", eventstore.Any(), newEvent("CourseCompleted", n))
	require.NoError(t, err)
	return n + 1
}

// assertCopied checks that to holds exactly from's events in from's order,
// every field equal but the position, and that its chains verify.
func assertCopied(t *testing.T, from, to eventstore.Store) {
	t.Helper()
	want, got := storetest.ReadAll(t, from), storetest.ReadAll(t, to)
	require.Len(t, got, len(want))
	for i := range want {
		w, g := want[i], got[i]
		assert.Equal(t, w.ID, g.ID, "event %d", i)
		assert.Equal(t, w.Hash, g.Hash, "hash of %s", w.ID)
		assert.Equal(t, w.RecordedAt, g.RecordedAt, "recorded time of %s", w.ID)
		assert.Equal(t, w.RecordedBy, g.RecordedBy, "recorder of %s", w.ID)
		w.Position = g.Position // positions are the target's own
		assert.Equal(t, w, g)
	}
	rep, err := eventstore.Verify(context.Background(), to)
	require.NoError(t, err)
	assert.True(t, rep.OK, "%+v", rep.FirstFailure)
	assert.Equal(t, len(want), rep.EventsChecked)
}

func TestCopyBoltToBolt(t *testing.T) {
	src, dst := openBolt(t), openBolt(t)
	total := fillSource(t, src)

	var calls []int
	n, err := eventstore.Copy(context.Background(), src, dst, nil, func(n int) { calls = append(calls, n) })
	require.NoError(t, err)
	assert.Equal(t, total, n)
	assertCopied(t, src, dst)
	require.NotEmpty(t, calls)
	assert.IsIncreasing(t, calls)
	assert.Equal(t, total, calls[len(calls)-1])
}

// TestCopyResumesAfterAnInterruption stops a copy part-way (its context is
// cancelled from the progress callback, after a few appends and in the
// middle of the long stream) and runs it again: the result is the same as
// an uninterrupted copy, with nothing stored twice.
func TestCopyResumesAfterAnInterruption(t *testing.T) {
	cases := []struct {
		name string
		// stop says, from the running count and the total, when to cancel.
		stop func(n, total int) bool
	}{
		{"after the first append", func(n, _ int) bool { return n > 0 }},
		{"after a few appends", func(n, _ int) bool { return n >= 10 }},
		// The long stream (250 events, appended 100 at a time) comes last
		// but one event.
		{"in the middle of the long stream", func(n, total int) bool { return n >= total-251+100 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := openBolt(t), openBolt(t)
			total := fillSource(t, src)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			n, err := eventstore.Copy(ctx, src, dst, nil, func(n int) {
				if tc.stop(n, total) {
					cancel()
				}
			})
			require.ErrorIs(t, err, context.Canceled)
			partial := storetest.ReadAll(t, dst)
			assert.Equal(t, n, len(partial), "Copy reports what it stored")
			require.Less(t, len(partial), total, "the copy stopped early")
			require.NotEmpty(t, partial)

			again, err := eventstore.Copy(context.Background(), src, dst, nil, nil)
			require.NoError(t, err)
			assert.Equal(t, total, again)
			assertCopied(t, src, dst)

			// And once more, complete: still nothing twice.
			_, err = eventstore.Copy(context.Background(), src, dst, nil, nil)
			require.NoError(t, err)
			assertCopied(t, src, dst)
		})
	}
}

// TestCopyRefusesToMixIntoAStream: a target stream holding another event
// stops the copy with a revision conflict naming the stream, and the
// stream keeps only its own event.
func TestCopyRefusesToMixIntoAStream(t *testing.T) {
	src, dst := openBolt(t), openBolt(t)
	fillSource(t, src)
	ctx := context.Background()
	other := newEvent("PractitionerRegistered", 999)
	_, err := dst.Append(ctx, "practitioner-2", eventstore.NoStream(), other)
	require.NoError(t, err)

	_, err = eventstore.Copy(ctx, src, dst, nil, nil)
	var conflict *eventstore.RevisionConflictError
	require.ErrorAs(t, err, &conflict)
	assert.ErrorIs(t, err, eventstore.ErrRevisionConflict)
	assert.Contains(t, err.Error(), "practitioner-2")
	got, err := dst.ReadStream(ctx, "practitioner-2", eventstore.ReadOptions{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, other.ID, got[0].ID)
}

// TestCopyOfAGrownSourceLosesNothing copies a source, lets it grow (more
// events at the end of a stream already copied) and copies again. Copy
// offers the stream's events in one append again, which the store takes as
// a retry of the earlier append that does not match it: Copy must then
// fail rather than report the new events copied.
func TestCopyOfAGrownSourceLosesNothing(t *testing.T) {
	src, dst := openBolt(t), openBolt(t)
	ctx := context.Background()
	_, err := src.Append(ctx, "practitioner-9", eventstore.NoStream(), newEvent("PractitionerRegistered", 0), newEvent("CourseCompleted", 1))
	require.NoError(t, err)
	_, err = eventstore.Copy(ctx, src, dst, nil, nil)
	require.NoError(t, err)
	_, err = src.Append(ctx, "practitioner-9", eventstore.Exact(1), newEvent("CourseCompleted", 2))
	require.NoError(t, err)

	n, err := eventstore.Copy(ctx, src, dst, nil, nil)
	if err == nil {
		assert.Equal(t, 3, n)
		assertCopied(t, src, dst)
		return
	}
	assert.True(t, errors.Is(err, eventstore.ErrIdempotencyMismatch) || errors.Is(err, eventstore.ErrRevisionConflict), "%v", err)
	assert.Len(t, storetest.ReadAll(t, dst), 2, "the target is as the first copy left it")
}

// TestCopyResumesWithHeld: told how many events of each stream the target
// already holds, Copy copies only the rest, so a grown source is finished
// where a plain second run fails.
func TestCopyResumesWithHeld(t *testing.T) {
	src, dst := openBolt(t), openBolt(t)
	ctx := context.Background()
	_, err := src.Append(ctx, "practitioner-9", eventstore.NoStream(), newEvent("PractitionerRegistered", 0), newEvent("CourseCompleted", 1))
	require.NoError(t, err)
	_, err = eventstore.Copy(ctx, src, dst, nil, nil)
	require.NoError(t, err)
	_, err = src.Append(ctx, "practitioner-9", eventstore.Exact(1), newEvent("CourseCompleted", 2))
	require.NoError(t, err)
	_, err = src.Append(ctx, "practitioner-10", eventstore.NoStream(), newEvent("PractitionerRegistered", 3))
	require.NoError(t, err)

	n, err := eventstore.Copy(ctx, src, dst, map[string]uint64{"practitioner-9": 2}, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the third event of practitioner-9 and practitioner-10's")
	assertCopied(t, src, dst)
}

// TestCopyParts: runs of one stream, at most max each, past each stream's
// held prefix, each expecting the revision before it.
func TestCopyParts(t *testing.T) {
	at := func(stream string, rev uint64) eventstore.RecordedEvent {
		return eventstore.RecordedEvent{Stream: stream, Revision: rev, RecordedBy: "Test Administrator"}
	}
	events := []eventstore.RecordedEvent{at("a", 0), at("a", 1), at("a", 2), at("b", 0), at("a", 3), at("b", 1)}
	parts := eventstore.CopyParts(events, map[string]uint64{"a": 1}, 1)
	var got []string
	for _, p := range parts {
		got = append(got, fmt.Sprintf("%s %s %d", p.Stream, p.Expected, len(p.Events)))
		assert.Equal(t, "Test Administrator", p.Events[0].RecordedBy, "the recorder is kept")
	}
	assert.Equal(t, []string{
		"a " + eventstore.Exact(0).String() + " 1", "a " + eventstore.Exact(1).String() + " 1",
		"b " + eventstore.NoStream().String() + " 1", "a " + eventstore.Exact(2).String() + " 1", "b " + eventstore.Exact(0).String() + " 1",
	}, got)
	assert.Len(t, eventstore.CopyParts(events, nil, 10), 4, "consecutive events of a stream go together")
}
