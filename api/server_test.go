package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/auth"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/export"
)

// contract is ARCHITECTURE.md's route table, written out independently of
// the server's own table: who may call what. "public" routes admit anyone.
var contract = []struct {
	method, path string
	roles        []api.Role // nil: public
}{
	{"POST", "/v1/practitioners", []api.Role{api.RoleAdmin}},
	{"GET", "/v1/practitioners", []api.Role{api.RoleAdmin, api.RoleReviewer, api.RoleAuditor}},
	{"GET", "/v1/practitioners/{id}", []api.Role{api.RoleAdmin, api.RoleReviewer, api.RoleAuditor}},
	{"GET", "/v1/practitioners/{id}/history", []api.Role{api.RoleAdmin, api.RoleReviewer, api.RoleAuditor}},
	{"POST", "/v1/practitioners/{id}/events", []api.Role{api.RoleAdmin, api.RoleReviewer}},
	{"POST", "/v1/organisations", []api.Role{api.RoleAdmin}},
	{"GET", "/v1/organisations/{id}/history", []api.Role{api.RoleAdmin, api.RoleReviewer, api.RoleAuditor}},
	{"POST", "/v1/organisations/{id}/events", []api.Role{api.RoleAdmin, api.RoleReviewer}},
	{"GET", "/v1/licences", []api.Role{api.RoleAdmin, api.RoleReviewer, api.RoleAuditor}},
	{"GET", "/v1/decisions", []api.Role{api.RoleAdmin, api.RoleReviewer, api.RoleAuditor}},
	{"GET", "/v1/decisions/{event_id}", []api.Role{api.RoleAdmin, api.RoleReviewer, api.RoleAuditor}},
	{"POST", "/v1/decisions/{event_id}/reviews", []api.Role{api.RoleReviewer}},
	{"GET", "/v1/events", []api.Role{api.RoleAdmin, api.RoleAuditor}},
	{"GET", "/v1/verify", []api.Role{api.RoleAdmin, api.RoleAuditor}},
	{"POST", "/v1/checkpoints", []api.Role{api.RoleAdmin, api.RoleAuditor}},
	{"GET", "/v1/admin/backup", []api.Role{api.RoleAdmin}},
	{"POST", "/v1/admin/rebuild", []api.Role{api.RoleAdmin}},
	{"GET", "/v1/admin/rebuild", []api.Role{api.RoleAdmin}},
	{"GET", "/v1/directory", nil},
	{"GET", "/v1/openapi.json", nil},
	{"GET", "/healthz", nil},
	{"GET", "/metrics", nil},
}

func contains(roles []api.Role, r api.Role) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}

