package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/export"
	"github.com/imattertraining/ledger/eventstore/kurrentdb"
	"github.com/imattertraining/ledger/eventstore/kurrentdb/protocoldouble"
)

// exportLines runs ledger export with args and returns its JSON lines with
// their positions (each store's own) taken out.
func exportLines(t *testing.T, args ...string) []string {
	t.Helper()
	code, out, errb := run(t, append([]string{"export"}, args...)...)
	require.Equal(t, 0, code, errb)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i, l := range lines {
		var x export.Event
		require.NoError(t, json.Unmarshal([]byte(l), &x))
		require.NotZero(t, x.Position)
		x.Position = 0
		b, err := json.Marshal(x)
		require.NoError(t, err)
		lines[i] = string(b)
	}
	return lines
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := lis.Addr().String()
	require.NoError(t, lis.Close())
	return addr
}

// TestMigrateBoltToKurrentDBAndBack migrates the demo ledger into KurrentDB
// (the protocol double), checks the copy with the read-only commands on
// --store kurrentdb, runs the migration again (nothing stored twice), and
// migrates back into a fresh data directory.
func TestMigrateBoltToKurrentDBAndBack(t *testing.T) {
	dir := demoDir(t)
	orig := storeEvents(t, dir)
	require.NotEmpty(t, orig)
	streams := map[string]bool{}
	for _, e := range orig {
		streams[e.Stream] = true
	}
	// A read-model snapshot of the bolt store, as a longer serve leaves.
	require.NoError(t, os.WriteFile(filepath.Join(dir, snapshotFile), []byte("positions of the bolt store"), 0o600))
	url := protocoldouble.StartTest(t, protocoldouble.Options{}).ConnectionString()

	code, out, errb := run(t, "migrate", "--from", "bolt", "--to", "kurrentdb", "--data", dir, "--kurrentdb", url)
	require.Equal(t, 0, code, errb)
	assert.Contains(t, out, fmt.Sprintf("%d events in %d streams (%d copied now, 0 already there)", len(orig), len(streams), len(orig)))
	assert.Contains(t, out, "Hashes identical")
	assert.Contains(t, errb, "migrating", "a progress bar")
	_, err := os.Stat(filepath.Join(dir, snapshotFile))
	assert.ErrorIs(t, err, os.ErrNotExist, "the bolt positions' snapshot is gone")

	assertSameHistory(t, orig, kurrentEvents(t, url))
	assertSameHistory(t, orig, storeEvents(t, dir)) // the source is untouched

	code, out, errb = run(t, "verify", "--store", "kurrentdb", "--kurrentdb", url)
	require.Equal(t, 0, code, errb)
	assert.Contains(t, out, fmt.Sprintf("OK: %d events", len(orig)))
	assert.Equal(t, exportLines(t, "--data", dir), exportLines(t, "--store", "kurrentdb", "--kurrentdb", url))
	code, fromBolt, errb := run(t, "replay", "--data", dir, "--practitioner", demoPractitioner, "--as-of", "2025-01-01", "--known-at", "2030-01-01T00:00:00Z")
	require.Equal(t, 0, code, errb)
	code, fromKurrent, errb := run(t, "replay", "--data", dir, "--store", "kurrentdb", "--kurrentdb", url, "--practitioner", demoPractitioner, "--as-of", "2025-01-01", "--known-at", "2030-01-01T00:00:00Z") // the key store stays in dir
	require.Equal(t, 0, code, errb)
	assert.Contains(t, fromKurrent, "Alex Example")
	assert.Equal(t, fromBolt, fromKurrent)

	t.Run("again stores nothing twice", func(t *testing.T) {
		code, out, errb := run(t, "migrate", "--from", "bolt", "--to", "kurrentdb", "--data", dir, "--kurrentdb", url)
		require.Equal(t, 0, code, errb)
		assert.Contains(t, out, fmt.Sprintf("(0 copied now, %d already there)", len(orig)))
		assertSameHistory(t, orig, kurrentEvents(t, url))
	})

	t.Run("back into bolt", func(t *testing.T) {
		back := filepath.Join(t.TempDir(), "data")
		code, out, errb := run(t, "migrate", "--from", "kurrentdb", "--to", "bolt", "--data", back, "--kurrentdb", url)
		require.Equal(t, 0, code, errb)
		assert.Contains(t, out, "Hashes identical")
		assertSameHistory(t, orig, storeEvents(t, back))
		code, out, errb = run(t, "verify", "--data", back)
		require.Equal(t, 0, code, errb)
		assert.Contains(t, out, fmt.Sprintf("OK: %d events", len(orig)))
		assert.Equal(t, exportLines(t, "--data", dir), exportLines(t, "--data", back))
	})
}

