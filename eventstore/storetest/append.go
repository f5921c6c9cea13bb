package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
)

func testAppend(t *testing.T, h harness) {
	t.Run("revisions count from 0 in append order", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		const stream = "practitioner-1"
		first := newEvents(3, "CourseCompleted")
		r1 := mustAppend(t, ctx, s, stream, eventstore.NoStream(), first...)
		assert.Equal(t, uint64(0), r1.FirstRevision)
		assert.Equal(t, uint64(2), r1.LastRevision)
		assert.Greater(t, r1.FirstPosition, eventstore.Start)
		assert.Greater(t, r1.LastPosition, r1.FirstPosition)

		second := newEvents(2, "CPDRecorded")
		r2 := mustAppend(t, ctx, s, stream, eventstore.Exact(2), second...)
		assert.Equal(t, uint64(3), r2.FirstRevision)
		assert.Equal(t, uint64(4), r2.LastRevision)
		assert.Greater(t, r2.FirstPosition, r1.LastPosition)
		assert.Greater(t, r2.LastPosition, r2.FirstPosition)

		want := append(first, second...)
		got := readStream(t, ctx, s, stream)
		require.Len(t, got, len(want))
		assertContiguous(t, stream, got)
		for i := range want {
			assertStored(t, want[i], got[i])
		}
	})

	t.Run("a single event has one revision and one position", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		e := Event("PractitionerRegistered")
		res := mustAppend(t, ctx, s, "practitioner-1", eventstore.Any(), e)
		assert.Equal(t, eventstore.AppendResult{FirstRevision: 0, LastRevision: 0, FirstPosition: res.FirstPosition, LastPosition: res.FirstPosition}, res)
		got := readStream(t, ctx, s, "practitioner-1")
		require.Len(t, got, 1)
		assert.Equal(t, res.FirstPosition, got[0].Position)
	})

	t.Run("streams count revisions independently", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		a := newEvents(3, "CourseCompleted")
		b := newEvents(2, "CourseCompleted")
		mustAppend(t, ctx, s, "practitioner-a", eventstore.Any(), a[0])
		rb := mustAppend(t, ctx, s, "practitioner-b", eventstore.Any(), b[0])
		mustAppend(t, ctx, s, "practitioner-a", eventstore.Any(), a[1:]...)
		rb2 := mustAppend(t, ctx, s, "practitioner-b", eventstore.Exact(0), b[1])
		assert.Equal(t, uint64(0), rb.FirstRevision)
		assert.Equal(t, uint64(1), rb2.FirstRevision)

		gotA := readStream(t, ctx, s, "practitioner-a")
		gotB := readStream(t, ctx, s, "practitioner-b")
		assert.Equal(t, dataIDs(a), ids(gotA))
		assert.Equal(t, dataIDs(b), ids(gotB))
		assertContiguous(t, "practitioner-a", gotA)
		assertContiguous(t, "practitioner-b", gotB)
	})
}

