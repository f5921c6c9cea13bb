package auth

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/domain"
)

// TestRememberedSeesAnotherProcess: a remembered token file is not
// stat'ed on every call, and is read again once recheckEvery has passed,
// so a token another process (here a second Tokens on the same file, as
// `ledger token` is) adds or revokes takes effect within it.
func TestRememberedSeesAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	server, tok, stop := remembered(t, dir, time.Hour)
	checked := server.checked.Load()
	for range 100 {
		_, err := server.Authenticate(tok)
		require.NoError(t, err)
	}
	assert.Equal(t, checked, server.checked.Load(), "a remembered file is not stat'ed on every request")

	cli := Open(dir)
	require.NoError(t, cli.Revoke("auditor-jo"))
	_, err := server.Authenticate(tok)
	require.NoError(t, err, "within recheckEvery (an hour here) the last reading stands")

	server.recheckEvery = 20 * time.Millisecond
	eventually(t, server, tok, false, "a token revoked by another process is refused once recheckEvery has passed")

	server.recheckEvery = time.Hour
	added, err := cli.Add("reviewer-sam", RoleReviewer, 0)
	require.NoError(t, err)
	p, err := server.Authenticate(added)
	require.NoError(t, err, "a token another process has just added is accepted at once: one not found is looked for in the file again")
	assert.Equal(t, Principal{Name: "reviewer-sam", Role: RoleReviewer}, p)

	t.Run("stopped, every call checks the file again", func(t *testing.T) {
		server.recheckEvery = time.Hour
		stop()
		require.NoError(t, cli.Revoke("reviewer-sam"))
		_, err := server.Authenticate(added)
		assert.Equal(t, domain.EUNAUTHORIZED, domain.ErrorCode(err), "refused at once")
	})
}

// TestRememberedWritesTakeEffectAtOnce: a change this process makes itself
// (the console's tests revoke through the server's own Tokens) is seen at
// once, however long the last reading would be trusted.
func TestRememberedWritesTakeEffectAtOnce(t *testing.T) {
	tokens, tok, _ := remembered(t, t.TempDir(), time.Hour)
	require.NoError(t, tokens.Revoke("auditor-jo"))
	_, err := tokens.Authenticate(tok)
	assert.Equal(t, domain.EUNAUTHORIZED, domain.ErrorCode(err))
}

// TestRecheckEveryIsShort: the bound the README promises for a revocation
// by another process.
func TestRecheckEveryIsShort(t *testing.T) {
	assert.Equal(t, 100*time.Millisecond, Open(t.TempDir()).recheckEvery)
}

// remembered returns the token file in dir, remembered for every (until the
// test ends, or stop), and the token of auditor-jo in it, authenticated
// once.
func remembered(t *testing.T, dir string, every time.Duration) (tokens *Tokens, token string, stop func()) {
	t.Helper()
	tokens = Open(dir)
	tokens.recheckEvery = every
	token, err := tokens.Add("auditor-jo", RoleAuditor, 0)
	require.NoError(t, err)
	stop = tokens.Remember()
	t.Cleanup(stop)
	_, err = tokens.Authenticate(token)
	require.NoError(t, err)
	return tokens, token, stop
}

// eventually waits (boundedly) until tokens accepts token, or refuses it
// as unauthorized when accepted is false.
func eventually(t *testing.T, tokens *Tokens, token string, accepted bool, msg string) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, err := tokens.Authenticate(token)
		if accepted {
			return err == nil
		}
		return domain.ErrorCode(err) == domain.EUNAUTHORIZED
	}, 5*time.Second, time.Millisecond, msg)
}
