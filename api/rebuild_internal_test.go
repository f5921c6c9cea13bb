package api

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRebuildJob: one rebuild at a time, progress and phase reported while
// it runs, done or failed (with the cause logged, not shown) when it ends,
// and stop cancels a running one.
func TestRebuildJob(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

	t.Run("one at a time, then done", func(t *testing.T) {
		var j rebuildJob
		assert.Equal(t, "idle", j.get().State)
		release := make(chan struct{})
		reported := make(chan struct{})
		run := func(_ context.Context, progress func(done, total uint64)) error {
			progress(10, 0)
			reported <- struct{}{}
			<-release
			progress(40, 50)
			return nil
		}
		st, ok := j.start(now, run, func(error) { t.Error("no error expected") })
		require.True(t, ok)
		assert.Equal(t, "running", st.State)
		<-reported
		got := j.get()
		assert.Equal(t, "reading", got.Phase)
		assert.Equal(t, uint64(10), got.EventsDone)
		_, ok = j.start(now, run, nil)
		assert.False(t, ok, "a second rebuild while one runs")
		close(release)
		require.Eventually(t, func() bool { return j.get().State == "done" }, 10*time.Second, time.Millisecond)
		got = j.get()
		assert.Equal(t, uint64(40), got.EventsDone)
		assert.Equal(t, uint64(50), got.EventsTotal)
		assert.Empty(t, got.Phase)
		require.NotNil(t, got.FinishedAt)
		assert.Equal(t, now, *got.StartedAt)
		_, ok = j.start(now, func(context.Context, func(uint64, uint64)) error { return nil }, nil)
		assert.True(t, ok, "a new rebuild once the last is done")
		j.stop()
	})

	t.Run("failure is logged, not shown", func(t *testing.T) {
		var j rebuildJob
		var logged error
		cause := errors.New("disk on fire at /secret/path")
		_, ok := j.start(now, func(context.Context, func(uint64, uint64)) error { return cause }, func(err error) { logged = err })
		require.True(t, ok)
		j.stop()
		got := j.get()
		assert.Equal(t, "failed", got.State)
		assert.NotContains(t, got.Error, "secret")
		assert.ErrorIs(t, logged, cause)
	})

	t.Run("stop cancels a running rebuild", func(t *testing.T) {
		var j rebuildJob
		_, ok := j.start(now, func(ctx context.Context, _ func(uint64, uint64)) error {
			<-ctx.Done()
			return ctx.Err()
		}, func(error) {})
		require.True(t, ok)
		j.stop()
		assert.Equal(t, "failed", j.get().State)
	})
}
