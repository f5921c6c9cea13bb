package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
)

// subTimeout bounds a subscription that waits for events. It is shorter than
// opTimeout so that a subscription that misses an event ends with what it
// received (and the test shows it) before await gives up on a store that
// ignores its context altogether.
const subTimeout = opTimeout / 2

// errEnough ends a subscription once it has received what the test waits for.
var errEnough = errors.New("storetest: subscription received enough events")

type subResult struct {
	events []eventstore.RecordedEvent
	err    error
}

// subscribeN subscribes from from in a goroutine and stops once n events have
// arrived (Subscribe then returns errEnough).
func subscribeN(ctx context.Context, s eventstore.Store, from eventstore.Position, n int) <-chan subResult {
	ch := make(chan subResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, subTimeout)
		defer cancel()
		var got []eventstore.RecordedEvent
		err := s.Subscribe(ctx, from, func(e eventstore.RecordedEvent) error {
			got = append(got, e)
			if len(got) == n {
				return errEnough
			}
			return nil
		})
		ch <- subResult{events: got, err: err}
	}()
	return ch
}

// await receives from ch, failing the test if ctx ends first.
func await[T any](t *testing.T, ctx context.Context, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatalf("%s: gave up waiting: %v", what, ctx.Err())
		panic("unreachable")
	}
}

// assertDelivered checks that a subscription delivered exactly want, in order.
func assertDelivered(t *testing.T, name string, want []eventstore.RecordedEvent, got subResult) {
	t.Helper()
	assert.ErrorIs(t, got.err, errEnough, "%s: Subscribe ended early or late (received %d of %d events)", name, len(got.events), len(want))
	if !assert.Equal(t, ids(want), ids(got.events), "%s: events delivered", name) {
		return
	}
	assertIncreasingPositions(t, got.events)
	for i := range want {
		assert.Equal(t, want[i], got.events[i], "%s: event %d delivered as stored", name, i)
	}
}