// TestMigrateResumesAPartialCopy stands for an interrupted migration: the
// target holds the first streams and half of another, and the next run
// completes it.
func TestMigrateResumesAPartialCopy(t *testing.T) {
	dir := demoDir(t)
	orig := storeEvents(t, dir)
	url := protocoldouble.StartTest(t, protocoldouble.Options{}).ConnectionString()
	half := orig[:len(orig)/2]
	require.Equal(t, half[len(half)-1].Stream, orig[len(half)].Stream, "the cut falls inside a stream")
	ctx := context.Background()
	target, err := kurrentdb.Open(ctx, url, kurrentdb.Options{})
	require.NoError(t, err)
	n, err := eventstore.Copy(ctx, eventstore.Events(half), target, nil, nil)
	require.NoError(t, err)
	require.Equal(t, len(half), n)
	require.NoError(t, target.Close())

	code, out, errb := run(t, "migrate", "--from", "bolt", "--to", "kurrentdb", "--data", dir, "--kurrentdb", url)
	require.Equal(t, 0, code, errb)
	assert.Contains(t, out, fmt.Sprintf("(%d copied now, %d already there)", len(orig)-len(half), len(half)))
	assertSameHistory(t, orig, kurrentEvents(t, url))
}

// TestMigrateRefusesATargetWithOtherHistory: a KurrentDB that already holds
// other events in one of the ledger's streams, or more events than the
// source, is refused before anything is copied.
func TestMigrateRefusesATargetWithOtherHistory(t *testing.T) {
	dir := demoDir(t)
	orig := storeEvents(t, dir)
	stream := "practitioner-" + demoPractitioner
	cases := []struct {
		name string
		// prepare writes into the target before the migration.
		prepare func(t *testing.T, s eventstore.Store)
		want    string
	}{
		{"another event in a stream", func(t *testing.T, s eventstore.Store) {
			_, err := s.Append(context.Background(), stream, eventstore.NoStream(), eventstore.EventData{
				ID: uuid.MustParse("6f1d3c9e-0a4b-4c2d-9e8f-7a6b5c4d3e2f"), Type: "PractitionerRegistered", OccurredOn: "2024-01-10",
				RecordedBy: "someone else", Data: []byte(`{"name":"Pat Other","profession":"health"}`),
			})
			require.NoError(t, err)
		}, stream + ": the target holds event 6f1d3c9e-0a4b-4c2d-9e8f-7a6b5c4d3e2f at revision 0"},
		{"a stream the source does not have", func(t *testing.T, s eventstore.Store) {
			_, err := s.Append(context.Background(), "practitioner-0f0f0f0f-1111-4222-8333-444455556666", eventstore.NoStream(), eventstore.EventData{
				ID: uuid.MustParse("6f1d3c9e-0a4b-4c2d-9e8f-7a6b5c4d3e30"), Type: "PractitionerRegistered", OccurredOn: "2024-01-10",
				RecordedBy: "someone else", Data: []byte(`{"name":"Pat Other","profession":"health"}`),
			})
			require.NoError(t, err)
		}, "the target holds 1 events, the source 0"},
		{"a longer stream", func(t *testing.T, s eventstore.Store) {
			var mine eventstore.Events
			for _, e := range orig {
				if e.Stream == stream {
					mine = append(mine, e)
				}
			}
			_, err := eventstore.Copy(context.Background(), mine, s, nil, nil)
			require.NoError(t, err)
			_, err = s.Append(context.Background(), stream, eventstore.Exact(uint64(len(mine)-1)), eventstore.EventData{
				ID: uuid.MustParse("6f1d3c9e-0a4b-4c2d-9e8f-7a6b5c4d3e31"), Type: "CourseCompleted", OccurredOn: "2024-11-01",
				RecordedBy: "someone else", Data: []byte(`{"course":"awareness"}`),
			})
			require.NoError(t, err)
		}, "the target holds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := protocoldouble.StartTest(t, protocoldouble.Options{}).ConnectionString()
			s, err := kurrentdb.Open(context.Background(), url, kurrentdb.Options{})
			require.NoError(t, err)
			tc.prepare(t, s)
			require.NoError(t, s.Close())
			before := kurrentEvents(t, url)

			code, out, errb := run(t, "migrate", "--from", "bolt", "--to", "kurrentdb", "--data", dir, "--kurrentdb", url)
			assert.Equal(t, 1, code)
			assert.Empty(t, out)
			assert.Contains(t, errb, tc.want)
			assert.Contains(t, errb, "already holds other events in 1 streams; nothing was copied")
			assertSameHistory(t, before, kurrentEvents(t, url))
		})
	}
}