func testExpectedRevision(t *testing.T, h harness) {
	cases := []struct {
		name     string
		existing int // events already in the stream (its revision is existing-1)
		expected eventstore.ExpectedRevision
		conflict bool
	}{
		{name: "any on a new stream", existing: 0, expected: eventstore.Any()},
		{name: "any on an existing stream", existing: 2, expected: eventstore.Any()},
		{name: "zero value is any", existing: 2, expected: eventstore.ExpectedRevision{}},
		{name: "no stream on a new stream", existing: 0, expected: eventstore.NoStream()},
		{name: "no stream on an existing stream", existing: 2, expected: eventstore.NoStream(), conflict: true},
		{name: "exact 0 on a new stream", existing: 0, expected: eventstore.Exact(0), conflict: true},
		{name: "exact 0 on a one-event stream", existing: 1, expected: eventstore.Exact(0)},
		{name: "exact last revision", existing: 2, expected: eventstore.Exact(1)},
		{name: "exact behind the stream", existing: 2, expected: eventstore.Exact(0), conflict: true},
		{name: "exact one ahead of the stream", existing: 2, expected: eventstore.Exact(2), conflict: true},
		{name: "exact far ahead of the stream", existing: 2, expected: eventstore.Exact(1 << 40), conflict: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.open(t)
			ctx := testContext(t)
			const stream = "practitioner-1"
			// Another stream makes sure the check looks at this stream only.
			mustAppend(t, ctx, s, "practitioner-other", eventstore.Any(), newEvents(3, "CourseCompleted")...)
			if tc.existing > 0 {
				mustAppend(t, ctx, s, stream, eventstore.Any(), newEvents(tc.existing, "CourseCompleted")...)
			}
			before := readAll(t, ctx, s, eventstore.Start)

			events := newEvents(2, "CPDRecorded")
			res, err := s.Append(ctx, stream, tc.expected, events...)
			if !tc.conflict {
				require.NoError(t, err)
				assert.Equal(t, uint64(tc.existing), res.FirstRevision)
				assert.Equal(t, uint64(tc.existing+1), res.LastRevision)
				got := readStream(t, ctx, s, stream)
				require.Len(t, got, tc.existing+2)
				assert.Equal(t, dataIDs(events), ids(got[tc.existing:]))
				return
			}

			require.Error(t, err)
			assert.ErrorIs(t, err, eventstore.ErrRevisionConflict)
			var conflict *eventstore.RevisionConflictError
			require.ErrorAs(t, err, &conflict)
			assert.Equal(t, stream, conflict.Stream)
			assert.Equal(t, tc.expected, conflict.Expected)
			assert.Equal(t, tc.existing > 0, conflict.Exists, "Exists")
			if tc.existing > 0 {
				assert.Equal(t, uint64(tc.existing-1), conflict.Current, "Current")
			}
			assert.Equal(t, eventstore.AppendResult{}, res, "a failed append reports no result")
			assertUnchanged(t, ctx, s, before)
		})
	}
}

