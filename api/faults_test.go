package api_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/eventstore"
)

// fullDisk is a store whose appends fail as the embedded store's do on a
// full disk while full is set.
type fullDisk struct {
	eventstore.Store
	full *atomic.Bool
}

func (s fullDisk) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if s.full.Load() {
		return eventstore.AppendResult{}, fmt.Errorf("%w: bolt: commit: %w", eventstore.ErrNoSpace,
			&os.PathError{Op: "write", Path: "events.db", Err: syscall.ENOSPC})
	}
	return s.Store.Append(ctx, stream, expected, events...)
}

// TestFullDisk: an append on a full disk is a 503 with Retry-After, not an
// opaque 500, and stores nothing; the server logs the full disk once, not
// per request, and once more when appends succeed again; /healthz says
// "degraded" meanwhile (reads are still served).
func TestFullDisk(t *testing.T) {
	var full atomic.Bool
	ts := newTestServer(t, func(c *api.Config) { c.Store = fullDisk{Store: c.Store, full: &full} })
	id := ts.registerPractitioner("Alex Example")
	before := ts.count()

	full.Store(true)
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

	h := ts.do("GET", "/healthz", "", "")
	assert.Equal(t, http.StatusOK, h.status, "reads are still served: %s", h.body)
	assert.Equal(t, "degraded", h.json(t)["status"])
	assert.Contains(t, string(h.body), `"state":"disk_full"`)
	r := ts.do("GET", "/v1/practitioners/"+id, api.RoleAuditor, "")
	assert.Equal(t, http.StatusOK, r.status, "%s", r.body)

	full.Store(false)
	ts.event(id, "CourseCompleted", "2024-03-01", `{"course":"foundation_b"}`)
	ts.event(id, "CourseCompleted", "2024-03-02", `{"course":"intermediate_a"}`)
	logs = ts.logs.String()
	assert.Equal(t, 1, strings.Count(logs, "disk is full"))
	assert.Equal(t, 1, strings.Count(logs, "disk has room again"), "recovery logged once:\n%s", logs)
	h = ts.do("GET", "/healthz", "", "")
	assert.Equal(t, http.StatusOK, h.status)
	assert.Equal(t, "ok", h.json(t)["status"])
	assert.NotContains(t, string(h.body), "problems")
}
