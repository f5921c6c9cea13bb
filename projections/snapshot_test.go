package projections

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/domain"
)

func TestSnapshotVersionsAndDamage(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	f := newFixture(t, store)
	h := newRandomHistory(f, 3)
	for range 40 {
		h.step()
	}
	path := filepath.Join(dir, "models.snapshot")
	today := func() domain.Date { return date("2030-03-01") }
	p, err := New(store, Options{SnapshotPath: path, Today: today})
	require.NoError(t, err)
	var calls, lastDone, lastTotal uint64
	require.NoError(t, p.Rebuild(context.Background(), func(done, total uint64) {
		calls++
		lastDone, lastTotal = done, total
	}))
	assert.Positive(t, calls)
	assert.Equal(t, lastTotal, lastDone, "progress ends at its total")
	assert.Equal(t, uint64(40), lastTotal)
	_, err = os.Stat(path)
	require.NoError(t, err, "a rebuild writes a snapshot")

	tests := []struct {
		name   string
		damage func(t *testing.T)
		loaded bool
	}{
		{"a snapshot of this version is loaded", func(*testing.T) {}, true},
		{"a truncated snapshot is not used", func(t *testing.T) {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, b[:len(b)/2], 0o600))
		}, false},
		{"no snapshot", func(t *testing.T) { require.NoError(t, os.Remove(path)) }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.damage(t)
			var notes []string
			q, err := New(store, Options{SnapshotPath: path, Today: today, Logf: func(format string, args ...any) { notes = append(notes, format) }})
			require.NoError(t, err)
			assert.Equal(t, tc.loaded, q.Loaded())
			if tc.loaded {
				assert.Equal(t, canonical(p), canonical(q), "loaded models equal the ones saved")
			}
		})
	}

	t.Run("another rulebook's snapshot is refused", func(t *testing.T) {
		require.NoError(t, p.Snapshot())
		_, err := loadSnapshot(context.Background(), store, &rules{rb: domain.RulebookV1(), version: "v0"}, path)
		assert.ErrorContains(t, err, "rulebook")
		_, err = loadSnapshot(context.Background(), store, newRules(nil), path)
		assert.NoError(t, err)
	})
}
