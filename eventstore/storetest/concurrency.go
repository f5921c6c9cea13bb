package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
)

// racers is how many goroutines race on one stream; enough that a store
// which checks the expected revision outside its write transaction loses
// the race on almost every run.
const racers = 24

type attempt struct {
	event eventstore.EventData
	res   eventstore.AppendResult
	err   error
}

func testConcurrency(t *testing.T, h harness) {
	t.Run("exactly one winner per revision", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		const stream = "practitioner-contended"
		const rounds = 4
		var winners []uuid.UUID
		for round := range rounds {
			expected := expectAfter(round)
			start := make(chan struct{})
			results := make(chan attempt, racers)
			var wg sync.WaitGroup
			for range racers {
				wg.Go(func() {
					e := Event("CourseCompleted")
					<-start
					res, err := s.Append(ctx, stream, expected, e)
					results <- attempt{event: e, res: res, err: err}
				})
			}
			close(start)
			wg.Wait()
			close(results)

			wins := 0
			for a := range results {
				if a.err == nil {
					wins++
					winners = append(winners, a.event.ID)
					assert.Equal(t, uint64(round), a.res.FirstRevision, "round %d: the winner's revision", round)
					continue
				}
				var conflict *eventstore.RevisionConflictError
				if assert.ErrorAs(t, a.err, &conflict, "round %d: a loser gets a revision conflict", round) {
					assert.True(t, conflict.Exists, "round %d: the loser sees the stream", round)
					assert.Equal(t, uint64(round), conflict.Current, "round %d: the loser sees the winner's revision", round)
					assert.Equal(t, expected, conflict.Expected)
				}
			}
			require.Equal(t, 1, wins, "round %d (expected %s): exactly one of %d racers wins", round, expected, racers)
		}

		got := readStream(t, ctx, s, stream)
		assert.Equal(t, winners, ids(got), "the stream holds the winners only, in round order")
		assertContiguous(t, stream, got)
		assertChain(t, stream, got)
	})

	t.Run("racing writers retrying on conflict", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		const stream = "practitioner-contended"
		const perWriter = 4
		type landed struct {
			id  uuid.UUID
			res eventstore.AppendResult
		}
		start := make(chan struct{})
		results := make(chan []landed, racers)
		errs := make(chan error, racers)
		for range racers {
			go func() {
				<-start
				mine, err := appendRetrying(ctx, s, stream, perWriter)
				out := make([]landed, len(mine))
				for i, a := range mine {
					out[i] = landed{id: a.event.ID, res: a.res}
				}
				results <- out
				errs <- err
			}()
		}
		close(start)

		byRevision := map[uint64]uuid.UUID{}
		for range racers {
			mine := <-results
			require.NoError(t, <-errs)
			assert.Len(t, mine, perWriter)
			for _, l := range mine {
				assert.Equal(t, l.res.FirstRevision, l.res.LastRevision)
				prev, taken := byRevision[l.res.FirstRevision]
				assert.False(t, taken, "revision %d won by both %s and %s", l.res.FirstRevision, prev, l.id)
				byRevision[l.res.FirstRevision] = l.id
			}
		}

		got := readStream(t, ctx, s, stream)
		require.Len(t, got, racers*perWriter, "every acknowledged append is stored once")
		assertContiguous(t, stream, got)
		seen := map[uuid.UUID]bool{}
		for _, e := range got {
			assert.False(t, seen[e.ID], "event %s stored twice", e.ID)
			seen[e.ID] = true
			assert.Equal(t, byRevision[e.Revision], e.ID, "revision %d holds the event acknowledged for it", e.Revision)
		}
		rep, err := eventstore.Verify(ctx, s)
		require.NoError(t, err)
		assert.True(t, rep.OK, "first failure: %+v", rep.FirstFailure)
		assert.Equal(t, racers*perWriter, rep.EventsChecked)
	})

	t.Run("many writers on many streams", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		const (
			writers = 16
			appends = 12
			streams = 10
		)
		type done struct {
			stream string
			events []eventstore.EventData
			res    eventstore.AppendResult
		}
		results := make(chan done, writers*appends)
		errs := make(chan error, writers)
		for w := range writers {
			go func() {
				for i := range appends {
					stream := fmt.Sprintf("practitioner-%d", (w*7+i)%streams)
					events := newEvents(1+(w+i)%3, "CourseCompleted")
					res, err := s.Append(ctx, stream, eventstore.Any(), events...)
					if err != nil {
						errs <- err
						return
					}
					results <- done{stream: stream, events: events, res: res}
				}
				errs <- nil
			}()
		}
		for range writers {
			require.NoError(t, <-errs)
		}
		close(results)

		all := readAll(t, ctx, s, eventstore.Start)
		assertIncreasingPositions(t, all)
		byID := map[uuid.UUID]eventstore.RecordedEvent{}
		for _, e := range all {
			byID[e.ID] = e
		}
		total := 0
		for d := range results {
			total += len(d.events)
			assert.Equal(t, uint64(len(d.events)-1), d.res.LastRevision-d.res.FirstRevision)
			for i, ed := range d.events {
				e, ok := byID[ed.ID]
				if !assert.True(t, ok, "acknowledged event %s is missing", ed.ID) {
					continue
				}
				assert.Equal(t, d.stream, e.Stream)
				assert.Equal(t, d.res.FirstRevision+uint64(i), e.Revision, "revision of %s", ed.ID)
				switch i {
				case 0:
					assert.Equal(t, d.res.FirstPosition, e.Position, "first position of an append")
				case len(d.events) - 1:
					assert.Equal(t, d.res.LastPosition, e.Position, "last position of an append")
				}
			}
		}
		assert.Len(t, all, total, "the store holds the acknowledged events and nothing else")
		for i := range streams {
			stream := fmt.Sprintf("practitioner-%d", i)
			evs := readStream(t, ctx, s, stream)
			assertContiguous(t, stream, evs)
			assertChain(t, stream, evs)
		}
		rep, err := eventstore.Verify(ctx, s)
		require.NoError(t, err)
		assert.True(t, rep.OK, "first failure: %+v", rep.FirstFailure)
		assert.Equal(t, total, rep.EventsChecked)
	})
}

// appendRetrying lands n single-event appends on stream, each with the exact
// revision it believes current, learning the stream's revision from every
// conflict it loses.
func appendRetrying(ctx context.Context, s eventstore.Store, stream string, n int) ([]attempt, error) {
	var mine []attempt
	expected := eventstore.NoStream()
	for len(mine) < n {
		if err := ctx.Err(); err != nil {
			return mine, err
		}
		e := Event("CourseCompleted")
		res, err := s.Append(ctx, stream, expected, e)
		var conflict *eventstore.RevisionConflictError
		switch {
		case err == nil:
			mine = append(mine, attempt{event: e, res: res})
			expected = eventstore.Exact(res.LastRevision)
		case errors.As(err, &conflict):
			if !conflict.Exists {
				return mine, fmt.Errorf("conflict on %s says the stream does not exist after expecting %s: %w", stream, expected, err)
			}
			expected = eventstore.Exact(conflict.Current)
		default:
			return mine, err
		}
	}
	return mine, nil
}
