package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

	status, body := get(t, m.URL()+"/v1/practitioners/"+demoPractitioner+"?as_of=2025-01-01", token)
	assert.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, "Alex Example")
	status, _ = get(t, m.URL()+"/healthz", "")
	assert.Equal(t, http.StatusOK, status)
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