func testIdempotency(t *testing.T, h harness) {
	t.Run("a retry returns the original result and stores nothing", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		e := Event("PractitionerRegistered")
		first := mustAppend(t, ctx, s, "practitioner-1", eventstore.NoStream(), e)
		before := readAll(t, ctx, s, eventstore.Start)

		again, err := s.Append(ctx, "practitioner-1", eventstore.NoStream(), e)
		require.NoError(t, err, "a retry with the same ID and content is not a conflict")
		assert.Equal(t, first, again)
		assertUnchanged(t, ctx, s, before)
	})

	t.Run("a retry after the stream moved on returns the original result", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		a, b, c := Event("PractitionerRegistered"), Event("CourseCompleted"), Event("CourseCompleted")
		ra := mustAppend(t, ctx, s, "practitioner-1", eventstore.NoStream(), a)
		rb := mustAppend(t, ctx, s, "practitioner-1", eventstore.Exact(0), b)
		mustAppend(t, ctx, s, "practitioner-1", eventstore.Exact(1), c)
		before := readAll(t, ctx, s, eventstore.Start)

		cases := []struct {
			name     string
			event    eventstore.EventData
			expected eventstore.ExpectedRevision
			want     eventstore.AppendResult
		}{
			{"first event with its stale no-stream", a, eventstore.NoStream(), ra},
			{"middle event with its stale exact revision", b, eventstore.Exact(0), rb},
			{"middle event with any", b, eventstore.Any(), rb},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.Append(ctx, "practitioner-1", tc.expected, tc.event)
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
				assertUnchanged(t, ctx, s, before)
			})
		}
	})

	t.Run("a retry of a multi-event append returns the original result", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		batch := newEvents(3, "CourseCompleted")
		first := mustAppend(t, ctx, s, "practitioner-1", eventstore.NoStream(), batch...)
		mustAppend(t, ctx, s, "practitioner-1", eventstore.Exact(2), Event("CPDRecorded"))
		mustAppend(t, ctx, s, "practitioner-2", eventstore.Any(), Event("CPDRecorded"))
		before := readAll(t, ctx, s, eventstore.Start)

		again, err := s.Append(ctx, "practitioner-1", eventstore.NoStream(), batch...)
		require.NoError(t, err)
		assert.Equal(t, first, again)
		assertUnchanged(t, ctx, s, before)

		rep, err := eventstore.Verify(ctx, s)
		require.NoError(t, err)
		assert.True(t, rep.OK, "chain after a retry: %+v", rep.FirstFailure)
	})

	t.Run("concurrent retries of one append store it once", func(t *testing.T) {
		// A client that times out and retries may race its own first
		// attempt; a group-committing backend may then see both in one batch.
		cases := []struct {
			name     string
			expected eventstore.ExpectedRevision
			n        int
		}{
			{"single event, no stream", eventstore.NoStream(), 1},
			{"single event, any", eventstore.Any(), 1},
			{"three events, no stream", eventstore.NoStream(), 3},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := h.open(t)
				ctx := testContext(t)
				batch := newEvents(tc.n, "CourseCompleted")
				start := make(chan struct{})
				results := make(chan attempt, racers)
				var wg sync.WaitGroup
				for range racers {
					wg.Go(func() {
						<-start
						res, err := s.Append(ctx, "practitioner-1", tc.expected, batch...)
						results <- attempt{res: res, err: err}
					})
				}
				close(start)
				wg.Wait()
				close(results)
				var first *eventstore.AppendResult
				for a := range results {
					if !assert.NoError(t, a.err, "a retry is not a conflict") {
						continue
					}
					if first == nil {
						first = &a.res
					}
					assert.Equal(t, *first, a.res, "every attempt reports the one append")
				}
				got := readAll(t, ctx, s, eventstore.Start)
				assert.Equal(t, dataIDs(batch), ids(got), "the append is stored once")
			})
		}
	})

	t.Run("the same ID with different content is a mismatch", func(t *testing.T) {
		cases := []struct {
			name   string
			change func(*eventstore.EventData)
		}{
			{"data", func(e *eventstore.EventData) { e.Data = []byte(`{"seq":-1}`) }},
			{"type", func(e *eventstore.EventData) { e.Type = "CPDRecorded" }},
			{"metadata", func(e *eventstore.EventData) { e.Metadata = []byte(`{"source":"elsewhere"}`) }},
			{"occurred on", func(e *eventstore.EventData) { e.OccurredOn = "2024-03-02" }},
			{"recorded by", func(e *eventstore.EventData) { e.RecordedBy = "admin:someone-else" }},
			{"schema version", func(e *eventstore.EventData) { e.SchemaVersion = 2 }},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := h.open(t)
				ctx := testContext(t)
				e := Event("CourseCompleted")
				mustAppend(t, ctx, s, "practitioner-1", eventstore.Any(), e)
				before := readAll(t, ctx, s, eventstore.Start)

				changed := e
				tc.change(&changed)
				_, err := s.Append(ctx, "practitioner-1", eventstore.Any(), changed)
				assert.ErrorIs(t, err, eventstore.ErrIdempotencyMismatch)
				assertUnchanged(t, ctx, s, before)
				got := readStream(t, ctx, s, "practitioner-1")
				require.Len(t, got, 1)
				assertStored(t, e, got[0])
			})
		}
	})

	t.Run("a retry whose later events differ is a mismatch", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		batch := newEvents(2, "CourseCompleted")
		mustAppend(t, ctx, s, "practitioner-1", eventstore.NoStream(), batch...)
		before := readAll(t, ctx, s, eventstore.Start)

		_, err := s.Append(ctx, "practitioner-1", eventstore.NoStream(), batch[0], Event("CourseCompleted"))
		assert.ErrorIs(t, err, eventstore.ErrIdempotencyMismatch)
		assertUnchanged(t, ctx, s, before)
	})
}

func testInvalidAppend(t *testing.T, h harness) {
	valid := func() eventstore.EventData { return Event("CourseCompleted") }
	dup := valid()
	cases := []struct {
		name   string
		stream string
		events []eventstore.EventData
	}{
		{"no events", "practitioner-1", nil},
		{"nil event id", "practitioner-1", []eventstore.EventData{func() eventstore.EventData { e := valid(); e.ID = uuid.Nil; return e }()}},
		{"duplicate ids in one call", "practitioner-1", []eventstore.EventData{dup, valid(), dup}},
		{"empty type", "practitioner-1", []eventstore.EventData{func() eventstore.EventData { e := valid(); e.Type = ""; return e }()}},
		{"empty stream name", "", []eventstore.EventData{valid()}},
		{"invalid event after valid ones", "practitioner-1", []eventstore.EventData{valid(), valid(), func() eventstore.EventData { e := valid(); e.ID = uuid.Nil; return e }()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, existing := range []int{0, 1} {
				s := h.open(t)
				ctx := testContext(t)
				if existing > 0 && tc.stream != "" {
					mustAppend(t, ctx, s, tc.stream, eventstore.Any(), newEvents(existing, "PractitionerRegistered")...)
				}
				before := readAll(t, ctx, s, eventstore.Start)

				res, err := s.Append(ctx, tc.stream, eventstore.Any(), tc.events...)
				assert.ErrorIs(t, err, eventstore.ErrInvalidEvent, "with %d events already in the stream", existing)
				assert.Equal(t, eventstore.AppendResult{}, res)
				assertUnchanged(t, ctx, s, before)
			}
		})
	}

	t.Run("a rejected event can be appended once corrected", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		good := Event("CourseCompleted")
		bad := Event("CourseCompleted")
		bad.Type = ""
		_, err := s.Append(ctx, "practitioner-1", eventstore.NoStream(), good, bad)
		require.ErrorIs(t, err, eventstore.ErrInvalidEvent)

		bad.Type = "CourseCompleted"
		res := mustAppend(t, ctx, s, "practitioner-1", eventstore.NoStream(), good, bad)
		assert.Equal(t, uint64(0), res.FirstRevision)
		assert.Equal(t, uint64(1), res.LastRevision)
	})
}

