package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
)

func testClose(t *testing.T, h harness) {
	t.Run("every operation after Close fails with ErrClosed", func(t *testing.T) {
		ops := []struct {
			name string
			call func(ctx context.Context, s eventstore.Store) error
		}{
			{"Append", func(ctx context.Context, s eventstore.Store) error {
				_, err := s.Append(ctx, "practitioner-1", eventstore.Any(), Event("CourseCompleted"))
				return err
			}},
			{"ReadStream", func(ctx context.Context, s eventstore.Store) error {
				_, err := s.ReadStream(ctx, "practitioner-1", eventstore.ReadOptions{})
				return err
			}},
			{"ReadAll", func(ctx context.Context, s eventstore.Store) error {
				_, err := collectAll(ctx, s, eventstore.Start)
				return err
			}},
			{"Subscribe", func(ctx context.Context, s eventstore.Store) error {
				return s.Subscribe(ctx, eventstore.Start, func(eventstore.RecordedEvent) error { return nil })
			}},
		}
		for _, op := range ops {
			t.Run(op.name, func(t *testing.T) {
				s := h.open(t)
				ctx := testContext(t)
				mustAppend(t, ctx, s, "practitioner-1", eventstore.Any(), Event("PractitionerRegistered"))
				require.NoError(t, s.Close())
				done := make(chan error, 1)
				go func() { done <- op.call(ctx, s) }()
				assert.ErrorIs(t, await(t, ctx, done, op.name+" after Close"), eventstore.ErrClosed)
			})
		}
	})

	t.Run("appends racing Close complete or fail with ErrClosed", func(t *testing.T) {
		s := h.open(t)
		ctx := testContext(t)
		const writers = 8
		var acked atomic.Int64
		someAcked := make(chan struct{})
		errs := make(chan error, writers)
		for w := range writers {
			go func() {
				stream := fmt.Sprintf("practitioner-%d", w)
				for i := 0; ; i++ {
					_, err := s.Append(ctx, stream, expectAfter(i), Event("CourseCompleted"))
					if err != nil {
						errs <- err
						return
					}
					if acked.Add(1) == 2*writers {
						close(someAcked)
					}
				}
			}()
		}
		await(t, ctx, someAcked, "the first appends")
		require.NoError(t, s.Close())
		for range writers {
			assert.ErrorIs(t, await(t, ctx, errs, "writers after Close"), eventstore.ErrClosed)
		}
	})
}
