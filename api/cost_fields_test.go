package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
)

// What the append path's cost work (issue 15 item 4) must keep: every
// field of the request log line, the length of every JSON response, the
// body limit on bodies of no declared length.

// TestRequestLogLineFields: an append's log line has exactly the fields
// it always had, with the values of the request it is about.
func TestRequestLogLineFields(t *testing.T) {
	ts := newTestServer(t)
	pid := ts.registerPractitioner("Alex Example")
	r := ts.do("POST", "/v1/practitioners/"+pid+"/events", api.RoleAdmin,
		`{"type":"CPDEngagementRecorded","occurred_on":"2024-03-01","data":{"kind":"linked_cpd","hours":1,"title":"Peer session"}}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	ts.doOffSpec("GET", "/v1/nothing-here", "", "")

	lines := requestLines(t, ts.logs.String())
	require.GreaterOrEqual(t, len(lines), 3)
	lines = lines[len(lines)-3:] // the registration, the append, the 404
	line := lines[1]
	keys := make([]string, 0, len(line))
	for k := range line {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	assert.Equal(t, []string{"bytes", "duration_ms", "level", "method", "msg", "principal", "request_id", "route", "status", "time"}, keys)
	assert.Equal(t, "INFO", line["level"])
	assert.Equal(t, "POST", line["method"])
	assert.Equal(t, "/v1/practitioners/{id}/events", line["route"])
	assert.EqualValues(t, 201, line["status"])
	assert.EqualValues(t, len(r.body), line["bytes"])
	assert.Equal(t, "admin-1", line["principal"])
	assert.IsType(t, float64(0), line["duration_ms"])
	assert.NotEqual(t, lines[0]["request_id"], line["request_id"])

	unmatched := lines[2]
	assert.Equal(t, "GET", unmatched["method"])
	assert.Equal(t, "unmatched", unmatched["route"])
	assert.EqualValues(t, 404, unmatched["status"])
	assert.NotContains(t, unmatched, "principal", "no token, no principal")
}

// requestLines returns the request lines of a JSON log, in order.
func requestLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	return lines
}

// TestJSONResponsesCarryContentLength: a JSON response says its length,
// a page too large to be sent in one piece included (net/http would send
// that one in chunks, of no declared length).
func TestJSONResponsesCarryContentLength(t *testing.T) {
	ts := newTestServer(t)
	pid := ts.registerPractitioner("Alex Example")
	for i := range 40 {
		ts.event(pid, "CPDEngagementRecorded", "2024-03-01", `{"kind":"linked_cpd","hours":1,"title":"Peer session `+strconv.Itoa(i)+`"}`)
	}
	for _, path := range []string{"/v1/practitioners/" + pid + "/history", "/v1/practitioners/" + pid, "/v1/nothing-here"} {
		t.Run(path, func(t *testing.T) {
			req, err := http.NewRequest("GET", ts.srv.URL()+path, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+ts.tokens[api.RoleAuditor])
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Empty(t, resp.TransferEncoding, "not chunked")
			assert.Equal(t, strconv.Itoa(len(body)), resp.Header.Get("Content-Length"))
			assert.True(t, json.Valid(body))
			assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
		})
	}
	history := ts.do("GET", "/v1/practitioners/"+pid+"/history", api.RoleAuditor, "")
	assert.Greater(t, len(history.body), 8<<10, "the history is past what net/http buffers before it chunks")
}

// TestBodyLimitWithoutDeclaredLength: a chunked body over the limit is
// refused as too large, as one that declares its length is.
func TestBodyLimitWithoutDeclaredLength(t *testing.T) {
	ts := newTestServer(t, func(cfg *api.Config) { cfg.MaxBodyBytes = 1 << 10 })
	pid := ts.registerPractitioner("Alex Example")
	before := ts.count()
	body := `{"type":"CPDEngagementRecorded","occurred_on":"2024-03-01","data":{"kind":"linked_cpd","title":"` + strings.Repeat("x", 2<<10) + `"}}`
	for name, length := range map[string]int64{"chunked": -1, "declared": int64(len(body))} {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest("POST", ts.srv.URL()+"/v1/practitioners/"+pid+"/events", io.MultiReader(strings.NewReader(body)))
			require.NoError(t, err)
			req.ContentLength = length // -1: none declared, so net/http sends it in chunks
			req.Header.Set("Authorization", "Bearer "+ts.tokens[api.RoleAdmin])
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
			assert.Equal(t, before, ts.count())
		})
	}
}