func testAtomicity(t *testing.T, h harness) {
	t.Run("a conflicting multi-event append stores none of its events", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		mustAppend(t, ctx, s, "practitioner-1", eventstore.Any(), Event("PractitionerRegistered"))
		before := readAll(t, ctx, s, eventstore.Start)

		batch := newEvents(4, "CourseCompleted")
		_, err := s.Append(ctx, "practitioner-1", eventstore.NoStream(), batch...)
		require.ErrorIs(t, err, eventstore.ErrRevisionConflict)
		assertUnchanged(t, ctx, s, before)

		// Nothing of the rejected batch was kept, not even its IDs: the same
		// batch with the right revision is a first append, not a retry.
		res := mustAppend(t, ctx, s, "practitioner-1", eventstore.Exact(0), batch...)
		assert.Equal(t, uint64(1), res.FirstRevision)
		assert.Equal(t, uint64(4), res.LastRevision)
		got := readStream(t, ctx, s, "practitioner-1")
		assert.Equal(t, dataIDs(batch), ids(got[1:]))
	})

	t.Run("a multi-event append lands whole", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		batch := newEvents(50, "CourseCompleted")
		res := mustAppend(t, ctx, s, "practitioner-1", eventstore.NoStream(), batch...)
		assert.Equal(t, uint64(0), res.FirstRevision)
		assert.Equal(t, uint64(49), res.LastRevision)
		got := readStream(t, ctx, s, "practitioner-1")
		require.Len(t, got, 50)
		assertContiguous(t, "practitioner-1", got)
		assert.Equal(t, res.FirstPosition, got[0].Position)
		assert.Equal(t, res.LastPosition, got[49].Position)
		for i := range batch {
			assertStored(t, batch[i], got[i])
		}
	})

	t.Run("readers never see part of an append", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		const (
			writers   = 4
			batches   = 15
			batchSize = 3
		)
		streams := []string{"practitioner-1", "practitioner-2"}
		done := make(chan struct{})
		writeErrs := make(chan error, writers)
		for w := range writers {
			go func() {
				var err error
				for i := range batches {
					if _, err = s.Append(ctx, streams[(w+i)%len(streams)], eventstore.Any(), newEvents(batchSize, "CourseCompleted")...); err != nil {
						break
					}
				}
				writeErrs <- err
			}()
		}
		readErrs := make(chan error, 1)
		go func() {
			readErrs <- func() error {
				for {
					select {
					case <-done:
						return nil
					default:
					}
					for _, stream := range streams {
						evs, err := s.ReadStream(ctx, stream, eventstore.ReadOptions{})
						if errors.Is(err, eventstore.ErrStreamNotFound) {
							continue
						}
						if err != nil {
							return err
						}
						if len(evs)%batchSize != 0 {
							return fmt.Errorf("ReadStream %s saw part of an append: %d events is not a whole number of %d-event batches", stream, len(evs), batchSize)
						}
					}
					all, err := collectAll(ctx, s, eventstore.Start)
					if err != nil {
						return err
					}
					if len(all)%batchSize != 0 {
						return fmt.Errorf("ReadAll saw part of an append: %d events is not a whole number of %d-event batches", len(all), batchSize)
					}
				}
			}()
		}()
		for range writers {
			assert.NoError(t, <-writeErrs)
		}
		close(done)
		assert.NoError(t, <-readErrs)
		assert.Len(t, readAll(t, ctx, s, eventstore.Start), writers*batches*batchSize)
	})
}
