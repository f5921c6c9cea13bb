package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bbolt "go.etcd.io/bbolt"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/projections"
)

// failingAppends is a store whose appends fail with *fail while it is set.
type failingAppends struct {
	eventstore.Store
	fail *atomic.Pointer[error]
}

func (s failingAppends) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := s.fail.Load(); err != nil {
		return eventstore.AppendResult{}, *err
	}
	return s.Store.Append(ctx, stream, expected, events...)
}

// errFullDisk is what the embedded store's append gives on a full disk.
var errFullDisk = fmt.Errorf("%w: bolt: commit: %w", eventstore.ErrNoSpace,
	&os.PathError{Op: "write", Path: "events.db", Err: syscall.ENOSPC})

// TestFullDisk: an append on a full disk is a 503 with Retry-After, not an
// opaque 500, and stores nothing; the server logs the full disk once, not
// per request, and once more when appends succeed again; /healthz says
// "degraded" meanwhile (reads are still served).
func TestFullDisk(t *testing.T) {
	var fail atomic.Pointer[error]
	ts := newTestServer(t, func(c *api.Config) { c.Store = failingAppends{Store: c.Store, fail: &fail} })
	id := ts.registerPractitioner("Alex Example")
	before := ts.count()

	fail.Store(&errFullDisk)
	for range 3 {
		r := ts.do("POST", "/v1/practitioners/"+id+"/events", api.RoleAdmin,
			`{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"}}`)
		require.Equal(t, http.StatusServiceUnavailable, r.status, "%s", r.body)
		assert.Equal(t, "unavailable", r.errCode(t))
		assert.Equal(t, "30", r.header.Get("Retry-After"))
		assert.Contains(t, r.json(t)["error"].(map[string]any)["message"], "disk is full")
	}
	assert.Equal(t, before, ts.count(), "nothing stored")
	logs := ts.logs.String()
	assert.Equal(t, 1, strings.Count(logs, "disk is full"), "logged once, not per request:\n%s", logs)
	assert.NotContains(t, logs, `"msg":"request failed"`)

	ts.waitReady() // the read models may still be starting
	h := ts.do("GET", "/healthz", "", "")
	assert.Equal(t, http.StatusOK, h.status, "reads are still served: %s", h.body)
	assert.Equal(t, "degraded", h.json(t)["status"])
	assert.Contains(t, string(h.body), `"state":"disk_full"`)
	r := ts.do("GET", "/v1/practitioners/"+id, api.RoleAuditor, "")
	assert.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Regexp(t, `(?m)^ledger_store_disk_full 1$`, string(ts.do("GET", "/metrics", "", "").body))

	fail.Store(nil)
	ts.event(id, "CourseCompleted", "2024-03-01", `{"course":"foundation_b"}`)
	ts.event(id, "CourseCompleted", "2024-03-02", `{"course":"intermediate_a"}`)
	logs = ts.logs.String()
	assert.Equal(t, 1, strings.Count(logs, "disk is full"))
	assert.Equal(t, 1, strings.Count(logs, "disk has room again"), "recovery logged once:\n%s", logs)
	h = ts.do("GET", "/healthz", "", "")
	assert.Equal(t, http.StatusOK, h.status)
	assert.Equal(t, "ok", h.json(t)["status"])
	assert.NotContains(t, string(h.body), "problems")
	assert.Regexp(t, `(?m)^ledger_store_disk_full 0$`, string(ts.do("GET", "/metrics", "", "").body))
}

// failingSubscriptions is a store whose subscriptions fail while down is
// set: a running one on the next event it would deliver, a new one at once.
type failingSubscriptions struct {
	eventstore.Store
	down *atomic.Bool
}

var errSubscription = errors.New("injected: the subscription failed")

func (s failingSubscriptions) Subscribe(ctx context.Context, from eventstore.Position, fn func(eventstore.RecordedEvent) error) error {
	if s.down.Load() {
		return errSubscription
	}
	return s.Store.Subscribe(ctx, from, func(e eventstore.RecordedEvent) error {
		if s.down.Load() {
			return errSubscription
		}
		return fn(e)
	})
}

