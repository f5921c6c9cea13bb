package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/auth"
)

func TestRebuild(t *testing.T) {
	t.Run("with the store free: rebuilt here, snapshot written", func(t *testing.T) {
		dir := demoDir(t)
		snap := filepath.Join(dir, snapshotFile)
		if err := os.Remove(snap); !os.IsNotExist(err) {
			require.NoError(t, err)
		}
		code, out, errb := run(t, "rebuild", "--data", dir)
		require.Equal(t, 0, code, errb)
		assert.Contains(t, out, fmt.Sprintf("Rebuilt the read models from %d events", demoEvents()))
		assert.Contains(t, errb, "folding", "the progress bar")
		info, err := os.Stat(snap)
		require.NoError(t, err, "the snapshot the next serve starts from")
		assert.Positive(t, info.Size())

		m := serve(t, dir, false)
		code, body := get(t, m.URL()+"/v1/practitioners/"+demoPractitioner, adminToken(t, dir))
		assert.Equal(t, 200, code, body)
		assert.Contains(t, body, `"name":"Alex Example"`)
	})
	t.Run("while the server runs: rebuilt online by the server", func(t *testing.T) {
		dir := t.TempDir()
		m := serve(t, dir, true)
		code, out, errb := run(t, "rebuild", "--data", dir)
		require.Equal(t, 0, code, errb)
		assert.Contains(t, out, fmt.Sprintf("Rebuilt the read models from %d events and swapped them in", demoEvents()))
		code, body := get(t, m.URL()+"/v1/practitioners/"+demoPractitioner, m.AdminToken)
		assert.Equal(t, 200, code, body)
		list, err := auth.Open(dir).List()
		require.NoError(t, err)
		for _, tok := range list {
			assert.False(t, strings.HasPrefix(tok.Name, "cli-rebuild"), "the minted admin token is revoked: %s", tok.Name)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		cases := []struct {
			name string
			args []string
			code int
			msg  string
		}{
			{"an argument", []string{"rebuild", "--data", t.TempDir(), "extra"}, 2, "no arguments"},
			{"an unknown flag", []string{"rebuild", "--force"}, 2, "-force"},
			{"no ledger", []string{"rebuild", "--data", t.TempDir()}, 1, "no ledger"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				code, _, errb := run(t, c.args...)
				assert.Equal(t, c.code, code, errb)
				assert.Contains(t, errb, c.msg)
			})
		}
	})
}

// adminToken adds an admin token to dir for a test.
func adminToken(t *testing.T, dir string) string {
	t.Helper()
	tok, err := auth.Open(dir).Add("test-admin", api.RoleAdmin, 0)
	require.NoError(t, err)
	return tok
}