// TestBadInputStoresNothing sends each kind of bad input: each gets the
// status and code it should, a message naming the problem, and the store
// is unchanged.
func TestBadInputStoresNothing(t *testing.T) {
	ts := newTestServer(t)
	pid := ts.registerPractitioner("Alex Example")
	oid := ts.registerOrganisation("Hillside Demo School")
	events := "/v1/practitioners/" + pid + "/events"
	big := `{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b","delivered_by":"` + strings.Repeat("x", 1<<20) + `"}}`
	cases := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		mention                  string
	}{
		{"body over 1 MiB", "POST", events, big, nil, 413, "limit"},
		{"malformed JSON", "POST", events, `{"type":"CourseCompleted",`, nil, 400, "JSON"},
		{"not an object", "POST", events, `["CourseCompleted"]`, nil, 400, "object"},
		{"trailing data", "POST", events, `{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"}} {}`, nil, 400, "exactly one"},
		{"unknown top-level field", "POST", events, `{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"},"colour":"red"}`, nil, 400, "colour"},
		{"key in the wrong case", "POST", events, `{"Type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"}}`, nil, 400, "Type"},
		{"unknown data field", "POST", events, `{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b","grade":"A"}}`, nil, 400, "grade"},
		{"unknown event type", "POST", events, `{"type":"CourseFailed","occurred_on":"2024-03-01","data":{}}`, nil, 400, "CourseFailed"},
		{"missing type", "POST", events, `{"occurred_on":"2024-03-01","data":{}}`, nil, 400, "type"},
		{"missing required field", "POST", events, `{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{}}`, nil, 400, "course"},
		{"wrong enum value", "POST", events, `{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_c"}}`, nil, 400, "foundation_c"},
		{"wrong JSON type", "POST", events, `{"type":"ActionPlanSubmitted","occurred_on":"2024-03-01","data":{"year":"2024","budget_included":true}}`, nil, 400, "year"},
		{"missing occurred_on", "POST", events, `{"type":"CourseCompleted","data":{"course":"foundation_b"}}`, nil, 400, "occurred_on"},
		{"bad date", "POST", events, `{"type":"CourseCompleted","occurred_on":"2024-02-30","data":{"course":"foundation_b"}}`, nil, 400, "occurred_on"},
		{"date in another format", "POST", events, `{"type":"CourseCompleted","occurred_on":"01/03/2024","data":{"course":"foundation_b"}}`, nil, 400, "occurred_on"},
		{"date in the future", "POST", events, `{"type":"CourseCompleted","occurred_on":"2999-01-01","data":{"course":"foundation_b"}}`, nil, 400, "future"},
		{"bad date inside data", "POST", events, `{"type":"IndemnityInsuranceRecorded","occurred_on":"2024-03-01","data":{"provider":"Demo Mutual","valid_until":"next year"}}`, nil, 400, "valid_until"},
		{"event for the other kind of stream", "POST", "/v1/organisations/" + oid + "/events", `{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"}}`, nil, 400, "practitioner"},
		{"registration on an existing stream", "POST", events, `{"type":"PractitionerRegistered","occurred_on":"2024-03-01","data":{"name":"Sam Sample","profession":"health"}}`, nil, 400, "POST"},
		{"id not a UUID", "POST", events, `{"id":"42","type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"}}`, nil, 400, "UUID"},
		{"id and key disagree", "POST", events, `{"id":"` + uuid.NewString() + `","type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"}}`, []string{"Idempotency-Key", uuid.NewString()}, 400, "Idempotency-Key"},
		{"expected_revision not a number", "POST", events, `{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"},"expected_revision":"one"}`, nil, 400, "expected_revision"},
		{"unregistered organisation named", "POST", events, `{"type":"PractitionerJoinedOrganisation","occurred_on":"2024-03-01","data":{"organisation_id":"` + uuid.NewString() + `"}}`, nil, 400, "organisation"},
		{"retraction of an unknown event", "POST", events, `{"type":"EventRetracted","occurred_on":"2024-03-01","data":{"retracted_event_id":"` + uuid.NewString() + `","reason":"typo"}}`, nil, 400, "retracted_event_id"},
		{"decision fields the ledger fills", "POST", events, `{"type":"LicenceGranted","occurred_on":"2024-03-01","data":{"licence_id":"L-9","kind":"informal_use","valid_until":"2026-01-01","decided_by":"Demo Panel","rationale":"ok","rulebook_version":"v0"}}`, nil, 400, "rulebook_version"},
		{"personal data in free text", "POST", events, `{"type":"CPDEngagementRecorded","occurred_on":"2024-03-01","data":{"kind":"linked_cpd","title":"Call 07700 900123 about it"}}`, nil, 400, "title"},
		{"a form body", "POST", events, `type=CourseCompleted`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 400, "object"},
		{"unknown practitioner", "POST", "/v1/practitioners/" + uuid.NewString() + "/events", `{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"}}`, nil, 404, "not registered"},
		{"practitioner id not a UUID", "POST", "/v1/practitioners/bob/events", `{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"}}`, nil, 404, "bob"},
		{"register with no name", "POST", "/v1/practitioners", `{"occurred_on":"2024-03-01","data":{"profession":"health"}}`, nil, 400, "name"},
		{"register with expected_revision", "POST", "/v1/practitioners", `{"occurred_on":"2024-03-01","data":{"name":"Sam Sample","profession":"health"},"expected_revision":0}`, nil, 400, "expected_revision"},
		{"review of an unknown decision", "POST", "/v1/decisions/" + uuid.NewString() + "/reviews", `{"outcome":"upheld"}`, nil, 404, "decision"},
		{"unknown query parameter", "POST", events + "?force=1", `{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"}}`, nil, 400, "force"},
		{"bad as_of", "GET", "/v1/practitioners/" + pid + "?as_of=yesterday", "", nil, 400, "as_of"},
		{"bad known_at", "GET", "/v1/practitioners/" + pid + "?known_at=2024-01-01", "", nil, 400, "known_at"},
		{"bad level", "GET", "/v1/practitioners?level=9", "", nil, 400, "level"},
		{"bad standing", "GET", "/v1/practitioners?standing=great", "", nil, 400, "standing"},
		{"bad decision status", "GET", "/v1/decisions?status=maybe", "", nil, 400, "status"},
		{"unknown practitioner read", "GET", "/v1/practitioners/" + uuid.NewString(), "", nil, 404, "not found"},
		{"unknown decision read", "GET", "/v1/decisions/" + uuid.NewString(), "", nil, 404, "not found"},
		{"unknown route", "GET", "/v1/nothing-here", "", nil, 404, "route"},
		{"wrong method", "DELETE", "/v1/practitioners", "", nil, 405, "DELETE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			role := api.RoleAdmin
			if strings.HasSuffix(tc.path, "/reviews") {
				role = api.RoleReviewer
			}
			before := ts.count()
			r := ts.doOffSpec(tc.method, tc.path, role, tc.body, tc.headers...)
			assert.Equal(t, tc.status, r.status, "%s", r.body)
			e := r.json(t)["error"].(map[string]any)
			assert.Contains(t, e["message"], tc.mention)
			assert.Equal(t, before, ts.count(), "nothing stored")
		})
	}
}

