package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api/auth"
)

// run runs the ledger command as main would and returns its exit code,
// stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := Run(ctx, args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// serve boots the real server on a loopback port over dir and returns it;
// it is closed when the test ends. A directory filled offline (by import)
// has no token file yet: like its operator, the helper then starts with
// --bootstrap-admin.
func serve(t *testing.T, dir string, demo bool) *Main {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Data: dir, Addr: "127.0.0.1:0", Demo: demo, Stdout: &out, Stderr: &errb, BootstrapAdmin: !auth.Open(dir).Exists()}
	require.NoError(t, m.Open(context.Background()))
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// get fetches url with token and returns the status and body.
func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestRunUsage(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"no command", nil, 2},
		{"unknown command", []string{"frobnicate"}, 2},
		{"help", []string{"help"}, 0},
		{"unknown flag", []string{"verify", "--colour"}, 2},
		{"token without subcommand", []string{"token"}, 2},
		{"replay without practitioner", []string{"replay", "--data", t.TempDir()}, 2},
		{"import without file", []string{"import", "--data", t.TempDir()}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, _ := run(t, tc.args...)
			require.Equal(t, tc.code, code)
		})
	}
}