// TestMigrateBadInput: every mistake is refused with a clear message and a
// non-zero exit, and nothing is written to either side.
func TestMigrateBadInput(t *testing.T) {
	dir := demoDir(t)
	orig := storeEvents(t, dir)
	srv := protocoldouble.StartTest(t, protocoldouble.Options{})
	url := srv.ConnectionString()
	dead := "esdb://" + closedAddr(t) + "?tls=false"
	served := demoDir(t)
	serve(t, served, false)
	fresh := func() string { return filepath.Join(t.TempDir(), "new") }
	f1, f2, f3 := fresh(), fresh(), fresh()
	cases := []struct {
		name string
		args []string
		code int
		want string
		// fresh is a bolt target that must not come to hold a store.
		fresh string
	}{
		{"same store twice", []string{"--from", "bolt", "--to", "bolt", "--data", dir, "--kurrentdb", url}, 2, "--from and --to must differ", ""},
		{"no --from", []string{"--to", "kurrentdb", "--data", dir, "--kurrentdb", url}, 2, "--from is required", ""},
		{"unknown store", []string{"--from", "postgres", "--to", "kurrentdb", "--data", dir, "--kurrentdb", url}, 2, `--from must be bolt or kurrentdb, not "postgres"`, ""},
		{"unknown target", []string{"--from", "bolt", "--to", "sqlite", "--data", dir, "--kurrentdb", url}, 2, `--to must be bolt or kurrentdb, not "sqlite"`, ""},
		{"missing --kurrentdb", []string{"--from", "bolt", "--to", "kurrentdb", "--data", dir}, 2, "needs --kurrentdb URL", ""},
		{"an argument", []string{"--from", "bolt", "--to", "kurrentdb", "--data", dir, "--kurrentdb", url, "extra"}, 2, "takes no arguments", ""},
		{"unknown flag", []string{"--from", "bolt", "--to", "kurrentdb", "--force"}, 2, "flag provided but not defined", ""},
		{"no ledger in the source directory", []string{"--from", "bolt", "--to", "kurrentdb", "--data", filepath.Join(t.TempDir(), "none"), "--kurrentdb", url}, 1, "no ledger in", ""},
		{"a bad connection string", []string{"--from", "kurrentdb", "--to", "bolt", "--data", f1, "--kurrentdb", "http://nowhere"}, 1, "connection string", f1},
		{"the source is being served", []string{"--from", "bolt", "--to", "kurrentdb", "--data", served, "--kurrentdb", url}, 1, "stop it before migrating", ""},
		{"an empty source", []string{"--from", "kurrentdb", "--to", "bolt", "--data", f2, "--kurrentdb", url}, 1, "holds no ledger events", f2},
		{"the source server is unreachable", []string{"--from", "kurrentdb", "--to", "bolt", "--data", f3, "--kurrentdb", dead}, 1, "unavailable", f3},
		{"the target server is unreachable", []string{"--from", "bolt", "--to", "kurrentdb", "--data", dir, "--kurrentdb", dead}, 1, "unavailable", ""},
	}
	t.Run("cases", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if strings.Contains(tc.name, "unreachable") {
					t.Parallel() // each waits out the adapter's retries
				}
				code, out, errb := run(t, append([]string{"migrate"}, tc.args...)...)
				assert.Equal(t, tc.code, code, errb)
				assert.Empty(t, out)
				assert.Contains(t, errb, tc.want)
				if tc.fresh != "" {
					_, err := os.Stat(tc.fresh)
					assert.ErrorIs(t, err, os.ErrNotExist, "no store created")
				}
			})
		}
	})
	assert.Empty(t, kurrentEvents(t, url), "nothing reached KurrentDB")
	assertSameHistory(t, orig, storeEvents(t, dir))
}

// TestMigrateConflictWhileCopying: another writer that puts its own event
// into a stream while the migration copies is caught by the copy's
// expected revisions, and the migration fails saying so.
func TestMigrateConflictWhileCopying(t *testing.T) {
	dir := demoDir(t)
	srv := protocoldouble.StartTest(t, protocoldouble.Options{})
	url := srv.ConnectionString()
	other, err := kurrentdb.Open(context.Background(), url, kurrentdb.Options{})
	require.NoError(t, err)
	defer other.Close()
	stream := "practitioner-" + demoPractitioner
	var once atomic.Bool
	var otherErr error
	srv.BeforeAppend(func(s string) {
		if s == stream && once.CompareAndSwap(false, true) {
			_, otherErr = other.Append(context.Background(), stream, eventstore.NoStream(), eventstore.EventData{
				ID: uuid.New(), Type: "PractitionerRegistered", OccurredOn: "2024-01-10",
				RecordedBy: "another writer", Data: []byte(`{"name":"Pat Other","profession":"health"}`),
			})
		}
	})

	code, out, errb := run(t, "migrate", "--from", "bolt", "--to", "kurrentdb", "--data", dir, "--kurrentdb", url)
	require.NoError(t, otherErr)
	require.True(t, once.Load(), "the other writer ran")
	assert.Equal(t, 1, code)
	assert.NotContains(t, out, "Hashes identical")
	assert.Contains(t, errb, "holds other events than the source")
	assert.Contains(t, errb, stream)
	events := kurrentEvents(t, url)
	for _, e := range events {
		if e.Stream == stream {
			assert.Equal(t, "another writer", e.RecordedBy, "the stream holds only the other writer's event")
		}
	}
}
