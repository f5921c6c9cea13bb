package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/auth"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/bolt"
	"github.com/imattertraining/ledger/eventstore/keystore"
	"github.com/imattertraining/ledger/projections"
)

// testServer is the real server on a loopback port over the embedded
// store in a temporary directory, with one token per role.
type testServer struct {
	t      testing.TB
	dir    string
	srv    *api.Server
	store  *bolt.Store
	keys   *keystore.Keys
	tokens map[api.Role]string
	logs   *syncBuffer
	client *http.Client
}

type serverOption func(*api.Config)

// syncBuffer collects the request log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newTestServer starts a server on a new temporary data directory.
func newTestServer(t testing.TB, opts ...serverOption) *testServer {
	t.Helper()
	ts := &testServer{t: t, dir: t.TempDir(), tokens: map[api.Role]string{}, logs: &syncBuffer{}}
	tokens := auth.Open(ts.dir)
	for _, r := range api.Roles {
		tok, err := tokens.Add(string(r)+"-1", r, 0)
		require.NoError(t, err)
		ts.tokens[r] = tok
	}
	ts.start(opts...)
	t.Cleanup(ts.stop)
	return ts
}

// start opens the store and the server on ts.dir.
func (ts *testServer) start(opts ...serverOption) {
	ts.t.Helper()
	store, err := bolt.Open(filepath.Join(ts.dir, "events.db"), bolt.Options{})
	require.NoError(ts.t, err)
	keys, err := keystore.Open(ts.dir)
	require.NoError(ts.t, err)
	proj, err := projections.New(store, projections.Options{SnapshotPath: filepath.Join(ts.dir, "projections.snapshot"), Keys: keys})
	require.NoError(ts.t, err)
	cfg := api.Config{
		Store: store, Projector: proj, Tokens: auth.Open(ts.dir), Keys: keys,
		Logger: slog.New(slog.NewJSONHandler(ts.logs, nil)),
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := api.NewServer(cfg)
	require.NoError(ts.t, err)
	require.NoError(ts.t, srv.Open("127.0.0.1:0"))
	ts.srv, ts.store, ts.keys = srv, store, keys
	if _, bench := ts.t.(*testing.B); bench {
		// Benchmarks measure the server, not the test harness: the
		// validator's parsed document (~6 MB, ~40,000 objects, kept for
		// the process's life) would be marked by every GC cycle of the
		// load and charged to the server. Every request and response of
		// the tests is still checked.
		ts.client = &http.Client{Timeout: 30 * time.Second}
		return
	}
	ts.client = &http.Client{Timeout: 30 * time.Second, Transport: &conforming{
		t: ts.t, v: specValidator(ts.t, srv.URL()), next: http.DefaultTransport,
	}}
}

// stop closes the server gracefully, then the store.
func (ts *testServer) stop() {
	if ts.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(ts.t, ts.srv.Close(ctx))
	require.NoError(ts.t, ts.store.Close())
	require.NoError(ts.t, ts.keys.Close())
	ts.srv, ts.store, ts.keys = nil, nil, nil
}

// restart stops and starts the server on the same directory.
func (ts *testServer) restart(opts ...serverOption) {
	ts.stop()
	ts.start(opts...)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value.
func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

// errCode returns the error code of an error response.
func (r response) errCode(t testing.TB) string {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	require.True(t, ok, "not an error response: %s", r.body)
	return e["code"].(string)
}

// do sends a request as role ("" for none) with body and extra headers
// given as name, value pairs. The request and its response must conform to
// /v1/openapi.json (see conform_test.go).
func (ts *testServer) do(method, path string, role api.Role, body string, headers ...string) response {
	ts.t.Helper()
	return ts.send(false, method, path, role, body, headers...)
}

// doOffSpec is do for a request that breaks the document on purpose (no
// token, a malformed body, a parameter out of range…): only its response
// must conform.
func (ts *testServer) doOffSpec(method, path string, role api.Role, body string, headers ...string) response {
	ts.t.Helper()
	return ts.send(true, method, path, role, body, headers...)
}

func (ts *testServer) send(off bool, method, path string, role api.Role, body string, headers ...string) response {
	ts.t.Helper()
	token := ""
	if role != "" {
		token = ts.tokens[role]
	}
	return ts.sendAs(off, method, path, token, body, headers...)
}

// sendAs is send with token ("" for none) as the bearer token.
func (ts *testServer) sendAs(off bool, method, path, token, body string, headers ...string) response {
	ts.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.srv.URL()+path, rd)
	require.NoError(ts.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if off {
		req = offSpec(req)
	}
	resp, err := ts.client.Do(req)
	require.NoError(ts.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(ts.t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// count returns how many events the store holds.
func (ts *testServer) count() int { return ts.countWith(ts.t) }

// countWith is count reporting to t (a fuzz target's own T).
func (ts *testServer) countWith(t testing.TB) int {
	t.Helper()
	n := 0
	for _, err := range ts.store.ReadAll(context.Background(), eventstore.Start) {
		require.NoError(t, err)
		n++
	}
	return n
}

// registerPractitioner registers a fictional practitioner and returns its id.
func (ts *testServer) registerPractitioner(name string) string {
	ts.t.Helper()
	r := ts.do("POST", "/v1/practitioners", api.RoleAdmin, `{"occurred_on":"2024-01-10","data":{"name":"`+name+`","profession":"education"}}`)
	require.Equal(ts.t, http.StatusCreated, r.status, "%s", r.body)
	return r.json(ts.t)["id"].(string)
}

// registerOrganisation registers a fictional organisation and returns its id.
func (ts *testServer) registerOrganisation(name string) string {
	ts.t.Helper()
	r := ts.do("POST", "/v1/organisations", api.RoleAdmin, `{"occurred_on":"2024-01-08","data":{"name":"`+name+`","kind":"school","registered_service":true}}`)
	require.Equal(ts.t, http.StatusCreated, r.status, "%s", r.body)
	return r.json(ts.t)["id"].(string)
}

// event posts one event to a practitioner as admin and requires a 201.
func (ts *testServer) event(practitioner, typ, on, data string) map[string]any {
	ts.t.Helper()
	r := ts.do("POST", "/v1/practitioners/"+practitioner+"/events", api.RoleAdmin,
		`{"type":"`+typ+`","occurred_on":"`+on+`","data":`+data+`}`)
	require.Equal(ts.t, http.StatusCreated, r.status, "%s", r.body)
	return r.json(ts.t)
}