// TestReadModelsThatStop: when the read models' subscription fails, the
// server says so: /healthz answers 503 naming the read models' state,
// lists answer 503 with Retry-After instead of data that has stopped
// moving, and the failures are logged and counted in /metrics. The models
// subscribe again by themselves and, once the store serves again, catch
// up: health is 200 and lists include what was written meanwhile.
func TestReadModelsThatStop(t *testing.T) {
	var down atomic.Bool
	ts := newTestServer(t, func(c *api.Config) {
		logger := c.Logger
		proj, err := projections.New(failingSubscriptions{Store: c.Store, down: &down}, projections.Options{
			RetryMin: 5 * time.Millisecond, RetryMax: 50 * time.Millisecond,
			Logf: func(format string, args ...any) { logger.Warn(fmt.Sprintf(format, args...)) },
		})
		require.NoError(t, err)
		c.Projector = proj
	})
	first := ts.registerPractitioner("Alex Example")
	r := ts.do("GET", "/v1/practitioners", api.RoleAuditor, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)

	down.Store(true)
	second := ts.registerPractitioner("Sam Sample") // stored; the models stop on it
	var h response
	require.Eventually(t, func() bool {
		h = ts.do("GET", "/healthz", "", "")
		return h.status == http.StatusServiceUnavailable
	}, 20*time.Second, 5*time.Millisecond, "/healthz never said the read models stopped")
	body := h.json(t)
	assert.Equal(t, "unavailable", body["status"])
	assert.NotEmpty(t, h.header.Get("Retry-After"))
	problems, _ := body["problems"].([]any)
	require.Len(t, problems, 1, "%s", h.body)
	p := problems[0].(map[string]any)
	assert.Equal(t, "read_models", p["component"])
	assert.Contains(t, []any{"stopped", "recovering"}, p["state"])
	assert.NotContains(t, string(h.body), errSubscription.Error(), "the cause is for the log, not the public")

	for _, path := range []string{"/v1/practitioners", "/v1/decisions", "/v1/licences"} {
		r = ts.do("GET", path, api.RoleAuditor, "")
		assert.Equal(t, http.StatusServiceUnavailable, r.status, "%s: %s", path, r.body)
		assert.Equal(t, "unavailable", r.errCode(t))
		assert.NotEmpty(t, r.header.Get("Retry-After"), path)
		assert.NotContains(t, string(r.body), first, "no stale list")
	}
	m := ts.do("GET", "/metrics", "", "")
	assert.Regexp(t, `(?m)^ledger_read_models_ready 0$`, string(m.body))
	assert.Regexp(t, `ledger_projection_failures_total [1-9]`, string(m.body))
	assert.Contains(t, ts.logs.String(), "read models stopped")
	assert.Contains(t, ts.logs.String(), errSubscription.Error())

	down.Store(false)
	require.Eventually(t, func() bool {
		return ts.do("GET", "/healthz", "", "").status == http.StatusOK
	}, 20*time.Second, 5*time.Millisecond, "/healthz never said the read models recovered")
	r = ts.do("GET", "/v1/practitioners", api.RoleAuditor, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Contains(t, string(r.body), first)
	assert.Contains(t, string(r.body), second, "written while the models were stopped")
	m = ts.do("GET", "/metrics", "", "")
	assert.Regexp(t, `(?m)^ledger_read_models_ready 1$`, string(m.body), "health: %s", ts.do("GET", "/healthz", "", "").body)
	assert.Contains(t, ts.logs.String(), "read models running again")
}

// waitReady waits, boundedly, until /healthz says the server is ready.
func (ts *testServer) waitReady() {
	ts.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := ts.do("GET", "/healthz", "", "")
		if r.status == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			ts.t.Fatalf("the server never got ready: %s", r.body)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStoreShortOfItsLastEvent: a store whose last event was removed
// cleanly (bbolt itself, the file valid, every remaining chain intact)
// used to pass /v1/verify while every stream read and append failed and
// /healthz said ok. The server now starts degraded, logs the damage at
// start, /healthz answers 503 naming the store, and /v1/verify fails naming
// the position missing.
func TestStoreShortOfItsLastEvent(t *testing.T) {
	ts := newTestServer(t)
	ts.registerPractitioner("Alex Example")
	id := ts.registerPractitioner("Sam Sample")
	n := ts.count()
	ts.stop()
	db, err := bbolt.Open(filepath.Join(ts.dir, "events.db"), 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bbolt.Tx) error {
		c := tx.Bucket([]byte("events")).Cursor()
		k, _ := c.Last()
		return c.Bucket().Delete(k)
	}))
	require.NoError(t, db.Close())

	ts.start()
	assert.Contains(t, ts.logs.String(), "the store is damaged")
	h := ts.do("GET", "/healthz", "", "")
	assert.Equal(t, http.StatusServiceUnavailable, h.status, "%s", h.body)
	assert.Equal(t, "unavailable", h.json(t)["status"])
	assert.Contains(t, string(h.body), `"component":"store","state":"damaged"`)
	assert.NotEmpty(t, h.header.Get("Retry-After"))

	r := ts.do("GET", "/v1/verify", api.RoleAuditor, "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	rep := r.json(t)
	assert.Equal(t, false, rep["ok"], "%s", r.body)
	assert.Equal(t, float64(n-1), rep["events_checked"])
	failure, _ := rep["first_failure"].(map[string]any)
	require.NotNil(t, failure, "%s", r.body)
	assert.Equal(t, float64(n), failure["position"], "names the position missing")
	assert.Contains(t, failure["reason"], "missing")

	r = ts.do("GET", "/v1/practitioners/"+id+"/history", api.RoleAuditor, "")
	assert.Equal(t, http.StatusInternalServerError, r.status, "%s", r.body)
	assert.Contains(t, r.json(t)["error"].(map[string]any)["message"], "damaged")
}

// TestDamageMetWhileServing: damage in the store that a request meets
// while the server runs (not found at open) is a 500 saying the store is
// damaged, logged once, and /healthz answers 503 naming the store from then
// on.
func TestDamageMetWhileServing(t *testing.T) {
	var fail atomic.Pointer[error]
	ts := newTestServer(t, func(c *api.Config) { c.Store = failingAppends{Store: c.Store, fail: &fail} })
	id := ts.registerPractitioner("Alex Example")
	ts.waitReady()

	damaged := fmt.Errorf("bolt: %w: record at position 2: field 3 has no length", eventstore.ErrCorrupt)
	fail.Store(&damaged)
	for range 2 {
		r := ts.do("POST", "/v1/practitioners/"+id+"/events", api.RoleAdmin,
			`{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"}}`)
		assert.Equal(t, http.StatusInternalServerError, r.status, "%s", r.body)
		assert.Contains(t, r.json(t)["error"].(map[string]any)["message"], "store is damaged")
	}
	assert.Equal(t, 1, strings.Count(ts.logs.String(), "a request met the damage while serving"), "logged once")
	h := ts.do("GET", "/healthz", "", "")
	assert.Equal(t, http.StatusServiceUnavailable, h.status, "%s", h.body)
	assert.Contains(t, string(h.body), `"component":"store","state":"damaged"`)
}
