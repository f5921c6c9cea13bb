package eventstore_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
)

func TestRevisionConflictErrorMessage(t *testing.T) {
	cases := []struct {
		name string
		err  *eventstore.RevisionConflictError
		want string
	}{
		{
			"stream exists",
			&eventstore.RevisionConflictError{Stream: "practitioner-1", Expected: eventstore.Exact(3), Current: 5, Exists: true},
			"eventstore: revision conflict on practitioner-1: expected 3, current 5",
		},
		{
			"stream at revision 0",
			&eventstore.RevisionConflictError{Stream: "practitioner-1", Expected: eventstore.NoStream(), Current: 0, Exists: true},
			"eventstore: revision conflict on practitioner-1: expected no_stream, current 0",
		},
		{
			"no stream",
			&eventstore.RevisionConflictError{Stream: "organisation-9", Expected: eventstore.Exact(0)},
			"eventstore: revision conflict on organisation-9: expected 0, current no_stream",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.err.Error())
		})
	}
}

func TestRevisionConflictErrorMatching(t *testing.T) {
	conflict := &eventstore.RevisionConflictError{Stream: "practitioner-1", Expected: eventstore.Exact(1), Current: 2, Exists: true}
	wrapped := fmt.Errorf("recording a course: %w", conflict)

	assert.ErrorIs(t, conflict, eventstore.ErrRevisionConflict)
	assert.ErrorIs(t, wrapped, eventstore.ErrRevisionConflict)
	var got *eventstore.RevisionConflictError
	require.ErrorAs(t, wrapped, &got)
	assert.Same(t, conflict, got)

	for _, other := range []error{
		eventstore.ErrStreamNotFound, eventstore.ErrIdempotencyMismatch, eventstore.ErrInvalidEvent,
		eventstore.ErrClosed, eventstore.ErrCorrupt, eventstore.ErrUnavailable,
	} {
		assert.NotErrorIs(t, wrapped, other)
		assert.False(t, errors.Is(other, eventstore.ErrRevisionConflict), "%v is not a conflict", other)
	}
}