// TestConflictGivesCurrentRevision appends with a stale expected revision.
func TestConflictGivesCurrentRevision(t *testing.T) {
	ts := newTestServer(t)
	pid := ts.registerPractitioner("Alex Example")
	path := "/v1/practitioners/" + pid + "/events"
	body := func(rev int) string {
		return fmt.Sprintf(`{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"},"expected_revision":%d}`, rev)
	}
	r := ts.do("POST", path, api.RoleAdmin, body(0))
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	assert.EqualValues(t, 1, r.json(t)["revision"])

	before := ts.count()
	r = ts.do("POST", path, api.RoleAdmin, body(0))
	assert.Equal(t, http.StatusConflict, r.status, "%s", r.body)
	e := r.json(t)["error"].(map[string]any)
	assert.Equal(t, "conflict", e["code"])
	assert.EqualValues(t, 1, e["current_revision"])
	assert.Equal(t, before, ts.count())
}

// TestIdempotentRetries retries appends and registrations by id and by
// Idempotency-Key.
func TestIdempotentRetries(t *testing.T) {
	ts := newTestServer(t)
	pid := ts.registerPractitioner("Alex Example")
	path := "/v1/practitioners/" + pid + "/events"
	course := `{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"}}`

	t.Run("same key, same body: the original 201", func(t *testing.T) {
		first := ts.do("POST", path, api.RoleAdmin, course, "Idempotency-Key", "retry-1")
		require.Equal(t, http.StatusCreated, first.status, "%s", first.body)
		before := ts.count()
		again := ts.do("POST", path, api.RoleAdmin, course, "Idempotency-Key", "retry-1")
		assert.Equal(t, http.StatusCreated, again.status)
		assert.JSONEq(t, string(first.body), string(again.body))
		assert.Equal(t, before, ts.count())
	})
	t.Run("same key, different body: 409", func(t *testing.T) {
		before := ts.count()
		r := ts.do("POST", path, api.RoleAdmin, strings.Replace(course, "foundation_b", "intermediate_a", 1), "Idempotency-Key", "retry-1")
		assert.Equal(t, http.StatusConflict, r.status, "%s", r.body)
		assert.Equal(t, before, ts.count())
	})
	t.Run("same id in the body after the stream moved on", func(t *testing.T) {
		id := uuid.NewString()
		withID := `{"id":"` + id + `",` + course[1:]
		first := ts.do("POST", path, api.RoleAdmin, withID)
		require.Equal(t, http.StatusCreated, first.status)
		ts.event(pid, "CourseCompleted", "2024-03-02", `{"course":"intermediate_b"}`)
		before := ts.count()
		again := ts.do("POST", path, api.RoleAdmin, withID)
		assert.Equal(t, http.StatusCreated, again.status)
		assert.JSONEq(t, string(first.body), string(again.body))
		assert.Equal(t, before, ts.count())
	})
	t.Run("a UUID key is the event id", func(t *testing.T) {
		key := uuid.NewString()
		r := ts.do("POST", path, api.RoleAdmin, course, "Idempotency-Key", key)
		require.Equal(t, http.StatusCreated, r.status)
		assert.Equal(t, key, r.json(t)["event_id"])
	})
	t.Run("registration retried opens one stream", func(t *testing.T) {
		body := `{"occurred_on":"2024-01-10","data":{"name":"Sam Sample","profession":"health"}}`
		first := ts.do("POST", "/v1/practitioners", api.RoleAdmin, body, "Idempotency-Key", "register-sam")
		require.Equal(t, http.StatusCreated, first.status)
		before := ts.count()
		again := ts.do("POST", "/v1/practitioners", api.RoleAdmin, body, "Idempotency-Key", "register-sam")
		assert.Equal(t, http.StatusCreated, again.status)
		assert.JSONEq(t, string(first.body), string(again.body))
		assert.Equal(t, before, ts.count())
	})
	t.Run("a decision retried after the history moved on", func(t *testing.T) {
		dec := `{"type":"LicenceGranted","occurred_on":"2024-04-01","data":{"licence_id":"L-R","kind":"informal_use","valid_until":"2026-04-01","decided_by":"Demo Panel","rationale":"Ahead of the evidence.","exception":true}}`
		first := ts.do("POST", path, api.RoleAdmin, dec, "Idempotency-Key", "decide-1")
		require.Equal(t, http.StatusCreated, first.status, "%s", first.body)
		ts.event(pid, "CourseCompleted", "2024-04-02", `{"course":"awareness"}`)
		before := ts.count()
		again := ts.do("POST", path, api.RoleAdmin, dec, "Idempotency-Key", "decide-1")
		assert.Equal(t, http.StatusCreated, again.status, "%s", again.body)
		assert.JSONEq(t, string(first.body), string(again.body))
		assert.Equal(t, before, ts.count())
	})
	t.Run("another principal's key does not collide", func(t *testing.T) {
		tok, err := auth.Open(ts.dir).Add("admin-2", api.RoleAdmin, 0)
		require.NoError(t, err)
		before := ts.count()
		r := ts.do("POST", path, "", course, "Idempotency-Key", "retry-1", "Authorization", "Bearer "+tok)
		assert.Equal(t, http.StatusCreated, r.status, "%s", r.body)
		assert.Equal(t, before+1, ts.count())
	})
}

