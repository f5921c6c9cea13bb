package auth

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/domain"
)

// TestWatchSeesAnotherProcess: a watched token file is read again when
// another process (here a second Tokens on the same file, as `ledger
// token` is) adds or revokes a token, with no periodic check to find it
// (recheckEvery an hour), and is not stat'ed on every call meanwhile.
func TestWatchSeesAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	server, tok, stop := watched(t, dir)
	checked := server.checked.Load()
	for range 100 {
		_, err := server.Authenticate(tok)
		require.NoError(t, err)
	}
	assert.Equal(t, checked, server.checked.Load(), "an unchanged, watched file is not stat'ed on every request")

	cli := Open(dir)
	added, err := cli.Add("reviewer-sam", RoleReviewer, 0)
	require.NoError(t, err)
	eventually(t, server, added, true, "a token added by another process is accepted")
	require.NoError(t, cli.Revoke("auditor-jo"))
	eventually(t, server, tok, false, "a token revoked by another process is refused")

	t.Run("stopped, every call checks the file again", func(t *testing.T) {
		stop()
		require.NoError(t, cli.Revoke("reviewer-sam"))
		_, err := server.Authenticate(added)
		assert.Equal(t, domain.EUNAUTHORIZED, domain.ErrorCode(err), "refused at once")
	})
}

// TestWatchFallsBackToRechecks: where the directory cannot be watched (here
// it does not exist yet when Watch is called), the file is stat'ed every
// recheckEvery, so a revocation by another process is still refused.
func TestWatchFallsBackToRechecks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not-yet")
	server := Open(dir)
	server.recheckEvery = 20 * time.Millisecond
	stop, err := server.Watch()
	require.Error(t, err, "nothing to watch")
	defer stop()

	cli := Open(dir)
	tok, err := cli.Add("auditor-jo", RoleAuditor, 0)
	require.NoError(t, err)
	eventually(t, server, tok, true, "a token added by another process is accepted")
	require.NoError(t, cli.Revoke("auditor-jo"))
	eventually(t, server, tok, false, "a token revoked by another process is refused")
}

// TestWatchedWritesTakeEffectAtOnce: a change this process makes itself
// (the console's tests revoke through the server's own Tokens) needs no
// event to be seen.
func TestWatchedWritesTakeEffectAtOnce(t *testing.T) {
	tokens, tok, _ := watched(t, t.TempDir())
	require.NoError(t, tokens.Revoke("auditor-jo"))
	_, err := tokens.Authenticate(tok)
	assert.Equal(t, domain.EUNAUTHORIZED, domain.ErrorCode(err))
}

// watched returns the token file in dir, watched with no periodic check
// (until the test ends, or stop), and the token of auditor-jo in it,
// authenticated once.
func watched(t *testing.T, dir string) (tokens *Tokens, token string, stop func()) {
	t.Helper()
	tokens = Open(dir)
	tokens.recheckEvery = time.Hour
	token, err := tokens.Add("auditor-jo", RoleAuditor, 0)
	require.NoError(t, err)
	stop, err = tokens.Watch()
	require.NoError(t, err)
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
