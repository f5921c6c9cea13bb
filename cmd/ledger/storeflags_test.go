package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/kurrentdb"
	"github.com/imattertraining/ledger/eventstore/kurrentdb/protocoldouble"
)

// kurrentEvents returns every ledger event the KurrentDB at url holds.
func kurrentEvents(t *testing.T, url string) []eventstore.RecordedEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := kurrentdb.Open(ctx, url, kurrentdb.Options{})
	require.NoError(t, err)
	defer s.Close()
	var out []eventstore.RecordedEvent
	for e, err := range s.ReadAll(ctx, eventstore.Start) {
		require.NoError(t, err)
		out = append(out, e)
	}
	return out
}

// assertSameHistory checks that got holds want's events in the same order
// with every envelope field, hash and byte of payload equal; positions are
// each store's own.
func assertSameHistory(t *testing.T, want, got []eventstore.RecordedEvent) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		w, g := want[i], got[i]
		assert.Equal(t, w.Hash, g.Hash, "hash of event %d (%s)", i, w.ID)
		assert.Equal(t, w.RecordedAt, g.RecordedAt, "recorded time of event %d", i)
		w.Position = g.Position
		assert.Equal(t, w, g, "event %d", i)
	}
}

// TestStoreFlags: the read-only commands and import refuse an unknown
// store and a KurrentDB URL missing or misplaced, before touching anything.
func TestStoreFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"verify: unknown store", []string{"verify", "--data", dir, "--store", "postgres"}, `--store must be bolt or kurrentdb, not "postgres"`},
		{"verify: kurrentdb without URL", []string{"verify", "--store", "kurrentdb"}, "--store kurrentdb needs --kurrentdb URL"},
		{"export: URL without kurrentdb", []string{"export", "--data", dir, "--kurrentdb", "esdb://127.0.0.1:2113?tls=false"}, "--kurrentdb is only used with --store kurrentdb"},
		{"replay: kurrentdb without URL", []string{"replay", "--store", "kurrentdb", "--practitioner", demoPractitioner}, "--store kurrentdb needs --kurrentdb URL"},
		{"import: kurrentdb without URL", []string{"import", "--data", dir, "--store", "kurrentdb", writeFile(t, "x.csv", goodCSV)}, "--store kurrentdb needs --kurrentdb URL"},
		{"import: unknown format", []string{"import", "--data", dir, "--format", "xml", writeFile(t, "x.csv", goodCSV)}, `--format must be csv or jsonl, not "xml"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errb := run(t, tc.args...)
			assert.Equal(t, 2, code, errb)
			assert.Empty(t, out)
			assert.Contains(t, errb, tc.want)
			_, err := os.Stat(dir)
			assert.ErrorIs(t, err, os.ErrNotExist, "nothing created")
		})
	}
}

// TestImportIntoKurrentDB imports a CSV straight into KurrentDB; the result
// verifies, and importing again stores nothing twice.
func TestImportIntoKurrentDB(t *testing.T) {
	url := protocoldouble.StartTest(t, protocoldouble.Options{}).ConnectionString()
	file := writeFile(t, "good.csv", goodCSV)
	keys := t.TempDir() // the key store stays with the ledger, in its data directory
	code, _, errb := run(t, "import", "--data", keys, "--store", "kurrentdb", "--kurrentdb", url, file)
	require.Equal(t, 0, code, errb)
	stored := kurrentEvents(t, url)
	require.Len(t, stored, strings.Count(strings.TrimSpace(goodCSV), "\n"))
	for _, e := range stored {
		assert.Equal(t, "import", e.RecordedBy)
	}
	code, out, errb := run(t, "verify", "--store", "kurrentdb", "--kurrentdb", url)
	require.Equal(t, 0, code, errb)
	assert.Contains(t, out, fmt.Sprintf("OK: %d events", len(stored)))
	code, _, errb = run(t, "import", "--data", keys, "--store", "kurrentdb", "--kurrentdb", url, file)
	require.Equal(t, 0, code, errb)
	assertSameHistory(t, stored, kurrentEvents(t, url))
}