// TestDecisions records a refused decision, an exception, a review, and
// reads the queue and the decision.
func TestDecisions(t *testing.T) {
	ts := newTestServer(t)
	pid := ts.registerPractitioner("Alex Example")
	path := "/v1/practitioners/" + pid + "/events"
	grant := func(exception bool) string {
		return fmt.Sprintf(`{"type":"LicenceGranted","occurred_on":"2024-05-01","data":{"licence_id":"L-3A","kind":"level3a","valid_until":"2025-05-01","decided_by":"Demo Panel","rationale":"Granted for the test.","exception":%v}}`, exception)
	}
	before := ts.count()
	r := ts.do("POST", path, api.RoleAdmin, grant(false))
	require.Equal(t, http.StatusUnprocessableEntity, r.status, "%s", r.body)
	e := r.json(t)["error"].(map[string]any)
	assert.Equal(t, "refused", e["code"])
	require.NotNil(t, e["evaluation"], "a refusal shows what is missing")
	assert.Equal(t, false, e["evaluation"].(map[string]any)["met"])
	assert.Equal(t, before, ts.count())

	r = ts.do("POST", path, api.RoleAdmin, grant(true))
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	decID := r.json(t)["event_id"].(string)

	events, err := ts.store.ReadStream(context.Background(), "practitioner-"+pid, eventstore.ReadOptions{})
	require.NoError(t, err)
	last := events[len(events)-1]
	assert.Equal(t, "admin-1", last.RecordedBy, "the token's name is the recorder")
	var data map[string]any
	require.NoError(t, json.Unmarshal(last.Data, &data))
	assert.Equal(t, "v1.1", data["rulebook_version"], "new decisions are taken under the current rulebook")
	assert.NotNil(t, data["evaluation"])

	q := ts.do("GET", "/v1/decisions?status=exception", api.RoleAuditor, "")
	require.Equal(t, http.StatusOK, q.status, "%s", q.body)
	assert.Contains(t, string(q.body), decID)

	rv := ts.do("POST", "/v1/decisions/"+decID+"/reviews", api.RoleReviewer, `{"outcome":"needs_information","notes":"Evidence of the courses to follow."}`)
	require.Equal(t, http.StatusCreated, rv.status, "%s", rv.body)

	d := ts.do("GET", "/v1/decisions/"+decID, api.RoleReviewer, "")
	require.Equal(t, http.StatusOK, d.status, "%s", d.body)
	m := d.json(t)
	assert.Equal(t, decID, m["decision_event_id"])
	assert.Equal(t, "Demo Panel", m["decided_by"])
	assert.Equal(t, true, m["exception"])
	assert.Equal(t, "v1.1", m["rulebook_version"])
	assert.Equal(t, "v1.1", m["evaluation_then_rulebook_version"])
	assert.Equal(t, "v1.1", m["reevaluation_rulebook_version"])
	assert.NotNil(t, m["evaluation"])
	assert.Contains(t, string(d.body), "needs_information")
}

