package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
)

// TestReadingThroughARateLimitedServer reads a store of 6,000 events
// through a rate-limited server: the first page of the export costs more
// than the burst (the server charges responses by size), and the reader
// waits out the 429 that follows instead of failing.
func TestReadingThroughARateLimitedServer(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	m := &Main{Data: dir, Addr: "127.0.0.1:0", Stdout: &out, Stderr: &errb, RateLimit: 500, RateBurst: 10}
	require.NoError(t, m.Open(context.Background()))
	t.Cleanup(func() { _ = m.Close() })
	payload := []byte(fmt.Sprintf(`{"course":"foundation_b","notes":%q}`, bytes.Repeat([]byte("x"), 200)))
	for i := range 60 {
		evs := make([]eventstore.EventData, 100)
		for j := range evs {
			evs[j] = eventstore.EventData{ID: uuid.New(), Type: "CourseCompleted", OccurredOn: "2024-03-01", RecordedBy: "admin:Test Administrator", Data: payload}
		}
		_, err := m.EventStore().Append(context.Background(), fmt.Sprintf("practitioner-%04d", i), eventstore.NoStream(), evs...)
		require.NoError(t, err)
	}
	cp := filepath.Join(t.TempDir(), "cp.json")
	code, _, errs := run(t, "checkpoint", "--data", dir, "--out", cp)
	require.Equal(t, 0, code, errs)
	code, stdout, errs := run(t, "verify", "--data", dir, "--against", cp)
	assert.Equal(t, 0, code, "%s %s", stdout, errs)
	assert.Contains(t, stdout, "6000 events checked")
}
