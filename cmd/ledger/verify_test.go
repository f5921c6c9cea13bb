package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bbolt "go.etcd.io/bbolt"
)

// demoDir returns a data directory holding the demo data set, served once
// and stopped.
func demoDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	m := serve(t, dir, true)
	require.NoError(t, m.Close())
	return dir
}

func TestVerify(t *testing.T) {
	t.Run("a good ledger", func(t *testing.T) {
		code, out, errb := run(t, "verify", "--data", demoDir(t))
		assert.Equal(t, 0, code, errb)
		assert.Contains(t, out, "OK:")
	})
	t.Run("while the server runs", func(t *testing.T) {
		dir := demoDir(t)
		serve(t, dir, false)
		code, out, errb := run(t, "verify", "--data", dir)
		assert.Equal(t, 0, code, errb)
		assert.Contains(t, out, "OK:")
	})
	t.Run("a tampered event is named", func(t *testing.T) {
		dir := demoDir(t)
		tamper(t, filepath.Join(dir, eventsFile), []byte("foundation_b"), []byte("foundation_x"))
		code, out, _ := run(t, "verify", "--data", dir)
		assert.Equal(t, 1, code)
		assert.Contains(t, out, "First bad event")
		assert.Contains(t, out, "hash does not match")
	})
	t.Run("no ledger", func(t *testing.T) {
		code, _, errb := run(t, "verify", "--data", t.TempDir())
		assert.Equal(t, 1, code)
		assert.Contains(t, errb, "no ledger")
	})
}

// tamper rewrites the first stored event whose bytes contain from, as an
// attacker with the file would, behind the store's back.
func tamper(t *testing.T, path string, from, to []byte) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	defer db.Close()
	done := false
	require.NoError(t, db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("events"))
		require.NotNil(t, b)
		return b.ForEach(func(k, v []byte) error {
			if done || !bytes.Contains(v, from) {
				return nil
			}
			done = true
			return b.Put(bytes.Clone(k), bytes.Replace(bytes.Clone(v), from, to, 1))
		})
	}))
	require.True(t, done, "nothing to tamper with")
}

// TestTruncatedStore: a store cut short. With its last event removed
// cleanly (bbolt itself; every chain that remains intact) verify fails,
// naming the position missing, and serve starts degraded: it says so on
// stderr and /healthz answers 503 naming the damaged store. With the file
// truncated, verify fails naming the bytes missing, and serve refuses to
// start, saying why.
func TestTruncatedStore(t *testing.T) {
	t.Run("the last event removed", func(t *testing.T) {
		dir := demoDir(t)
		var last uint64
		db, err := bbolt.Open(filepath.Join(dir, eventsFile), 0o600, nil)
		require.NoError(t, err)
		require.NoError(t, db.Update(func(tx *bbolt.Tx) error {
			c := tx.Bucket([]byte("events")).Cursor()
			k, _ := c.Last()
			last = binary.BigEndian.Uint64(k)
			return c.Bucket().Delete(k)
		}))
		require.NoError(t, db.Close())

		code, out, errb := run(t, "verify", "--data", dir)
		assert.Equal(t, 1, code, "%s %s", out, errb)
		assert.Contains(t, out, "The store is damaged at position "+strconv.FormatUint(last, 10))
		assert.Contains(t, out, "missing")
		assert.Contains(t, errb, "the store is damaged")

		var stderr bytes.Buffer
		m := &Main{Data: dir, Addr: "127.0.0.1:0", Stderr: &stderr}
		require.NoError(t, m.Open(context.Background()), "served degraded")
		defer m.Close()
		assert.Contains(t, stderr.String(), "WARNING: the store in "+dir+" is damaged")
		status, body := get(t, m.URL()+"/healthz", "")
		assert.Equal(t, http.StatusServiceUnavailable, status, body)
		assert.Contains(t, body, `"component":"store","state":"damaged"`)
		assert.Contains(t, body, "missing")
	})
	t.Run("the file truncated", func(t *testing.T) {
		dir := demoDir(t)
		path := filepath.Join(dir, eventsFile)
		st, err := os.Stat(path)
		require.NoError(t, err)
		require.NoError(t, os.Truncate(path, st.Size()/2))

		code, out, errb := run(t, "verify", "--data", dir)
		assert.Equal(t, 1, code, "%s %s", out, errb)
		assert.Contains(t, errb, "cut short")
		assert.Contains(t, errb, "are missing")

		m := &Main{Data: dir, Addr: "127.0.0.1:0"}
		err = m.Open(context.Background())
		require.Error(t, err, "a store that cannot be opened is not served")
		assert.Contains(t, err.Error(), "cannot be served")
		assert.Contains(t, err.Error(), "cut short")
	})
}