// TestReadsAfterWrites drives the read routes over a small history.
func TestReadsAfterWrites(t *testing.T) {
	ts := newTestServer(t)
	oid := ts.registerOrganisation("Hillside Demo School")
	pid := ts.registerPractitioner("Alex Example")
	ts.event(pid, "PractitionerJoinedOrganisation", "2024-01-11", `{"organisation_id":"`+oid+`"}`)
	ts.event(pid, "CourseCompleted", "2024-02-05", `{"course":"foundation_a_part1"}`)
	ts.event(pid, "CourseCompleted", "2024-02-19", `{"course":"foundation_a_part2"}`)
	wrong := ts.event(pid, "CourseCompleted", "2024-03-11", `{"course":"foundation_b"}`)
	ts.event(pid, "EventRetracted", "2024-03-12", `{"retracted_event_id":"`+wrong["event_id"].(string)+`","reason":"Recorded against the wrong practitioner."}`)

	h := ts.do("GET", "/v1/practitioners/"+pid+"/history", api.RoleAuditor, "")
	require.Equal(t, http.StatusOK, h.status, "%s", h.body)
	var page struct {
		Items []map[string]any `json:"items"`
	}
	require.NoError(t, json.Unmarshal(h.body, &page))
	require.Len(t, page.Items, 6)
	for _, k := range []string{"event_id", "type", "occurred_on", "recorded_at", "recorded_by", "revision", "position", "data", "hash", "prev_hash", "retracted_by"} {
		assert.Contains(t, page.Items[0], k)
	}
	assert.Equal(t, wrong["event_id"], page.Items[4]["event_id"])
	assert.NotNil(t, page.Items[4]["retracted_by"])

	// known_at an event's own recorded_at includes that event, not later ones.
	at := page.Items[4]["recorded_at"].(string)
	h2 := ts.do("GET", "/v1/practitioners/"+pid+"/history?known_at="+at, api.RoleAuditor, "")
	require.Equal(t, http.StatusOK, h2.status, "%s", h2.body)
	require.NoError(t, json.Unmarshal(h2.body, &page))
	assert.Len(t, page.Items, 5)
	assert.Nil(t, page.Items[4]["retracted_by"], "the retraction was not known then")

	p := ts.do("GET", "/v1/practitioners/"+pid+"?as_of=2024-06-01", api.RoleReviewer, "")
	require.Equal(t, http.StatusOK, p.status, "%s", p.body)
	pm := p.json(t)
	for _, k := range []string{"id", "name", "level", "roles", "licences", "standing", "next_steps"} {
		assert.Contains(t, pm, k)
	}
	assert.Equal(t, "Alex Example", pm["name"])

	l := ts.do("GET", "/v1/practitioners?organisation_id="+oid, api.RoleAuditor, "")
	require.Equal(t, http.StatusOK, l.status, "%s", l.body)
	assert.Contains(t, string(l.body), pid)
	assert.Contains(t, string(l.body), `"next_cursor"`)

	v := ts.do("GET", "/v1/verify", api.RoleAuditor, "")
	require.Equal(t, http.StatusOK, v.status, "%s", v.body)
	assert.Equal(t, true, v.json(t)["ok"])
	assert.EqualValues(t, 7, v.json(t)["events_checked"])

	ev := ts.do("GET", "/v1/events?limit=4", api.RoleAuditor, "")
	require.Equal(t, http.StatusOK, ev.status, "%s", ev.body)
	var evp struct {
		Items      []export.Event `json:"items"`
		NextCursor string         `json:"next_cursor"`
	}
	require.NoError(t, json.Unmarshal(ev.body, &evp))
	assert.Len(t, evp.Items, 4)
	require.NotEmpty(t, evp.NextCursor)
	ev = ts.do("GET", "/v1/events?limit=4&cursor="+evp.NextCursor, api.RoleAuditor, "")
	require.NoError(t, json.Unmarshal(ev.body, &evp))
	assert.Len(t, evp.Items, 3)
	assert.Empty(t, evp.NextCursor)

	assert.Equal(t, http.StatusOK, ts.do("GET", "/v1/directory", "", "").status)
	assert.Equal(t, http.StatusOK, ts.do("GET", "/v1/licences", api.RoleAuditor, "").status)
}

