package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
)

// testMultiAppend checks eventstore.MultiAppender on a store that offers
// it (`ledger import` relies on it for all or nothing), and is skipped on
// one that does not.
func testMultiAppend(t *testing.T, h harness) {
	open := func(t *testing.T) (eventstore.Store, eventstore.MultiAppender) {
		t.Helper()
		s := h.newStore(t)
		require.NotNil(t, s, "newStore returned a nil store")
		t.Cleanup(func() { assert.NoError(t, s.Close(), "closing the store") })
		m, ok := s.(eventstore.MultiAppender)
		if !ok {
			t.Skip("the store has no multi-stream transaction (eventstore.MultiAppender)")
		}
		return s, m
	}

	t.Run("every part lands, in order", func(t *testing.T) {
		s, m := open(t)
		ctx := testContext(t)
		mustAppend(t, ctx, s, "practitioner-0", eventstore.NoStream(), Event("PractitionerRegistered"))
		parts := []eventstore.StreamAppend{
			{Stream: "practitioner-1", Expected: eventstore.NoStream(), Events: newEvents(2, "CourseCompleted")},
			{Stream: "practitioner-0", Expected: eventstore.Exact(0), Events: newEvents(1, "CourseCompleted")},
			{Stream: "practitioner-1", Expected: eventstore.Exact(1), Events: newEvents(1, "CourseCompleted")},
		}
		res, err := m.AppendMany(ctx, parts...)
		require.NoError(t, err)
		require.Len(t, res, len(parts))
		assert.Equal(t, uint64(0), res[0].FirstRevision)
		assert.Equal(t, uint64(1), res[1].FirstRevision)
		assert.Equal(t, uint64(2), res[2].FirstRevision)
		for i := 1; i < len(res); i++ {
			assert.Greater(t, res[i].FirstPosition, res[i-1].LastPosition, "parts take positions in order")
		}
		got := readStream(t, ctx, s, "practitioner-1")
		require.Len(t, got, 3)
		assertStored(t, parts[0].Events[0], got[0])
		assertStored(t, parts[2].Events[0], got[2])

		again, err := m.AppendMany(ctx, parts...)
		require.NoError(t, err, "a retry of the whole is idempotent")
		assert.Equal(t, res, again)
		all, err := collectAll(ctx, s, eventstore.Start)
		require.NoError(t, err)
		assert.Len(t, all, 5)
	})

	t.Run("a refused part stores nothing of the others", func(t *testing.T) {
		s, m := open(t)
		ctx := testContext(t)
		mustAppend(t, ctx, s, "practitioner-0", eventstore.NoStream(), Event("PractitionerRegistered"))
		_, err := m.AppendMany(ctx,
			eventstore.StreamAppend{Stream: "practitioner-1", Expected: eventstore.NoStream(), Events: newEvents(3, "CourseCompleted")},
			eventstore.StreamAppend{Stream: "practitioner-0", Expected: eventstore.NoStream(), Events: newEvents(1, "CourseCompleted")},
		)
		var c *eventstore.RevisionConflictError
		require.ErrorAs(t, err, &c)
		_, err = s.ReadStream(ctx, "practitioner-1", eventstore.ReadOptions{})
		assert.ErrorIs(t, err, eventstore.ErrStreamNotFound)
		all, err := collectAll(ctx, s, eventstore.Start)
		require.NoError(t, err)
		assert.Len(t, all, 1)
	})

	t.Run("readers never see part of it", func(t *testing.T) {
		s, m := open(t)
		ctx, cancel := context.WithCancel(testContext(t))
		defer cancel()
		const rounds, streams = 20, 4
		readErr := make(chan error, 1)
		go func() {
			readErr <- func() error {
				for ctx.Err() == nil {
					all, err := collectAll(ctx, s, eventstore.Start)
					if err != nil {
						if ctx.Err() != nil {
							return nil
						}
						return err
					}
					if len(all)%streams != 0 {
						return fmt.Errorf("ReadAll saw %d events, part of an AppendMany of %d", len(all), streams)
					}
				}
				return nil
			}()
		}()
		for i := range rounds {
			parts := make([]eventstore.StreamAppend, streams)
			for j := range parts {
				parts[j] = eventstore.StreamAppend{Stream: fmt.Sprintf("practitioner-%d", j), Expected: eventstore.Any(), Events: newEvents(1, "CourseCompleted")}
			}
			_, err := m.AppendMany(ctx, parts...)
			require.NoError(t, err, "round %d", i)
		}
		cancel()
		if err := <-readErr; err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
	})
}
