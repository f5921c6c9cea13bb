package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/checkpoint"
)

// appendFact appends one CourseCompleted to stream of s.
func appendFact(t *testing.T, s eventstore.Store, stream string) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), stream, eventstore.Any(), eventstore.EventData{
		ID: uuid.New(), Type: "CourseCompleted", OccurredOn: "2024-03-01",
		RecordedBy: "admin:Test Administrator", Data: []byte(`{"course":"foundation_b"}`),
	})
	require.NoError(t, err)
	return res
}

// rewriteStore replaces dir's store by a copy with change applied to each
// event (false drops it), every hash computed afresh by the store: a
// forger's rewrite, whose own chains verify.
func rewriteStore(t *testing.T, dir string, change func(*eventstore.RecordedEvent) bool) {
	t.Helper()
	events := storeEvents(t, dir)
	require.NoError(t, os.Remove(filepath.Join(dir, eventsFile)))
	s, err := openBolt(dir, 0)
	require.NoError(t, err)
	defer s.Close()
	for _, e := range events {
		if !change(&e) {
			continue
		}
		_, err := s.Append(context.Background(), e.Stream, eventstore.Any(), eventstore.EventData{
			ID: e.ID, Type: e.Type, SchemaVersion: e.SchemaVersion, OccurredOn: e.OccurredOn,
			RecordedBy: e.RecordedBy, RecordedAt: e.RecordedAt, Data: e.Data, Metadata: e.Metadata,
		})
		require.NoError(t, err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, 0o600))
}

func TestKeyShow(t *testing.T) {
	dir := demoDir(t)
	fi, err := os.Stat(filepath.Join(dir, checkpoint.KeyFile))
	require.NoError(t, err, "the first serve creates the key")
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	code, out, errb := run(t, "key", "show", "--data", dir)
	require.Equal(t, 0, code, errb)
	pub, err := checkpoint.ParsePublicKey([]byte(out))
	require.NoError(t, err, "stdout is the public key alone")
	key, err := checkpoint.LoadKey(dir)
	require.NoError(t, err)
	assert.True(t, pub.Equal(key.Public()))
	assert.Contains(t, errb, checkpoint.KeyID(pub))

	events, err := os.ReadFile(filepath.Join(dir, eventsFile))
	require.NoError(t, err)
	assert.False(t, bytes.Contains(events, key.Seed()), "the private key is not in the event log")

	code, _, errb = run(t, "key", "show", "--data", t.TempDir())
	assert.Equal(t, 1, code)
	assert.Contains(t, errb, "no signing key")
	code, _, _ = run(t, "key", "list", "--data", dir)
	assert.Equal(t, 2, code)
}

func TestCheckpointAndVerifyAgainst(t *testing.T) {
	dir := demoDir(t)
	cp := filepath.Join(t.TempDir(), "cp.json")
	code, _, errb := run(t, "checkpoint", "--data", dir, "--out", cp)
	require.Equal(t, 0, code, errb)
	assert.Contains(t, errb, "Keep it outside the system")

	t.Run("the store extends its own checkpoint", func(t *testing.T) {
		code, out, errb := run(t, "verify", "--data", dir, "--against", cp)
		assert.Equal(t, 0, code, errb)
		assert.Contains(t, out, "OK: the store extends the checkpoint")
	})
	t.Run("to stdout", func(t *testing.T) {
		code, out, errb := run(t, "checkpoint", "--data", dir)
		require.Equal(t, 0, code, errb)
		key, err := checkpoint.LoadKey(dir)
		require.NoError(t, err)
		_, err = checkpoint.Open([]byte(out), key.Public().(ed25519.PublicKey))
		assert.NoError(t, err)
	})
	t.Run("with the auditor's copy of the public key", func(t *testing.T) {
		_, pubPEM, _ := run(t, "key", "show", "--data", dir)
		pub := writeFile(t, "ledger.pub", pubPEM)
		code, out, errb := run(t, "verify", "--data", dir, "--against", cp, "--key", pub)
		assert.Equal(t, 0, code, errb)
		assert.Contains(t, out, "OK:")
	})
	t.Run("signed by another key", func(t *testing.T) {
		other, _, err := ed25519.GenerateKey(nil)
		require.NoError(t, err)
		pub := writeFile(t, "other.pub", string(checkpoint.MarshalPublicKey(other)))
		code, _, errb := run(t, "verify", "--data", dir, "--against", cp, "--key", pub)
		assert.Equal(t, 1, code)
		assert.Contains(t, errb, "signed by another key")
	})
	t.Run("an edited checkpoint file", func(t *testing.T) {
		b, err := os.ReadFile(cp)
		require.NoError(t, err)
		// One hex digit of a head's hash, changed.
		i := strings.Index(string(b), `"hash":"`) + len(`"hash":"`)
		flip := byte('0')
		if b[i] == '0' {
			flip = '1'
		}
		edited := writeFile(t, "edited.json", string(b[:i])+string(flip)+string(b[i+1:]))
		code, _, errb := run(t, "verify", "--data", dir, "--against", edited)
		assert.Equal(t, 1, code)
		assert.Contains(t, errb, "the signature does not verify")
	})
	t.Run("no such file, or --key alone", func(t *testing.T) {
		code, _, _ := run(t, "verify", "--data", dir, "--against", filepath.Join(t.TempDir(), "none.json"))
		assert.Equal(t, 1, code)
		code, _, _ = run(t, "verify", "--data", dir, "--key", cp)
		assert.Equal(t, 2, code)
	})
}