// TestRestartKeepsState restarts the server on the same directory.
func TestRestartKeepsState(t *testing.T) {
	ts := newTestServer(t)
	pid := ts.registerPractitioner("Alex Example")
	ts.event(pid, "CourseCompleted", "2024-02-05", `{"course":"foundation_a_part1"}`)
	before := ts.do("GET", "/v1/practitioners/"+pid+"/history", api.RoleAuditor, "")
	require.Equal(t, http.StatusOK, before.status)

	ts.restart()

	after := ts.do("GET", "/v1/practitioners/"+pid+"/history", api.RoleAuditor, "")
	require.Equal(t, http.StatusOK, after.status)
	assert.JSONEq(t, string(before.body), string(after.body))
	list := ts.do("GET", "/v1/practitioners", api.RoleAuditor, "")
	assert.Contains(t, string(list.body), pid)
	assert.Equal(t, true, ts.do("GET", "/v1/verify", api.RoleAuditor, "").json(t)["ok"])
	// And the tokens survived too: a write still works.
	ts.event(pid, "CourseCompleted", "2024-02-19", `{"course":"foundation_a_part2"}`)
}

// TestShutdownLosesNothingAcknowledged closes the server while appends are
// in flight: every append that got a 201 is in the store afterwards.
func TestShutdownLosesNothingAcknowledged(t *testing.T) {
	ts := newTestServer(t)
	pids := []string{ts.registerPractitioner("Alex Example"), ts.registerPractitioner("Sam Sample")}
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	start := make(chan struct{})
	url := ts.srv.URL()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			<-start
			for i := 0; i < 200; i++ {
				body := `{"type":"CPDEngagementRecorded","occurred_on":"2024-03-01","data":{"kind":"linked_cpd","hours":1}}`
				req, _ := http.NewRequest("POST", url+"/v1/practitioners/"+pids[w%2]+"/events", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+ts.tokens[api.RoleAdmin])
				req.Header.Set("Content-Type", "application/json")
				resp, err := ts.client.Do(req)
				if err != nil {
					return // the server has stopped accepting
				}
				var rec api.Recorded
				ok := resp.StatusCode == http.StatusCreated && json.NewDecoder(resp.Body).Decode(&rec) == nil
				resp.Body.Close()
				if !ok {
					return
				}
				mu.Lock()
				acked = append(acked, rec.EventID.String())
				mu.Unlock()
			}
		}(w)
	}
	close(start)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 50 {
			break
		}
	}
	ts.stop()
	wg.Wait()

	ts.start()
	stored := map[string]bool{}
	for e, err := range ts.store.ReadAll(context.Background(), eventstore.Start) {
		require.NoError(t, err)
		stored[e.ID.String()] = true
	}
	require.NotEmpty(t, acked)
	for _, id := range acked {
		assert.True(t, stored[id], "acknowledged event %s lost", id)
	}
	rep, err := eventstore.Verify(context.Background(), ts.store)
	require.NoError(t, err)
	assert.True(t, rep.OK)
}

