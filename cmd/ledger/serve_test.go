package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/auth"
	"github.com/imattertraining/ledger/eventstore"
)

func countEvents(t *testing.T, s eventstore.Store) int {
	t.Helper()
	n := 0
	for _, err := range s.ReadAll(context.Background(), eventstore.Start) {
		require.NoError(t, err)
		n++
	}
	return n
}

// TestServeFirstStart boots an empty directory with the demo: an admin
// token is printed alone on stdout, the demo is loaded, the welcome says
// where to go; a second start creates no token and loads no demo again.
func TestServeFirstStart(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	m := &Main{Data: dir, Addr: "127.0.0.1:0", Demo: true, Stdout: &out, Stderr: &errb}
	require.NoError(t, m.Open(context.Background()))
	m.printWelcome()

	token := strings.TrimSpace(out.String())
	require.Equal(t, m.AdminToken, token, "stdout holds the token alone")
	assert.NotContains(t, errb.String(), token, "the token is printed once, on stdout")
	assert.Contains(t, errb.String(), m.URL()+"/healthz")
	assert.Contains(t, errb.String(), demoPractitioner)
	demoEvents := countEvents(t, m.EventStore())
	assert.Positive(t, demoEvents)

	status, body := get(t, m.URL()+"/v1/practitioners/"+demoPractitioner+"?as_of="+demoDate(t, "2025-01-01"), token)
	assert.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, "Alex Example")
	// /healthz is a readiness answer: 503 until the read models are built.
	require.Eventually(t, func() bool {
		status, _ = get(t, m.URL()+"/healthz", "")
		return status == http.StatusOK
	}, 20*time.Second, 5*time.Millisecond, "/healthz never said ready")
	require.NoError(t, m.Close())

	out.Reset()
	m2 := &Main{Data: dir, Addr: "127.0.0.1:0", Demo: true, Stdout: &out, Stderr: &errb}
	require.NoError(t, m2.Open(context.Background()))
	defer m2.Close()
	assert.Empty(t, out.String(), "no second admin token")
	assert.Empty(t, m2.AdminToken)
	assert.Equal(t, demoEvents, countEvents(t, m2.EventStore()), "the demo loads on first start only")
	status, _ = get(t, m2.URL()+"/v1/verify", token)
	assert.Equal(t, http.StatusOK, status, "the first token still works")
}

// TestServeRunStopsOnCancel runs `ledger serve` as the command does and
// stops it as SIGTERM would, by cancelling its context.
func TestServeRunStopsOnCancel(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncWriter
	done := make(chan int)
	go func() { done <- Run(ctx, []string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, nil, &out, &errb) }()
	for !strings.Contains(errb.String(), "Stop with") {
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d: %s", code, errb.String())
		default:
		}
	}
	cancel()
	assert.Equal(t, 0, <-done, errb.String())
	assert.Contains(t, errb.String(), "Stopped.")
	assert.NotEmpty(t, strings.TrimSpace(out.String()))
}

func TestServeBadFlags(t *testing.T) {
	code, _, errb := run(t, "serve", "--data", t.TempDir(), "--store", "postgres")
	assert.Equal(t, 2, code)
	assert.Contains(t, errb, "bolt or kurrentdb")
	code, _, errb = run(t, "serve", "--data", t.TempDir(), "--store", "kurrentdb")
	assert.Equal(t, 2, code)
	assert.Contains(t, errb, "--kurrentdb")
}

