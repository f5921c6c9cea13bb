package auth_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api/auth"
	"github.com/imattertraining/ledger/domain"
)

func TestTokens(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tokens := auth.Open(dir).WithClock(func() time.Time { return now })
	assert.False(t, tokens.Exists())

	admin, err := tokens.Add("ops-admin", auth.RoleAdmin, 0)
	require.NoError(t, err)
	auditor, err := tokens.Add("auditor-jo", auth.RoleAuditor, 0)
	require.NoError(t, err)
	assert.NotEqual(t, admin, auditor)
	assert.GreaterOrEqual(t, len(admin), 40, "a token carries 256 random bits")

	t.Run("the file keeps hashes, never tokens, readable by the owner only", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(dir, auth.FileName))
		require.NoError(t, err)
		assert.NotContains(t, string(b), admin)
		assert.NotContains(t, string(b), auditor)
		fi, err := os.Stat(filepath.Join(dir, auth.FileName))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	})

	cases := []struct {
		name  string
		token string
		want  auth.Principal
		code  string
	}{
		{"admin", admin, auth.Principal{Name: "ops-admin", Role: auth.RoleAdmin}, ""},
		{"auditor", auditor, auth.Principal{Name: "auditor-jo", Role: auth.RoleAuditor}, ""},
		{"empty", "", auth.Principal{}, domain.EUNAUTHORIZED},
		{"unknown", "ldg_" + strings.Repeat("A", 43), auth.Principal{}, domain.EUNAUTHORIZED},
		{"one character changed", admin[:len(admin)-1] + "x", auth.Principal{}, domain.EUNAUTHORIZED},
		{"no prefix", strings.TrimPrefix(admin, "ldg_"), auth.Principal{}, domain.EUNAUTHORIZED},
	}
	for _, tc := range cases {
		t.Run("authenticate "+tc.name, func(t *testing.T) {
			p, err := tokens.Authenticate(tc.token)
			assert.Equal(t, tc.code, domain.ErrorCode(err))
			assert.Equal(t, tc.want, p)
		})
	}

	t.Run("names are unique and well formed, roles known", func(t *testing.T) {
		_, err := tokens.Add("ops-admin", auth.RoleReviewer, 0)
		assert.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
		_, err = tokens.Add("Has Spaces", auth.RoleReviewer, 0)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		_, err = tokens.Add("someone", auth.Role("owner"), 0)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
	})

	t.Run("another process's changes are seen", func(t *testing.T) {
		other := auth.Open(dir)
		rev, err := other.Add("reviewer-sam", auth.RoleReviewer, 0)
		require.NoError(t, err)
		p, err := tokens.Authenticate(rev)
		require.NoError(t, err)
		assert.Equal(t, auth.RoleReviewer, p.Role)
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
		tok, err := tokens.Add("cli-short", auth.RoleAuditor, 15*time.Minute)
		require.NoError(t, err)
		now = now.Add(15 * time.Minute)
		_, err = tokens.Authenticate(tok)
		require.NoError(t, err, "valid up to its expiry")
		now = now.Add(time.Nanosecond)
		_, err = tokens.Authenticate(tok)
		assert.Equal(t, domain.EUNAUTHORIZED, domain.ErrorCode(err))
		assert.ErrorContains(t, err, "expired")
	})

	t.Run("a revoked or expired token's name is never issued again", func(t *testing.T) {
		// reviewer-sam wrote reviews under that name: a new holder would
		// inherit its recorded_by and its idempotency keys.
		require.NoError(t, tokens.Revoke("reviewer-sam"))
		for _, name := range []string{"reviewer-sam", "auditor-jo", "cli-short"} {
			_, err := auth.Open(dir).Add(name, auth.RoleAdmin, 0)
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

// TestReserve: a name that recorded events without a token of its own (the
// demo's, an import's, or that of a token whose file was lost) is never
// given to a token, which would inherit its recorded_by and idempotency
// keys (issue 16 item 2: "A name, once used, is never given to another
// token.").
func TestReserve(t *testing.T) {
	tokens := auth.Open(t.TempDir())
	_, err := tokens.Add("ops-admin", auth.RoleAdmin, 0)
	require.NoError(t, err)
	require.NoError(t, tokens.Reserve([]string{"demo", "import", "ops-admin", "Not A Token Name"}))
	for _, name := range []string{"demo", "import"} {
		_, err := tokens.Add(name, auth.RoleReviewer, 0)
		require.Error(t, err, name)
		assert.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
		assert.Contains(t, err.Error(), "recorded events")
	}
	list, err := tokens.List()
	require.NoError(t, err)
	require.Len(t, list, 1, "a live token's own name stays live")
	require.NoError(t, tokens.Reserve([]string{"demo"}), "reserving twice changes nothing")
	retired, err := tokens.Retired()
	require.NoError(t, err)
	assert.Len(t, retired, 2)
}

// TestDamagedTokenFile: a token file whose entries could not have been
// written by Add is damaged, found by Check (at a server's start): a role
// that is none of the three (it would pass every "is it a reviewer / an
// auditor?" test of the write path as if it were an admin's), a name
// given twice, a file that is JSON null.
func TestDamagedTokenFile(t *testing.T) {
	hash := strings.Repeat("00", 32)
	for name, content := range map[string]string{
		"an unknown role": `{"version":1,"tokens":[{"name":"x","role":"superuser","sha256":"` + hash + `"}]}`,
		"a name twice": `{"version":1,"tokens":[{"name":"x","role":"admin","sha256":"` + hash + `"},` +
			`{"name":"x","role":"auditor","sha256":"` + strings.Repeat("11", 32) + `"}]}`,
		"a bad name": `{"version":1,"tokens":[{"name":"","role":"admin","sha256":"` + hash + `"}]}`,
		"null":       `null`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, auth.FileName), []byte(content), 0o600))
			err := auth.Open(dir).Check()
			require.Error(t, err)
			assert.Contains(t, err.Error(), filepath.Join(dir, auth.FileName))
		})
	}
}
