package api_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/domain"
)

func TestTokens(t *testing.T) {
	dir := t.TempDir()
	tokens := api.OpenTokens(dir)
	assert.False(t, tokens.Exists())

	admin, err := tokens.Add("ops-admin", api.RoleAdmin, 0)
	require.NoError(t, err)
	auditor, err := tokens.Add("auditor-jo", api.RoleAuditor, 0)
	require.NoError(t, err)
	assert.NotEqual(t, admin, auditor)
	assert.GreaterOrEqual(t, len(admin), 40, "a token carries 256 random bits")

	t.Run("the file keeps hashes, never tokens, readable by the owner only", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(dir, api.TokensFile))
		require.NoError(t, err)
		assert.NotContains(t, string(b), admin)
		assert.NotContains(t, string(b), auditor)
		fi, err := os.Stat(filepath.Join(dir, api.TokensFile))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	})

	cases := []struct {
		name  string
		token string
		want  api.Principal
		code  string
	}{
		{"admin", admin, api.Principal{Name: "ops-admin", Role: api.RoleAdmin}, ""},
		{"auditor", auditor, api.Principal{Name: "auditor-jo", Role: api.RoleAuditor}, ""},
		{"empty", "", api.Principal{}, domain.EUNAUTHORIZED},
		{"unknown", "ldg_" + strings.Repeat("A", 43), api.Principal{}, domain.EUNAUTHORIZED},
		{"one character changed", admin[:len(admin)-1] + "x", api.Principal{}, domain.EUNAUTHORIZED},
		{"no prefix", strings.TrimPrefix(admin, "ldg_"), api.Principal{}, domain.EUNAUTHORIZED},
	}
	for _, tc := range cases {
		t.Run("authenticate "+tc.name, func(t *testing.T) {
			p, err := tokens.Authenticate(tc.token)
			assert.Equal(t, tc.code, domain.ErrorCode(err))
			assert.Equal(t, tc.want, p)
		})
	}

	t.Run("names are unique and well formed, roles known", func(t *testing.T) {
		_, err := tokens.Add("ops-admin", api.RoleReviewer, 0)
		assert.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
		_, err = tokens.Add("Has Spaces", api.RoleReviewer, 0)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		_, err = tokens.Add("someone", api.Role("owner"), 0)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
	})

	t.Run("another process's changes are seen", func(t *testing.T) {
		other := api.OpenTokens(dir)
		rev, err := other.Add("reviewer-sam", api.RoleReviewer, 0)
		require.NoError(t, err)
		p, err := tokens.Authenticate(rev)
		require.NoError(t, err)
		assert.Equal(t, api.RoleReviewer, p.Role)
		require.NoError(t, other.Revoke("auditor-jo"))
		_, err = tokens.Authenticate(auditor)
		assert.Equal(t, domain.EUNAUTHORIZED, domain.ErrorCode(err))
	})

	t.Run("revoking an unknown name", func(t *testing.T) {
		assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(tokens.Revoke("nobody")))
	})

	t.Run("list is sorted and shows no secrets", func(t *testing.T) {
		list, err := tokens.List()
		require.NoError(t, err)
		names := []string{}
		for _, ti := range list {
			names = append(names, ti.Name)
		}
		assert.Equal(t, []string{"ops-admin", "reviewer-sam"}, names)
	})

	t.Run("a short-lived token expires", func(t *testing.T) {
		tok, err := tokens.Add("cli-short", api.RoleAuditor, time.Nanosecond)
		require.NoError(t, err)
		time.Sleep(time.Millisecond)
		_, err = tokens.Authenticate(tok)
		assert.Equal(t, domain.EUNAUTHORIZED, domain.ErrorCode(err))
	})

	t.Run("a revoked or expired token's name is never issued again", func(t *testing.T) {
		// reviewer-sam wrote reviews under that name: a new holder would
		// inherit its recorded_by and its idempotency keys.
		require.NoError(t, tokens.Revoke("reviewer-sam"))
		for _, name := range []string{"reviewer-sam", "auditor-jo", "cli-short"} {
			_, err := api.OpenTokens(dir).Add(name, api.RoleAdmin, 0)
			assert.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), name)
			assert.ErrorContains(t, err, "never given to another token", name)
		}
		retired, err := tokens.Retired()
		require.NoError(t, err)
		names := []string{}
		for _, r := range retired {
			names = append(names, r.Name)
		}
		assert.Equal(t, []string{"auditor-jo", "cli-short", "reviewer-sam"}, names)
		list, err := tokens.List()
		require.NoError(t, err)
		assert.Len(t, list, 1, "only ops-admin is live")
	})
}