// TestServeTokenBootstrap: the first admin token is made only for an
// empty store; a data directory whose store holds events but whose
// tokens.json is missing does not start without --bootstrap-admin, and a
// damaged token file stops the start with a message naming it.
func TestServeTokenBootstrap(t *testing.T) {
	dir := t.TempDir()
	m := &Main{Data: dir, Addr: "127.0.0.1:0", Demo: true}
	require.NoError(t, m.Open(context.Background()))
	require.NotEmpty(t, m.AdminToken)
	require.NoError(t, m.Close())
	// The demo's name recorded events: no token is ever given it (issue 16
	// item 2: "A name, once used, is never given to another token.").
	_, err := auth.Open(dir).Add(demoRecordedBy, api.RoleReviewer, 0)
	require.Error(t, err, "a token named like the demo would pass for it in every recorded_by")
	tokensPath := filepath.Join(dir, auth.FileName)
	saved, err := os.ReadFile(tokensPath)
	require.NoError(t, err)

	t.Run("tokens.json missing beside a store in use", func(t *testing.T) {
		require.NoError(t, os.Remove(tokensPath))
		var out bytes.Buffer
		m := &Main{Data: dir, Addr: "127.0.0.1:0", Stdout: &out}
		err := m.Open(context.Background())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "tokens.json is missing")
		assert.Contains(t, err.Error(), "--bootstrap-admin")
		assert.Empty(t, out.String(), "no token printed")
		_, statErr := os.Stat(tokensPath)
		assert.True(t, os.IsNotExist(statErr), "no token file written")
	})

	t.Run("--bootstrap-admin makes one, under a name nobody used", func(t *testing.T) {
		var out bytes.Buffer
		m := &Main{Data: dir, Addr: "127.0.0.1:0", Stdout: &out, BootstrapAdmin: true}
		require.NoError(t, m.Open(context.Background()))
		defer m.Close()
		require.Equal(t, m.AdminToken, strings.TrimSpace(out.String()))
		p, err := auth.Open(dir).Authenticate(m.AdminToken)
		require.NoError(t, err)
		assert.Equal(t, api.RoleAdmin, p.Role)
		assert.NotEqual(t, "admin", p.Name, "the old admin's name is not handed out again")
		for _, name := range []string{demoRecordedBy} {
			_, err := auth.Open(dir).Add(name, api.RoleReviewer, 0)
			assert.Error(t, err, "%s recorded events before the token file was lost: its name is not given again", name)
		}
		status, _ := get(t, m.URL()+"/v1/verify", m.AdminToken)
		assert.Equal(t, http.StatusOK, status)
	})

	for name, content := range map[string]string{
		"damaged":    `{"version":1,"tokens":[{"name":"admin"`,
		"a bad hash": `{"version":1,"tokens":[{"name":"admin","role":"admin","sha256":"zz"}]}`,
	} {
		t.Run("a token file with "+name+" content stops the start", func(t *testing.T) {
			require.NoError(t, os.WriteFile(tokensPath, []byte(content), 0o600))
			var out bytes.Buffer
			m := &Main{Data: dir, Addr: "127.0.0.1:0", Stdout: &out, BootstrapAdmin: true}
			err := m.Open(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tokensPath)
			assert.Contains(t, err.Error(), "Restore")
			assert.Empty(t, out.String())
			b, _ := os.ReadFile(tokensPath)
			assert.Equal(t, content, string(b), "the damaged file is left as it was")
		})
	}

	t.Run("a restored token file starts as before", func(t *testing.T) {
		require.NoError(t, os.WriteFile(tokensPath, saved, 0o600))
		var out bytes.Buffer
		m := &Main{Data: dir, Addr: "127.0.0.1:0", Stdout: &out}
		require.NoError(t, m.Open(context.Background()))
		defer m.Close()
		assert.Empty(t, out.String())
		assert.Empty(t, m.AdminToken)
	})
}

// TestServeKurrentDBHelpURL: the connection string serve's messages offer
// as an example is one the KurrentDB client accepts (it takes esdb:// and
// esdb+discover://, not kurrentdb://).
func TestServeKurrentDBHelpURL(t *testing.T) {
	code, _, errb := run(t, "serve", "--data", t.TempDir(), "--store", "kurrentdb")
	require.Equal(t, 2, code)
	i := strings.Index(errb, "e.g. ")
	require.GreaterOrEqual(t, i, 0, errb)
	example := strings.TrimSuffix(strings.Fields(errb[i+len("e.g. "):])[0], ")")
	_, err := esdb.ParseConnectionString(example)
	assert.NoError(t, err, "example %q", example)

	_, _, help := run(t, "serve", "--help")
	assert.NotContains(t, help, "kurrentdb://")
	assert.Contains(t, help, "esdb://")
}

func TestServeTrustedProxyFlag(t *testing.T) {
	code, _, errb := run(t, "serve", "--data", t.TempDir(), "--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "proxy.example")
	assert.Equal(t, 2, code)
	assert.Contains(t, errb, `"proxy.example" is neither an address nor a CIDR prefix`)
}
