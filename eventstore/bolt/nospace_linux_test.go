//go:build linux

package bolt

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
)

// TestAppendOnARealFullDisk fills a small tmpfs under a real store: bbolt's
// own error for the full disk must come out as eventstore.ErrNoSpace, with
// every append acknowledged before it still there, and appends must work
// again once space is freed. It mounts a file system, so it runs only where
// the test may (as root, say) and is skipped elsewhere;
// TestAppendOnFullDisk covers the same path with an injected error.
func TestAppendOnARealFullDisk(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=2m"); err != nil {
		t.Skipf("cannot mount a small tmpfs here (%v): TestAppendOnFullDisk injects the error instead", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, 0) })

	s, err := Open(filepath.Join(dir, "events.db"), Options{})
	require.NoError(t, err)
	defer s.Close()
	ctx := t.Context()
	// Leave the store a little room, so that it fills within a few
	// appends rather than after megabytes of them.
	filler := filepath.Join(dir, "filler")
	fillDisk(t, filler, 96<<10)

	acked := 0
	var appendErr error
	for i := range 10_000 {
		evs := events(4)
		for j := range evs {
			evs[j].Data = fmt.Appendf(nil, `{"seq":%d,"pad":"%02000d"}`, i*4+j, 0)
		}
		if _, appendErr = s.Append(ctx, fmt.Sprintf("practitioner-%d", i%8), eventstore.Any(), evs...); appendErr != nil {
			break
		}
		acked += len(evs)
	}
	require.Error(t, appendErr, "the disk never filled")
	require.ErrorIs(t, appendErr, eventstore.ErrNoSpace)
	t.Logf("full after %d events: %v", acked, appendErr)
	assert.Len(t, readAllOf(t, s), acked, "every acknowledged event is still there, nothing more")

	require.NoError(t, os.Remove(filler))
	_, err = s.Append(ctx, "practitioner-0", eventstore.Any(), events(1)...)
	require.NoError(t, err, "appends work again once space is freed")
	rep, err := eventstore.Verify(ctx, s)
	require.NoError(t, err)
	assert.True(t, rep.OK, "%+v", rep.FirstFailure)
	assert.Equal(t, acked+1, rep.EventsChecked)
}

// fillDisk writes path until the file system it is on has at most leave
// bytes free.
func fillDisk(t *testing.T, path string, leave int64) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	block := make([]byte, 4096)
	for {
		var st syscall.Statfs_t
		require.NoError(t, syscall.Statfs(filepath.Dir(path), &st))
		if int64(st.Bavail)*st.Bsize <= leave {
			return
		}
		if _, err := f.Write(block); err != nil {
			return
		}
	}
}
