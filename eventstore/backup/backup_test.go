package backup_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bbolt "go.etcd.io/bbolt"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/backup"
	"github.com/imattertraining/ledger/eventstore/bolt"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// dataDir makes a data directory with a store of n events and the files
// beside it: some belong in a backup, some do not.
func dataDir(t *testing.T, n int) (string, *bolt.Store) {
	t.Helper()
	dir := t.TempDir()
	s, err := bolt.Open(filepath.Join(dir, backup.StoreFile), bolt.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	for i := range n {
		_, err := s.Append(t.Context(), "practitioner-"+string(rune('a'+i%3)), eventstore.Any(), eventstore.EventData{
			ID: uuid.New(), Type: "CourseCompleted", OccurredOn: "2024-03-01", RecordedBy: "admin:Test Administrator", Data: []byte(`{"course":"foundation_b"}`),
		})
		require.NoError(t, err)
	}
	files := map[string]string{
		"tokens.json":          `{"tokens":[]}`,
		"signing.key":          "key",
		"personal-keys.jsonl":  "{}\n",
		"checkpoints/c-1.json": "{}",
		// Left out:
		"projections.snapshot":               "snapshot",
		"server.json":                        `{"url":"http://127.0.0.1:1"}`,
		".tokens.json.123.tmp":               "temp",
		"personal-keys.jsonl.tmp-9":          "temp",
		"projections.snapshot.tmp-1":         "temp",
		"ledger.lock":                        "",
		"checkpoints/.checkpoint.json.tmp-2": "temp",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o700))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	}
	return dir, s
}

func write(t *testing.T, dir string, s *bolt.Store) []byte {
	t.Helper()
	var buf bytes.Buffer
	_, err := backup.Write(&buf, dir, s.Backup, now)
	require.NoError(t, err)
	return buf.Bytes()
}

func TestWriteAndRestore(t *testing.T) {
	dir, s := dataDir(t, 30)
	b := write(t, dir, s)
	for name, target := range map[string]func(t *testing.T) string{
		"a new directory":    func(t *testing.T) string { return filepath.Join(t.TempDir(), "restored", "data") },
		"an empty directory": func(t *testing.T) string { return t.TempDir() },
	} {
		t.Run(name, func(t *testing.T) {
			to := target(t)
			m, rep, err := backup.Restore(t.Context(), bytes.NewReader(b), to, nil)
			require.NoError(t, err)
			assert.Equal(t, 30, rep.EventsChecked)
			assert.Equal(t, now, m.CreatedAt)
			var got []string
			require.NoError(t, filepath.WalkDir(to, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(to, p)
					got = append(got, filepath.ToSlash(rel))
				}
				return err
			}))
			assert.ElementsMatch(t, []string{"events.db", "tokens.json", "signing.key", "personal-keys.jsonl", "checkpoints/c-1.json"}, got)
			for _, f := range []string{"tokens.json", "signing.key", "personal-keys.jsonl"} {
				want, _ := os.ReadFile(filepath.Join(dir, f))
				have, _ := os.ReadFile(filepath.Join(to, f))
				assert.Equal(t, want, have, f)
			}
			siblings, err := os.ReadDir(filepath.Dir(to))
			require.NoError(t, err)
			for _, e := range siblings {
				assert.NotContains(t, e.Name(), ".restore-", "no staging directory is left behind")
			}
		})
	}
}

// unchanged asserts that dir holds exactly want's names afterwards, or does
// not exist when want is nil.
func unchanged(t *testing.T, dir string, want []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if want == nil {
		assert.ErrorIs(t, err, os.ErrNotExist, "the target was not created")
	} else {
		require.NoError(t, err)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		assert.Equal(t, want, names)
	}
	siblings, err := os.ReadDir(filepath.Dir(dir))
	require.NoError(t, err)
	for _, e := range siblings {
		assert.NotContains(t, e.Name(), ".restore-", "no staging directory is left behind")
	}
}

