package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/projections"
)

// TestServeAfterARulebookUpgrade: a data directory whose read models were
// folded under rulebook v1 (as a ledger before v1.1 left it) is served
// after the upgrade only once they are rebuilt under v1.1, and the log
// says why.
func TestServeAfterARulebookUpgrade(t *testing.T) {
	dir := t.TempDir()
	m := serve(t, dir, true)
	require.NoError(t, m.Close())

	// The read models as the old ledger folded and saved them.
	store, err := openBolt(dir, time.Second)
	require.NoError(t, err)
	v1, ok := domain.RulebooksWithCurrent("v1")
	require.True(t, ok)
	old, err := projections.New(store, projections.Options{SnapshotPath: filepath.Join(dir, snapshotFile), Rulebooks: v1})
	require.NoError(t, err)
	require.NoError(t, old.Rebuild(context.Background(), nil))
	require.NoError(t, old.Snapshot())
	require.NoError(t, store.Close())

	var out, errb bytes.Buffer
	m2 := &Main{Data: dir, Addr: "127.0.0.1:0", Stdout: &out, Stderr: &errb}
	require.NoError(t, m2.Open(context.Background()))
	defer m2.Close()
	assert.Contains(t, errb.String(), "snapshot not used, rebuilding", "the log says the models are rebuilt")
	assert.Contains(t, errb.String(), "rulebook v1;", "and why: they were folded under v1")
}
