package main

import (
	"bytes"
	"path/filepath"
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
