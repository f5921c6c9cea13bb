package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExportImportRoundTrip exports the demo ledger as JSON lines and
// imports it into an empty directory: the copy has the same events with
// the same hashes, verifies, and importing again adds nothing.
func TestExportImportRoundTrip(t *testing.T) {
	src := demoDir(t)
	code, out, errb := run(t, "export", "--data", src)
	require.Equal(t, 0, code, errb)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	orig := storeEvents(t, src)
	require.Len(t, lines, len(orig))
	for _, k := range []string{`"event_id"`, `"stream"`, `"recorded_at"`, `"recorded_by"`, `"hash"`, `"prev_hash"`, `"data"`} {
		assert.Contains(t, lines[0], k)
	}

	file := filepath.Join(t.TempDir(), "ledger.jsonl")
	require.NoError(t, os.WriteFile(file, []byte(out), 0o600))
	dst := t.TempDir()
	code, _, errb = run(t, "import", "--data", dst, file)
	require.Equal(t, 0, code, errb)
	copied := storeEvents(t, dst)
	require.Len(t, copied, len(orig))
	for i := range orig {
		assert.Equal(t, orig[i].ID, copied[i].ID)
		assert.Equal(t, orig[i].Hash, copied[i].Hash, "event %d keeps its hash", i)
	}
	code, _, _ = run(t, "verify", "--data", dst)
	assert.Equal(t, 0, code)
	code, _, errb = run(t, "import", "--data", dst, file)
	require.Equal(t, 0, code, errb)
	assert.Len(t, storeEvents(t, dst), len(orig))

	t.Run("while the server runs, through its API", func(t *testing.T) {
		serve(t, src, false)
		code, again, errb := run(t, "export", "--data", src)
		require.Equal(t, 0, code, errb)
		assert.Equal(t, out, again)
	})
	t.Run("a tampered export is refused whole", func(t *testing.T) {
		bad := strings.Replace(out, "foundation_b", "foundation_x", 1)
		fresh := t.TempDir()
		code, _, errb := run(t, "import", "--data", fresh, writeFile(t, "bad.jsonl", bad))
		assert.Equal(t, 1, code)
		assert.Contains(t, errb, "hash does not match")
		assert.Empty(t, storeEvents(t, fresh))
	})
}