// TestRateLimit exhausts a token's burst: the next request is a 429 with
// Retry-After, and another token is unaffected.
func TestRateLimit(t *testing.T) {
	ts := newTestServer(t, func(c *api.Config) { c.RateLimit, c.RateBurst = 0.001, 3 })
	for i := 0; i < 3; i++ {
		require.Equal(t, http.StatusOK, ts.do("GET", "/v1/decisions", api.RoleAuditor, "").status)
	}
	r := ts.do("GET", "/v1/decisions", api.RoleAuditor, "")
	assert.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Equal(t, "rate_limited", r.errCode(t))
	assert.NotEmpty(t, r.header.Get("Retry-After"))
	assert.Equal(t, http.StatusOK, ts.do("GET", "/v1/decisions", api.RoleReviewer, "").status)
}

// TestLogsAndMetrics checks that the request log names routes and
// principals but never tokens, ids in paths or personal data, and that the
// metrics count requests by route pattern.
func TestLogsAndMetrics(t *testing.T) {
	ts := newTestServer(t)
	pid := ts.registerPractitioner("Alex Example")
	ts.do("GET", "/v1/practitioners/"+pid+"?as_of=2024-06-01", api.RoleAuditor, "")
	ts.doOffSpec("GET", "/v1/practitioners/"+pid, "", "") // no token: 401

	logs := ts.logs.String()
	assert.Contains(t, logs, `"route":"/v1/practitioners/{id}"`)
	assert.Contains(t, logs, `"principal":"auditor-1"`)
	for role, tok := range ts.tokens {
		assert.NotContains(t, logs, tok, "token of %s in the log", role)
	}
	assert.NotContains(t, logs, "Alex Example")
	assert.NotContains(t, logs, pid)

	m := ts.do("GET", "/metrics", "", "")
	require.Equal(t, http.StatusOK, m.status)
	body := string(m.body)
	assert.Contains(t, body, `ledger_http_requests_total{method="GET",route="/v1/practitioners/{id}",status="200"} 1`)
	assert.Contains(t, body, `ledger_http_requests_total{method="GET",route="/v1/practitioners/{id}",status="401"} 1`)
	assert.Contains(t, body, "ledger_append_duration_seconds_bucket")
	assert.Contains(t, body, "ledger_events_stored")
	assert.Contains(t, body, "ledger_projection_lag_events")
}

// TestRequestLogLines checks the shape of the request log: one line per
// request, each with its own request id and the route's pattern, and the
// metrics' series by route, status, outcome and event type, unmatched
// paths counted apart.
func TestRequestLogLines(t *testing.T) {
	ts := newTestServer(t)
	pid := ts.registerPractitioner("Alex Example")
	ts.event(pid, "CPDEngagementRecorded", "2024-03-01", `{"kind":"linked_cpd","hours":1}`)
	ts.doOffSpec("GET", "/v1/nothing-here", "", "")
	ts.doOffSpec("DELETE", "/v1/practitioners", api.RoleAdmin, "")

	ids := map[string]bool{}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(ts.logs.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		if m["msg"] == "request" {
			lines = append(lines, m)
			id, _ := m["request_id"].(string)
			require.NotEmpty(t, id, l)
			assert.False(t, ids[id], "request id %s used twice", id)
			ids[id] = true
		}
	}
	require.Len(t, lines, 4)
	assert.Equal(t, "/v1/practitioners", lines[0]["route"])
	assert.Equal(t, "admin-1", lines[0]["principal"])
	assert.EqualValues(t, 201, lines[0]["status"])
	assert.Equal(t, "/v1/practitioners/{id}/events", lines[1]["route"])
	assert.Equal(t, "unmatched", lines[2]["route"])
	assert.EqualValues(t, 404, lines[2]["status"])
	assert.EqualValues(t, 405, lines[3]["status"])

	body := string(ts.do("GET", "/metrics", "", "").body)
	assert.Contains(t, body, `ledger_http_requests_total{method="POST",route="/v1/practitioners/{id}/events",status="201"} 1`)
	assert.Contains(t, body, `ledger_http_requests_total{method="GET",route="unmatched",status="404"} 1`)
	assert.Contains(t, body, `ledger_http_request_duration_seconds_count{method="POST",route="/v1/practitioners"} 1`)
	assert.Contains(t, body, `ledger_append_duration_seconds_count{outcome="ok"} 2`)
	assert.NotContains(t, body, `outcome="error"`)
	assert.Contains(t, body, `ledger_events_appended_total{type="CPDEngagementRecorded"} 1`)
	assert.Contains(t, body, `ledger_events_appended_total{type="PractitionerRegistered"} 1`)
}
