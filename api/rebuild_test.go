package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
)

// TestOnlineRebuild: an admin starts a rebuild of the read models on a
// running server; it reports its progress, ends done, stores nothing, and
// the rebuilt models answer as the old ones did. Bad input is refused.
func TestOnlineRebuild(t *testing.T) {
	ts := newTestServer(t)
	pid := ts.registerPractitioner("Alex Example")
	for _, c := range []string{"foundation_a_part1", "foundation_a_part2", "foundation_b"} {
		ts.event(pid, "CourseCompleted", "2024-03-01", `{"course":"`+c+`"}`)
	}
	before := ts.do("GET", "/v1/practitioners/"+pid, api.RoleAuditor, "")
	require.Equal(t, http.StatusOK, before.status, "%s", before.body)
	listBefore := ts.do("GET", "/v1/practitioners", api.RoleAuditor, "")
	events := ts.count()

	assert.Equal(t, "idle", ts.do("GET", "/v1/admin/rebuild", api.RoleAdmin, "").json(t)["state"])

	bad := []struct {
		name, path, body string
	}{
		{"a body", "/v1/admin/rebuild", `{"now":true}`},
		{"a query parameter", "/v1/admin/rebuild?force=1", ""},
	}
	for _, b := range bad {
		r := ts.do("POST", b.path, api.RoleAdmin, b.body)
		assert.Equal(t, http.StatusBadRequest, r.status, "%s: %s", b.name, r.body)
		assert.Equal(t, "idle", ts.do("GET", "/v1/admin/rebuild", api.RoleAdmin, "").json(t)["state"], b.name)
	}

	r := ts.do("POST", "/v1/admin/rebuild", api.RoleAdmin, "")
	require.Equal(t, http.StatusAccepted, r.status, "%s", r.body)
	st := r.json(t)
	assert.Equal(t, "running", st["state"])
	assert.NotNil(t, st["started_at"])

	var last map[string]any
	require.Eventually(t, func() bool {
		last = ts.do("GET", "/v1/admin/rebuild", api.RoleAdmin, "").json(t)
		return last["state"] != "running"
	}, 30*time.Second, 5*time.Millisecond)
	assert.Equal(t, "done", last["state"], "%v", last)
	assert.EqualValues(t, events, last["events_total"], "every event folded")
	assert.EqualValues(t, events, last["events_done"])

	assert.Equal(t, events, ts.count(), "a rebuild stores nothing")
	after := ts.do("GET", "/v1/practitioners/"+pid, api.RoleAuditor, "")
	assert.JSONEq(t, string(before.body), string(after.body))
	assert.JSONEq(t, string(listBefore.body), string(ts.do("GET", "/v1/practitioners", api.RoleAuditor, "").body))

	// The rebuilt models keep following new events.
	ts.event(pid, "CourseCompleted", "2024-04-01", `{"course":"intermediate_a"}`)
	hist := ts.do("GET", "/v1/practitioners/"+pid+"/history", api.RoleAuditor, "").json(t)
	assert.Len(t, hist["items"], events+1)
	list := ts.do("GET", "/v1/practitioners", api.RoleAuditor, "").json(t)["items"].([]any)
	require.Len(t, list, 1)
	assert.EqualValues(t, events, list[0].(map[string]any)["revision"], "the list follows the new event")
}
