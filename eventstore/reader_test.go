package eventstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
)

// TestEventsReadAll: history held in memory reads as a store's ReadAll
// does, from a position on, and stops when its context is done.
func TestEventsReadAll(t *testing.T) {
	h := eventstore.Events{{Position: 1}, {Position: 2}, {Position: 3}}
	var got []eventstore.Position
	for e, err := range h.ReadAll(t.Context(), 1) {
		require.NoError(t, err)
		got = append(got, e.Position)
	}
	assert.Equal(t, []eventstore.Position{2, 3}, got)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var errs []error
	for _, err := range h.ReadAll(ctx, eventstore.Start) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], context.Canceled)
}