// TestVerifyAgainstARewrittenHistory rewrites one event of the demo
// ledger and recomputes every later hash: the plain chain check passes,
// the check against an earlier checkpoint fails and names the stream.
func TestVerifyAgainstARewrittenHistory(t *testing.T) {
	dir := demoDir(t)
	cp := filepath.Join(t.TempDir(), "cp.json")
	code, _, errb := run(t, "checkpoint", "--data", dir, "--out", cp)
	require.Equal(t, 0, code, errb)
	var target string
	rewriteStore(t, dir, func(e *eventstore.RecordedEvent) bool {
		if target == "" && e.Type == "CourseCompleted" {
			target = e.Stream
			e.Data = bytes.Replace(e.Data, []byte("foundation"), []byte("intermediate"), 1)
		}
		return true
	})
	require.NotEmpty(t, target)
	code, out, errb := run(t, "verify", "--data", dir)
	require.Equal(t, 0, code, "the rewritten chains verify on their own: %s %s", out, errb)

	code, out, _ = run(t, "verify", "--data", dir, "--against", cp)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "FAILED: the store does not extend the checkpoint")
	assert.Contains(t, out, target+" at revision ")
	assert.Contains(t, out, "history up to here was rewritten")
}

// TestVerifyAgainstARolledBackStore puts an older copy of the store back
// after a later checkpoint was taken, while the server runs on it.
func TestVerifyAgainstARolledBackStore(t *testing.T) {
	dir := demoDir(t)
	older := filepath.Join(t.TempDir(), "older.db")
	copyFile(t, filepath.Join(dir, eventsFile), older)

	m := serve(t, dir, false)
	stream := "practitioner-" + uuid.NewString()
	appendFact(t, m.EventStore(), stream)
	cp := filepath.Join(t.TempDir(), "cp.json")
	code, _, errb := run(t, "checkpoint", "--data", dir, "--out", cp)
	require.Equal(t, 0, code, "a checkpoint through the running server: %s", errb)
	code, out, errb := run(t, "verify", "--data", dir, "--against", cp)
	require.Equal(t, 0, code, "verified through the running server: %s %s", out, errb)
	require.NoError(t, m.Close())

	copyFile(t, older, filepath.Join(dir, eventsFile))
	code, out, _ = run(t, "verify", "--data", dir)
	require.Equal(t, 0, code, "the older copy verifies on its own: %s", out)
	serve(t, dir, false)
	code, out, _ = run(t, "verify", "--data", dir, "--against", cp)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, stream+": missing")
	assert.Contains(t, out, "cut short or rolled back")
}

func TestServeTakesCheckpoints(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	m := &Main{Data: dir, Addr: "127.0.0.1:0", Stdout: &out, Stderr: &errb, CheckpointEvery: 20 * time.Millisecond, CheckpointKeep: 2}
	require.NoError(t, m.Open(context.Background()))
	defer m.Close()
	appendFact(t, m.EventStore(), "practitioner-"+uuid.NewString())
	folder := filepath.Join(dir, checkpointsDir)
	kept := func() []string {
		entries, _ := os.ReadDir(folder)
		var names []string
		for _, e := range entries {
			if n := e.Name(); strings.HasPrefix(n, "checkpoint-") && strings.HasSuffix(n, ".json") {
				names = append(names, n)
			}
		}
		return names
	}
	// Wait for a third checkpoint to have been taken (the first two plus
	// one more time, so that pruning has run), then stop the server.
	start := time.Now()
	require.Eventually(t, func() bool { return len(kept()) == 2 }, 10*time.Second, 5*time.Millisecond)
	time.Sleep(3*m.CheckpointEvery + time.Since(start)/10)
	require.NoError(t, m.Close())
	files := kept()
	assert.Len(t, files, 2, "only the newest 2 are kept")
	code, stdout, errs := run(t, "verify", "--data", dir, "--against", filepath.Join(folder, files[len(files)-1]))
	assert.Equal(t, 0, code, "%s %s", stdout, errs)
}

func TestKeepCheckpointPrunesAtTheSameTime(t *testing.T) {
	dir := t.TempDir()
	key, err := checkpoint.LoadOrCreateKey(dir)
	require.NoError(t, err)
	s, err := openBolt(dir, 0)
	require.NoError(t, err)
	defer s.Close()
	appendFact(t, s, "practitioner-"+uuid.NewString())
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := checkpoint.Take(context.Background(), s, key, time.Date(2026, 12, 1, 0, 0, 0, i, time.UTC))
			if err == nil {
				err = keepCheckpoint(dir, c, 3)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, checkpointsDir))
	require.NoError(t, err)
	assert.Len(t, entries, 3)
}