func TestRestoreRefuses(t *testing.T) {
	dir, s := dataDir(t, 10)
	good := write(t, dir, s)

	t.Run("a directory that is not empty", func(t *testing.T) {
		to := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(to, "notes.txt"), []byte("mine"), 0o600))
		_, _, err := backup.Restore(t.Context(), bytes.NewReader(good), to, nil)
		assert.ErrorIs(t, err, backup.ErrNotEmpty)
		unchanged(t, to, []string{"notes.txt"})
	})

	// flip changes one byte at i.
	flip := func(b []byte, i int) []byte {
		out := bytes.Clone(b)
		out[i] ^= 0x55
		return out
	}
	// repack rebuilds the bundle with change applied to each entry's bytes.
	repack := func(change func(name string, b []byte) []byte) []byte {
		gz, err := gzip.NewReader(bytes.NewReader(good))
		require.NoError(t, err)
		tr := tar.NewReader(gz)
		var out bytes.Buffer
		gw := gzip.NewWriter(&out)
		tw := tar.NewWriter(gw)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			b, err := io.ReadAll(tr)
			require.NoError(t, err)
			b = change(h.Name, b)
			if b == nil {
				continue
			}
			h.Size = int64(len(b))
			require.NoError(t, tw.WriteHeader(h))
			_, err = tw.Write(b)
			require.NoError(t, err)
		}
		require.NoError(t, tw.Close())
		require.NoError(t, gw.Close())
		return out.Bytes()
	}
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "not a ledger backup"},
		{"not a backup", []byte("hello, world"), "not a ledger backup"},
		{"cut short", good[:len(good)/2], "damaged"},
		{"a byte flipped in the compressed stream", flip(good, len(good)/2), "damaged"},
		{"a byte changed in the store, manifest left", repack(func(name string, b []byte) []byte {
			if name == "events.db" {
				return flip(b, len(b)-100)
			}
			return b
		}), "events.db does not match the manifest"},
		{"no manifest", repack(func(name string, b []byte) []byte {
			if name == "MANIFEST.json" {
				return nil
			}
			return b
		}), "no manifest"},
		{"a file changed, manifest left", repack(func(name string, b []byte) []byte {
			if name == "tokens.json" {
				return append(b, ' ')
			}
			return b
		}), "tokens.json does not match"},
	}
	var evil bytes.Buffer
	gw := gzip.NewWriter(&evil)
	tw := tar.NewWriter(gw)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "../outside", Size: 1, Mode: 0o600, Typeflag: tar.TypeReg}))
	_, err := tw.Write([]byte("x"))
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	require.NoError(t, gw.Close())
	cases = append(cases, struct {
		name string
		file []byte
		want string
	}{"an entry outside the directory", evil.Bytes(), `unexpected entry "../outside"`})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			to := filepath.Join(t.TempDir(), "data")
			_, _, err := backup.Restore(t.Context(), bytes.NewReader(tc.file), to, nil)
			assert.ErrorIs(t, err, backup.ErrDamaged)
			assert.ErrorContains(t, err, tc.want)
			unchanged(t, to, nil)
		})
	}

	t.Run("a store whose chain does not verify", func(t *testing.T) {
		// Tamper with an event behind the store's back, then back it up.
		dir, s := dataDir(t, 5)
		require.NoError(t, s.Close())
		db, err := bbolt.Open(filepath.Join(dir, backup.StoreFile), 0o600, nil)
		require.NoError(t, err)
		require.NoError(t, db.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket([]byte("events"))
			k, v := b.Cursor().First()
			return b.Put(bytes.Clone(k), bytes.Replace(bytes.Clone(v), []byte("foundation_b"), []byte("foundation_x"), 1))
		}))
		require.NoError(t, db.Close())
		s2, err := bolt.Open(filepath.Join(dir, backup.StoreFile), bolt.Options{})
		require.NoError(t, err)
		defer s2.Close()
		var buf bytes.Buffer
		_, err = backup.Write(&buf, dir, s2.Backup, now)
		require.NoError(t, err)
		to := filepath.Join(t.TempDir(), "data")
		_, _, err = backup.Restore(t.Context(), &buf, to, nil)
		assert.ErrorIs(t, err, backup.ErrDamaged)
		assert.ErrorContains(t, err, "hash chain of the store copy does not verify")
		unchanged(t, to, nil)
	})
	t.Run("a failed check", func(t *testing.T) {
		to := filepath.Join(t.TempDir(), "data")
		_, _, err := backup.Restore(t.Context(), bytes.NewReader(good), to, func(string) error { return io.ErrUnexpectedEOF })
		assert.ErrorIs(t, err, backup.ErrDamaged)
		unchanged(t, to, nil)
	})
}