func testSubscribe(t *testing.T, h harness) {
	t.Run("catch-up then live with writes during the hand-over", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		// Enough stored events that a backend catching up in chunks crosses
		// several of their boundaries before the hand-over.
		const (
			pre       = 2000
			writers   = 3
			batches   = 10
			batchSize = 2
			total     = pre + writers*batches*batchSize
		)
		// One subscriber starts on the empty store (all live), one after the
		// first events (catch-up, then live) and one while writers are busy,
		// so that its hand-over races with appends.
		fromEmpty := subscribeN(ctx, s, eventstore.Start, total)
		for i := range pre / 100 {
			mustAppend(t, ctx, s, fmt.Sprintf("practitioner-%d", i%4), eventstore.Any(), newEvents(100, "CourseCompleted")...)
		}
		afterPre := subscribeN(ctx, s, eventstore.Start, total)

		half := make(chan struct{})
		writeErrs := make(chan error, writers)
		for w := range writers {
			go func() {
				for i := range batches {
					if _, err := s.Append(ctx, fmt.Sprintf("writer-%d", w), expectAfter(i*batchSize), newEvents(batchSize, "CPDRecorded")...); err != nil {
						writeErrs <- err
						return
					}
					if w == 0 && i == batches/2 {
						close(half)
					}
				}
				writeErrs <- nil
			}()
		}
		await(t, ctx, half, "writer 0 half way")
		duringWrites := subscribeN(ctx, s, eventstore.Start, total)
		for range writers {
			require.NoError(t, await(t, ctx, writeErrs, "writers"))
		}

		subs := map[string]subResult{
			"started on the empty store":    await(t, ctx, fromEmpty, "subscriber on the empty store"),
			"started after catch-up events": await(t, ctx, afterPre, "subscriber after catch-up events"),
			"started during writes":         await(t, ctx, duringWrites, "subscriber during writes"),
		}
		all := readAll(t, ctx, s, eventstore.Start)
		require.Len(t, all, total)
		for name, got := range subs {
			assertDelivered(t, name, all, got)
		}
	})

	t.Run("from a position", func(t *testing.T) {
		cases := []struct {
			name  string
			after int // index of the stored event to subscribe after
			old   int // stored events after it
		}{
			{"a middle event", 4, 5},
			{"the last event", 9, 0},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := h.open(t)
				ctx := testContext(t)
				for i := range 10 {
					mustAppend(t, ctx, s, fmt.Sprintf("practitioner-%d", i%3), eventstore.Any(), Event("CourseCompleted"))
				}
				stored := readAll(t, ctx, s, eventstore.Start)
				require.Len(t, stored, 10)
				from := stored[tc.after].Position
				const live = 4
				sub := subscribeN(ctx, s, from, tc.old+live)
				for range live {
					mustAppend(t, ctx, s, "practitioner-live", eventstore.Any(), Event("CPDRecorded"))
				}
				got := await(t, ctx, sub, "subscriber")
				want := readAll(t, ctx, s, from)
				require.Len(t, want, tc.old+live)
				assertDelivered(t, tc.name, want, got)
			})
		}
	})

	t.Run("context end returns the context's error", func(t *testing.T) {
		cases := []struct {
			name    string
			stored  int
			ctx     func(t *testing.T, parent context.Context, received <-chan struct{}) context.Context
			wantErr error
		}{
			{
				name:   "cancelled before subscribing",
				stored: 3,
				ctx: func(_ *testing.T, parent context.Context, _ <-chan struct{}) context.Context {
					ctx, cancel := context.WithCancel(parent)
					cancel()
					return ctx
				},
				wantErr: context.Canceled,
			},
			{
				name:   "cancelled while live",
				stored: 2,
				ctx: func(t *testing.T, parent context.Context, received <-chan struct{}) context.Context {
					ctx, cancel := context.WithCancel(parent)
					t.Cleanup(cancel)
					go func() {
						<-received
						cancel()
					}()
					return ctx
				},
				wantErr: context.Canceled,
			},
			{
				name:   "deadline while live",
				stored: 1,
				ctx: func(t *testing.T, parent context.Context, _ <-chan struct{}) context.Context {
					ctx, cancel := context.WithTimeout(parent, 100*time.Millisecond)
					t.Cleanup(cancel)
					return ctx
				},
				wantErr: context.DeadlineExceeded,
			},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := h.open(t)
				ctx := testContext(t)
				for range tc.stored {
					mustAppend(t, ctx, s, "practitioner-1", eventstore.Any(), Event("CourseCompleted"))
				}
				received := make(chan struct{})
				n := 0
				subCtx := tc.ctx(t, ctx, received)
				done := make(chan error, 1)
				go func() {
					done <- s.Subscribe(subCtx, eventstore.Start, func(eventstore.RecordedEvent) error {
						n++
						if n == tc.stored {
							close(received)
						}
						return nil
					})
				}()
				err := await(t, ctx, done, "Subscribe after its context ended")
				assert.ErrorIs(t, err, tc.wantErr)
				assert.Equal(t, subCtx.Err(), err, "Subscribe returns ctx.Err()")
				assert.LessOrEqual(t, n, tc.stored, "no event was delivered twice")
			})
		}
	})

	t.Run("a handler error is returned as is", func(t *testing.T) {
		errStop := errors.New("storetest: handler refuses the event")
		cases := []struct {
			name   string
			stored int
			stopAt int // the call that fails, counting from 1
		}{
			{"during catch-up", 5, 3},
			{"on the first live event", 0, 1},
			{"on a later live event", 2, 4},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := h.open(t)
				ctx := testContext(t)
				for range tc.stored {
					mustAppend(t, ctx, s, "practitioner-1", eventstore.Any(), Event("CourseCompleted"))
				}
				calls := 0
				caughtUp := make(chan struct{})
				done := make(chan error, 1)
				go func() {
					subCtx, cancel := context.WithTimeout(ctx, subTimeout)
					defer cancel()
					done <- s.Subscribe(subCtx, eventstore.Start, func(eventstore.RecordedEvent) error {
						calls++
						if calls == tc.stored {
							close(caughtUp)
						}
						if calls == tc.stopAt {
							return errStop
						}
						return nil
					})
				}()
				if tc.stored > 0 && tc.stopAt > tc.stored {
					// Append only once the stored events are in, so that
					// the failing event really arrives live.
					await(t, ctx, caughtUp, "the stored events")
				}
				for range tc.stopAt - tc.stored + 1 {
					mustAppend(t, ctx, s, "practitioner-1", eventstore.Any(), Event("CPDRecorded"))
				}
				err := await(t, ctx, done, "Subscribe after its handler failed")
				assert.True(t, err == errStop, "Subscribe returned %v, not the handler's error itself", err)
				assert.Equal(t, tc.stopAt, calls, "no call after the handler failed")
			})
		}
	})

	t.Run("closing the store ends a live subscription", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		mustAppend(t, ctx, s, "practitioner-1", eventstore.Any(), Event("CourseCompleted"))
		received := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			subCtx, cancel := context.WithTimeout(ctx, subTimeout)
			defer cancel()
			first := true
			done <- s.Subscribe(subCtx, eventstore.Start, func(eventstore.RecordedEvent) error {
				if first {
					first = false
					close(received)
				}
				return nil
			})
		}()
		await(t, ctx, received, "the stored event")
		require.NoError(t, s.Close())
		assert.ErrorIs(t, await(t, ctx, done, "Subscribe after Close"), eventstore.ErrClosed)
	})
}
