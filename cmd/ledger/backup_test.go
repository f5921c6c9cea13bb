package main

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/checkpoint"
	"github.com/imattertraining/ledger/eventstore/keystore"
)

// TestBackupWhileServingUnderConcurrentAppends backs up a served ledger
// while four writers append, restores the backup into a new directory, and
// finds there every event acknowledged before the backup began, every
// chain verifying, and the tokens and keys.
func TestBackupWhileServingUnderConcurrentAppends(t *testing.T) {
	dir := t.TempDir()
	m := serve(t, dir, true)
	// A key store file as the erasure work keeps it, to be carried along.
	keys, err := keystore.Open(dir)
	require.NoError(t, err)
	_, err = keys.Seal("practitioner-"+uuid.NewString(), uuid.New(), "PractitionerRegistered", []byte(`{"name":"Robin Example","profession":"education"}`), []string{"name"})
	require.NoError(t, err)
	require.NoError(t, keys.Close())
	before := filepath.Join(t.TempDir(), "before.json")
	code, _, errb := run(t, "checkpoint", "--data", dir, "--out", before)
	require.Equal(t, 0, code, errb)

	var (
		mu    sync.Mutex
		acked []uuid.UUID
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := "practitioner-" + uuid.NewString()
			for i := 0; !stop.Load(); i++ {
				id := uuid.New()
				_, err := m.EventStore().Append(context.Background(), stream, eventstore.Any(), eventstore.EventData{
					ID: id, Type: "CourseCompleted", OccurredOn: "2024-03-01",
					RecordedBy: "admin:Writer " + string(rune('A'+w)), Data: []byte(`{"course":"foundation_b"}`),
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		}()
	}
	// Let the writers get going, then note what is acknowledged before the
	// backup begins.
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) > 200
	}, 30e9, 1e6)
	mu.Lock()
	ackedBefore := append([]uuid.UUID(nil), acked...)
	mu.Unlock()
	file := filepath.Join(t.TempDir(), "ledger.tar.gz")
	code, _, errb = run(t, "backup", "--data", dir, "--to", file)
	stop.Store(true)
	wg.Wait()
	require.Equal(t, 0, code, errb)
	assert.Contains(t, errb, "rotate backups")
	mu.Lock()
	t.Logf("%d events acknowledged before the backup began, %d by the end", len(ackedBefore), len(acked))
	mu.Unlock()

	to := filepath.Join(t.TempDir(), "restored")
	code, out, errb := run(t, "restore", "--from", file, "--data", to)
	require.Equal(t, 0, code, errb)
	assert.Contains(t, out, "every hash chain verifies")

	stored := map[uuid.UUID]bool{}
	for _, e := range storeEvents(t, to) {
		stored[e.ID] = true
	}
	for _, id := range ackedBefore {
		if !stored[id] {
			t.Errorf("event %s, acknowledged before the backup began, is not in it", id)
		}
	}
	code, out, errb = run(t, "verify", "--data", to, "--against", before)
	assert.Equal(t, 0, code, "%s %s", out, errb)

	for _, f := range []string{"tokens.json", checkpoint.KeyFile, keystore.FileName} {
		want, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		have, err := os.ReadFile(filepath.Join(to, f))
		require.NoError(t, err, f)
		assert.Equal(t, want, have, f)
	}
	for _, f := range []string{snapshotFile, serverFile} {
		_, err := os.Stat(filepath.Join(to, f))
		assert.ErrorIs(t, err, os.ErrNotExist, "%s is not restored", f)
	}
	_, err = os.Stat(filepath.Join(to, checkpointsDir))
	assert.NoError(t, err, "the kept checkpoints are restored")

	// The restored ledger serves with the same tokens and key.
	m2 := serve(t, to, false)
	assert.Empty(t, m2.AdminToken, "no new admin token: the tokens came back")
}

