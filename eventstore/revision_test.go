package eventstore_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/imattertraining/ledger/eventstore"
)

func TestExpectedRevisionCheck(t *testing.T) {
	cases := []struct {
		name     string
		expected eventstore.ExpectedRevision
		current  uint64
		exists   bool
		want     bool
	}{
		{"any, no stream", eventstore.Any(), 0, false, true},
		{"any, stream at 0", eventstore.Any(), 0, true, true},
		{"any, stream at 41", eventstore.Any(), 41, true, true},
		{"zero value, no stream", eventstore.ExpectedRevision{}, 0, false, true},
		{"zero value, stream at 5", eventstore.ExpectedRevision{}, 5, true, true},
		{"no stream, no stream", eventstore.NoStream(), 0, false, true},
		{"no stream, stream at 0", eventstore.NoStream(), 0, true, false},
		{"no stream, stream at 3", eventstore.NoStream(), 3, true, false},
		// Revisions count from 0: Exact(0) is a stream of one event, never
		// the absence of a stream.
		{"exact 0, no stream", eventstore.Exact(0), 0, false, false},
		{"exact 0, stream at 0", eventstore.Exact(0), 0, true, true},
		{"exact 0, stream at 1", eventstore.Exact(0), 1, true, false},
		{"exact 4, stream at 4", eventstore.Exact(4), 4, true, true},
		{"exact 4, stream at 3", eventstore.Exact(4), 3, true, false},
		{"exact 4, stream at 5", eventstore.Exact(4), 5, true, false},
		{"exact 4, no stream", eventstore.Exact(4), 4, false, false},
		{"exact max, stream at max", eventstore.Exact(^uint64(0)), ^uint64(0), true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.expected.Check(tc.current, tc.exists))
		})
	}
}

func TestExpectedRevisionAccessors(t *testing.T) {
	cases := []struct {
		name       string
		expected   eventstore.ExpectedRevision
		isAny      bool
		isNoStream bool
		revision   uint64
		exact      bool
		text       string
	}{
		{"any", eventstore.Any(), true, false, 0, false, "any"},
		{"zero value", eventstore.ExpectedRevision{}, true, false, 0, false, "any"},
		{"no stream", eventstore.NoStream(), false, true, 0, false, "no_stream"},
		{"exact 0", eventstore.Exact(0), false, false, 0, true, "0"},
		{"exact 17", eventstore.Exact(17), false, false, 17, true, "17"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.isAny, tc.expected.IsAny())
			assert.Equal(t, tc.isNoStream, tc.expected.IsNoStream())
			rev, exact := tc.expected.Revision()
			assert.Equal(t, tc.revision, rev)
			assert.Equal(t, tc.exact, exact)
			assert.Equal(t, tc.text, tc.expected.String())
		})
	}
	assert.Equal(t, eventstore.Any(), eventstore.ExpectedRevision{}, "the zero value is Any")
	assert.NotEqual(t, eventstore.NoStream(), eventstore.Exact(0))
}
