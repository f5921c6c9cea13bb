package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/auth"
)

func TestToken(t *testing.T) {
	dir := t.TempDir()
	code, out, errb := run(t, "token", "add", "--data", dir, "--role", "auditor", "--name", "auditor-jo")
	require.Equal(t, 0, code, errb)
	token := strings.TrimSpace(out)
	assert.Equal(t, token+"\n", out, "the token alone on stdout")
	p, err := auth.Open(dir).Authenticate(token)
	require.NoError(t, err)
	assert.Equal(t, api.Principal{Name: "auditor-jo", Role: api.RoleAuditor}, p)

	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"duplicate name", []string{"add", "--data", dir, "--role", "admin", "--name", "auditor-jo"}, 1, "exists"},
		{"unknown role", []string{"add", "--data", dir, "--role", "owner", "--name", "x"}, 1, "role"},
		{"missing name", []string{"add", "--data", dir, "--role", "admin"}, 2, "--name"},
		{"revoke unknown", []string{"revoke", "--data", dir, "--name", "nobody"}, 1, "nobody"},
		{"unknown subcommand", []string{"rotate", "--data", dir}, 2, "rotate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errb := run(t, append([]string{"token"}, tc.args...)...)
			assert.Equal(t, tc.code, code)
			assert.Contains(t, errb, tc.want)
		})
	}

	code, out, _ = run(t, "token", "list", "--data", dir)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "auditor-jo")
	assert.NotContains(t, out, token)

	code, _, _ = run(t, "token", "revoke", "--data", dir, "--name", "auditor-jo")
	require.Equal(t, 0, code)
	_, err = auth.Open(dir).Authenticate(token)
	assert.Error(t, err)

	// The name is retired, not freed: whoever got it next would pass for
	// auditor-jo in every recorded_by and idempotency key.
	code, out, errb = run(t, "token", "add", "--data", dir, "--role", "admin", "--name", "auditor-jo")
	assert.Equal(t, 1, code)
	assert.Empty(t, out, "no token printed")
	assert.Contains(t, errb, "never given to another token")
	code, out, errb = run(t, "token", "list", "--data", dir)
	require.Equal(t, 0, code)
	assert.NotContains(t, out, "auditor-jo", "not a live token")
	assert.Contains(t, errb, "retired names (revoked or expired; never reused): auditor-jo")
}