func TestBackupAndRestoreBadInput(t *testing.T) {
	dir := demoDir(t)
	file := filepath.Join(t.TempDir(), "ledger.tar.gz")
	code, _, errb := run(t, "backup", "--data", dir, "--to", file)
	require.Equal(t, 0, code, "offline: %s", errb)

	t.Run("restore into a directory that is not empty", func(t *testing.T) {
		code, _, errb := run(t, "restore", "--from", file, "--data", dir)
		assert.Equal(t, 1, code)
		assert.Contains(t, errb, "not empty")
		code, out, _ := run(t, "verify", "--data", dir)
		assert.Equal(t, 0, code, out)
	})
	t.Run("a corrupt backup", func(t *testing.T) {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		b[len(b)/2] ^= 0xff
		bad := filepath.Join(t.TempDir(), "bad.tar.gz")
		require.NoError(t, os.WriteFile(bad, b, 0o600))
		to := filepath.Join(t.TempDir(), "restored")
		code, _, errb := run(t, "restore", "--from", bad, "--data", to)
		assert.Equal(t, 1, code)
		assert.Contains(t, errb, "nothing restored: backup: the backup is damaged")
		_, err = os.Stat(to)
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
	t.Run("a backup of a tampered store", func(t *testing.T) {
		tampered := demoDir(t)
		tamper(t, filepath.Join(tampered, eventsFile), []byte("foundation_b"), []byte("foundation_x"))
		tb := filepath.Join(t.TempDir(), "tampered.tar.gz")
		code, _, errb := run(t, "backup", "--data", tampered, "--to", tb)
		require.Equal(t, 0, code, errb)
		to := filepath.Join(t.TempDir(), "restored")
		code, _, errb = run(t, "restore", "--from", tb, "--data", to)
		assert.Equal(t, 1, code)
		assert.Contains(t, errb, "hash chain of the store copy does not verify")
		_, err := os.Stat(to)
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
	t.Run("usage", func(t *testing.T) {
		code, _, _ := run(t, "backup", "--data", dir, "--to", filepath.Join(dir, "inside.tar.gz"))
		assert.Equal(t, 2, code, "a backup inside the data directory would be backed up next time")
		code, _, _ = run(t, "backup", "--data", dir)
		assert.Equal(t, 2, code)
		code, _, _ = run(t, "restore", "--from", file)
		assert.Equal(t, 2, code)
		code, _, errb := run(t, "backup", "--data", t.TempDir(), "--to", file)
		assert.Equal(t, 1, code)
		assert.Contains(t, errb, "no ledger")
	})
}

// TestARestoredOlderBackupFailsALaterCheckpoint rolls a ledger back the
// way an operator would: a backup, more history, a checkpoint the auditor
// keeps, then the older backup restored. The restored store verifies on
// its own and fails the checkpoint, naming what it lacks.
func TestARestoredOlderBackupFailsALaterCheckpoint(t *testing.T) {
	dir := demoDir(t)
	m := serve(t, dir, false)
	older := filepath.Join(t.TempDir(), "older.tar.gz")
	code, _, errb := run(t, "backup", "--data", dir, "--to", older)
	require.Equal(t, 0, code, errb)
	stream := "practitioner-" + uuid.NewString()
	appendFact(t, m.EventStore(), stream)
	appendFact(t, m.EventStore(), stream)
	later := filepath.Join(t.TempDir(), "later.json")
	code, _, errb = run(t, "checkpoint", "--data", dir, "--out", later)
	require.Equal(t, 0, code, errb)

	to := filepath.Join(t.TempDir(), "rolled-back")
	code, _, errb = run(t, "restore", "--from", older, "--data", to)
	require.Equal(t, 0, code, errb)
	code, out, _ := run(t, "verify", "--data", to)
	require.Equal(t, 0, code, "the older backup verifies on its own: %s", out)
	code, out, _ = run(t, "verify", "--data", to, "--against", later)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, stream+": missing: the checkpoint signed it at revision 1")
	assert.Contains(t, out, "cut short or rolled back")
}
