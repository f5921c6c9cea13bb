package bolt

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
)

// TestNoSpaceClassification: the write errors a full disk or a used-up
// quota give, as bbolt returns them, are eventstore.ErrNoSpace (keeping
// the errno for whoever looks further); every other error is left alone.
func TestNoSpaceClassification(t *testing.T) {
	cases := []struct {
		name    string
		err     error
		noSpace bool
	}{
		{"a page write on a full disk", &os.PathError{Op: "write", Path: "events.db", Err: syscall.ENOSPC}, true},
		{"an fdatasync over quota", fmt.Errorf("bolt: commit: %w", &os.PathError{Op: "sync", Path: "events.db", Err: syscall.EDQUOT}), true},
		{"bbolt growing the file, errno kept only as text", fmt.Errorf("file resize error: %s", &os.PathError{Op: "truncate", Path: "events.db", Err: syscall.ENOSPC}), true},
		{"already classified", fmt.Errorf("%w: disk full", eventstore.ErrNoSpace), true},
		{"an I/O error", &os.PathError{Op: "write", Path: "events.db", Err: syscall.EIO}, false},
		{"a read-only file system", &os.PathError{Op: "write", Path: "events.db", Err: syscall.EROFS}, false},
		{"a revision conflict", &eventstore.RevisionConflictError{Stream: "practitioner-1"}, false},
		{"no error", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := noSpace(tc.err)
			assert.Equal(t, tc.noSpace, errors.Is(got, eventstore.ErrNoSpace), "%v", got)
			if tc.err != nil {
				assert.ErrorIs(t, got, tc.err, "the original error stays in the chain")
			} else {
				assert.NoError(t, got)
			}
		})
	}
}

// TestAppendOnFullDisk: a commit that fails for want of space fails every
// append it carried with eventstore.ErrNoSpace and stores nothing; once
// space is back the same appends succeed and the store verifies.
func TestAppendOnFullDisk(t *testing.T) {
	var full atomic.Bool
	full.Store(true)
	s, _ := openTemp(t, Options{}, &testHooks{beforeCommit: func(int) error {
		if full.Load() {
			return &os.PathError{Op: "write", Path: "events.db", Err: syscall.ENOSPC}
		}
		return nil
	}})
	ctx := t.Context()
	evs := events(2)
	_, err := s.Append(ctx, "practitioner-1", eventstore.NoStream(), evs...)
	require.ErrorIs(t, err, eventstore.ErrNoSpace)
	assert.ErrorIs(t, err, syscall.ENOSPC)
	assert.Empty(t, readAllOf(t, s), "nothing stored")
	_, err = s.ReadStream(ctx, "practitioner-1", eventstore.ReadOptions{})
	assert.ErrorIs(t, err, eventstore.ErrStreamNotFound)

	full.Store(false)
	res, err := s.Append(ctx, "practitioner-1", eventstore.NoStream(), evs...)
	require.NoError(t, err, "the same append, once space is freed")
	assert.Equal(t, uint64(1), res.LastRevision)
	rep, err := eventstore.Verify(ctx, s)
	require.NoError(t, err)
	assert.True(t, rep.OK)
	assert.Equal(t, 2, rep.EventsChecked)
}
