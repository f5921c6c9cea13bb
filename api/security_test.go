package api_test

// The probes of issue 16 ("Hardening"), kept so that they keep holding:
// roles per route, the review route, metric labels and rate-limit buckets.

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/auth"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/projections"
)

// rawRequest sends text as it is over a new connection to the server and
// returns the status line's code (0 when the server closed without one).
func (ts *testServer) rawRequest(text string) int {
	ts.t.Helper()
	conn, err := net.Dial("tcp", ts.srv.Addr())
	require.NoError(ts.t, err)
	defer conn.Close()
	_, _ = conn.Write([]byte(text))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

// TestMetricLabelsAreBounded: /metrics carries no label a client wrote.
// Made-up methods are counted as one "other" value, unmatched paths as
// "unmatched", and a method too long for the header limit is refused
// before any handler runs.
func TestMetricLabelsAreBounded(t *testing.T) {
	ts := newTestServer(t)
	before := len(ts.do("GET", "/metrics", "", "").body)
	const made = 300
	for i := range made {
		// Each made-up method on a known route and on a made-up path.
		path := "/v1/practitioners"
		if i%2 == 1 {
			path = fmt.Sprintf("/v1/made-up-%d", i)
		}
		r := ts.doOffSpec(fmt.Sprintf("PROBE%03d", i), path, "", "")
		require.Less(t, r.status, 500, "%s", r.body)
	}
	long := strings.Repeat("M", 4000) // under the header limit: served
	assert.Equal(t, http.StatusMethodNotAllowed, ts.doOffSpec(long, "/v1/practitioners", "", "").status)
	huge := strings.Repeat("H", 64<<10) // over it: refused before routing
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, ts.rawRequest(huge+" / HTTP/1.1\r\nHost: x\r\n\r\n"))
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge,
		ts.rawRequest("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: "+strings.Repeat("p", 64<<10)+"\r\n\r\n"))

	m := ts.do("GET", "/metrics", "", "")
	require.Equal(t, http.StatusOK, m.status)
	body := string(m.body)
	for _, sent := range []string{"PROBE", "MMMM", "HHHH", "made-up"} {
		assert.False(t, strings.Contains(body, sent), "%q in a metric label", sent)
	}
	var others float64
	for line := range strings.SplitSeq(body, "\n") {
		if strings.HasPrefix(line, `ledger_http_requests_total{method="other"`) {
			var n float64
			_, err := fmt.Sscanf(line[strings.LastIndexByte(line, ' ')+1:], "%g", &n)
			require.NoError(t, err, line)
			others += n
		}
	}
	assert.Equal(t, float64(made+1), others, "every made-up method counted as other")
	assert.Less(t, len(m.body)-before, 8<<10, "301 requests with made-up methods add a few series, not hundreds")
	logs := ts.logs.String()
	for _, sent := range []string{"PROBE", "MMMM", "made-up"} {
		assert.False(t, strings.Contains(logs, sent), "%q in the request log", sent)
	}
}

// TestProbesAreNeverRateLimited: a flood of requests with bad tokens from
// one address exhausts that address's bucket only; /healthz and /metrics
// keep answering, and principals with valid tokens are unaffected.
func TestProbesAreNeverRateLimited(t *testing.T) {
	newTestServer(t) // the first server of the binary pays for the spec the tests check against
	ts := newTestServer(t, func(c *api.Config) { c.RateLimit, c.RateBurst = 0.001, 5 })
	limited := 0
	for range 300 {
		r := ts.do("GET", "/v1/practitioners", "", "", "Authorization", "Bearer ldg_not-a-real-token")
		if r.status == http.StatusTooManyRequests {
			limited++
		}
	}
	assert.Equal(t, 300-5, limited, "the address's burst, then 429")
	assert.Equal(t, http.StatusTooManyRequests, ts.do("GET", "/v1/directory", "", "").status, "the address's unauthenticated requests share its bucket")
	ts.waitReady() // /healthz is 503 (never 429) until the read models are first caught up
	for range 50 {
		require.Equal(t, http.StatusOK, ts.do("GET", "/healthz", "", "").status)
		require.Equal(t, http.StatusOK, ts.do("GET", "/metrics", "", "").status)
	}
	assert.Equal(t, http.StatusOK, ts.do("GET", "/v1/decisions", api.RoleAuditor, "").status)
	assert.Equal(t, http.StatusOK, ts.do("GET", "/v1/decisions", api.RoleReviewer, "").status)
}

// TestForwardedForOnlyFromTrustedProxies: X-Forwarded-For picks the
// unauthenticated bucket only when the peer is a configured trusted proxy,
// and then only its rightmost untrusted hop (what the proxy saw), never an
// address the client wrote to the left of it.
func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	exhaust := func(ts *testServer, xff string) {
		t.Helper()
		for range 3 {
			require.Equal(t, http.StatusOK, ts.do("GET", "/v1/directory", "", "", "X-Forwarded-For", xff).status)
		}
		require.Equal(t, http.StatusTooManyRequests, ts.do("GET", "/v1/directory", "", "", "X-Forwarded-For", xff).status)
	}
	t.Run("no trusted proxy: the header is ignored", func(t *testing.T) {
		ts := newTestServer(t, func(c *api.Config) { c.RateLimit, c.RateBurst = 0.001, 3 })
		exhaust(ts, "203.0.113.5")
		assert.Equal(t, http.StatusTooManyRequests, ts.do("GET", "/v1/directory", "", "", "X-Forwarded-For", "203.0.113.6").status,
			"a client cannot pick a fresh bucket by writing the header")
	})
	t.Run("behind a trusted proxy: one bucket per client", func(t *testing.T) {
		trusted, err := api.ParseTrustedProxies([]string{"127.0.0.0/8", "10.1.2.3"})
		require.NoError(t, err)
		ts := newTestServer(t, func(c *api.Config) {
			c.RateLimit, c.RateBurst, c.TrustedProxies = 0.001, 3, trusted
		})
		exhaust(ts, "203.0.113.5")
		assert.Equal(t, http.StatusOK, ts.do("GET", "/v1/directory", "", "", "X-Forwarded-For", "203.0.113.6").status, "another client has its own bucket")
		assert.Equal(t, http.StatusTooManyRequests, ts.do("GET", "/v1/directory", "", "", "X-Forwarded-For", "198.51.100.1, 203.0.113.5").status,
			"an address written left of the proxy's hop is the client's claim, not the client")
		assert.Equal(t, http.StatusTooManyRequests, ts.do("GET", "/v1/directory", "", "", "X-Forwarded-For", "203.0.113.5, 10.1.2.3").status,
			"a chain of trusted proxies is walked back to the client")
		exhaust(ts, "2001:db8:1:2::1")
		assert.Equal(t, http.StatusTooManyRequests, ts.do("GET", "/v1/directory", "", "", "X-Forwarded-For", "2001:db8:1:2::ffff").status,
			"an IPv6 client is its /64")
	})
	t.Run("bad proxy specs are refused", func(t *testing.T) {
		_, err := api.ParseTrustedProxies([]string{"10.0.0.0/33"})
		assert.Error(t, err)
		p, err := api.ParseTrustedProxies([]string{"10.9.8.7/8", "::ffff:192.0.2.1"})
		require.NoError(t, err)
		assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32")}, p)
	})
}

// TestRateLimitWeighsCost: a large page costs its principal in proportion
// to its size, so a few of them exhaust a burst that as many small
// requests would not.
func TestRateLimitWeighsCost(t *testing.T) {
	const burst = 40
	ts := limitedServerWithThousandFacts(t, burst)

	page := ts.do("GET", "/v1/events?limit=1000", api.RoleAuditor, "")
	require.Equal(t, http.StatusOK, page.status, "%s", page.body)
	cost := 1 + len(page.body)/(16<<10)
	require.Greater(t, cost, 10, "the page is large enough to weigh more than ten requests")
	// A page is let in while the bucket holds a token, then charged its
	// cost: the burst pays for about burst/cost pages, not burst of them.
	served := 1 + servedUntilLimited(t, ts, "/v1/events?limit=1000", burst-1)
	assert.Equal(t, (burst-1)/cost+1, served, "pages of cost %d served from a burst of %d", cost, burst)
	assert.Equal(t, http.StatusTooManyRequests, ts.do("GET", "/v1/decisions", api.RoleAuditor, "").status, "the debt holds back small requests too")
	assert.Equal(t, http.StatusOK, ts.do("GET", "/v1/decisions", api.RoleReviewer, "").status, "another principal is unaffected")
	assert.Equal(t, http.StatusOK, ts.do("GET", "/healthz", api.RoleAuditor, "").status, "health costs nothing")
}

// TestRoleRouteMatrix calls every route as nobody, with a bad token and as
// each role: a route's roles get past authorisation, everyone else gets 401
// (no or bad token) or 403 (wrong role), and public routes admit anyone.
// On the events routes each role sends what it may record: an admin a
// fact, a reviewer the retraction of a review.
func TestRoleRouteMatrix(t *testing.T) {
	ts := newTestServer(t)
	pid := ts.registerPractitioner("Alex Example")
	oid := ts.registerOrganisation("Hillside Demo School")
	dec := ts.event(pid, "LicenceGranted", "2024-02-01",
		`{"licence_id":"L-1","kind":"informal_use","valid_until":"2026-02-01","decided_by":"Demo Panel","rationale":"Taken ahead of the evidence for the matrix test.","exception":true}`)["event_id"].(string)
	r := ts.do("POST", "/v1/organisations/"+oid+"/events", api.RoleAdmin,
		`{"type":"LicenceGranted","occurred_on":"2024-02-01","data":{"licence_id":"L-O","kind":"organisational","valid_until":"2026-02-01","decided_by":"Demo Panel","rationale":"Ahead of the evidence.","exception":true}}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	orgDec := r.json(t)["event_id"].(string)
	review := ts.review(dec, "upheld")
	orgReview := ts.review(orgDec, "upheld")
	retract := func(id string) string {
		return `{"type":"EventRetracted","occurred_on":"2024-03-02","data":{"retracted_event_id":"` + id + `","reason":"Reviewed in error."}}`
	}
	bodies := map[string]string{
		"POST /v1/practitioners":                      `{"occurred_on":"2024-01-10","data":{"name":"Sam Sample","profession":"health"}}`,
		"POST /v1/organisations":                      `{"occurred_on":"2024-01-10","data":{"name":"Demo Hub","kind":"community_hub","registered_service":false}}`,
		"POST /v1/practitioners/{id}/events":          `{"type":"CPDEngagementRecorded","occurred_on":"2024-03-01","data":{"kind":"linked_cpd","hours":1}}`,
		"POST /v1/organisations/{id}/events":          `{"type":"LicenceGranted","occurred_on":"2024-02-01","data":{"licence_id":"L-O2","kind":"organisational","valid_until":"2026-02-01","decided_by":"Demo Panel","rationale":"Ahead of the evidence.","exception":true}}`,
		"POST /v1/decisions/{event_id}/reviews":       `{"outcome":"upheld","notes":"Consistent with the rules."}`,
		"reviewer POST /v1/practitioners/{id}/events": retract(review),
		"reviewer POST /v1/organisations/{id}/events": retract(orgReview),
	}
	fill := func(p string) string {
		if strings.HasPrefix(p, "/v1/organisations/") {
			p = strings.Replace(p, "{id}", oid, 1)
		}
		return strings.NewReplacer("{id}", pid, "{event_id}", dec).Replace(p)
	}
	callers := []struct {
		name string
		role api.Role
		auth string
	}{
		{"no token", "", ""},
		{"bad token", "", "Bearer ldg_not-a-real-token"},
		{"admin", api.RoleAdmin, ""},
		{"reviewer", api.RoleReviewer, ""},
		{"auditor", api.RoleAuditor, ""},
	}
	for _, rt := range contract {
		for _, c := range callers {
			t.Run(rt.method+" "+rt.path+" as "+c.name, func(t *testing.T) {
				var headers []string
				if c.auth != "" {
					headers = []string{"Authorization", c.auth}
				}
				body, ok := bodies[string(c.role)+" "+rt.method+" "+rt.path]
				if !ok {
					body = bodies[rt.method+" "+rt.path]
				}
				do := ts.do
				if c.role == "" {
					do = ts.doOffSpec // no token, or one the server never issued
				}
				r := do(rt.method, fill(rt.path), c.role, body, headers...)
				switch {
				case rt.roles == nil:
					assert.Less(t, r.status, 400, "public: %s", r.body)
				case c.role == "":
					assert.Equal(t, http.StatusUnauthorized, r.status, "%s", r.body)
					assert.Equal(t, "unauthorized", r.errCode(t))
				case contains(rt.roles, c.role):
					assert.NotContains(t, []int{401, 403}, r.status, "%s", r.body)
					assert.Less(t, r.status, 500, "%s", r.body)
				default:
					assert.Equal(t, http.StatusForbidden, r.status, "%s", r.body)
					assert.Equal(t, "forbidden", r.errCode(t))
				}
			})
		}
	}
	t.Run("reviewer may append retractions of reviews only", func(t *testing.T) {
		before := ts.count()
		r := ts.do("POST", "/v1/practitioners/"+pid+"/events", api.RoleReviewer,
			`{"type":"CourseCompleted","occurred_on":"2024-03-01","data":{"course":"foundation_b"}}`)
		assert.Equal(t, http.StatusForbidden, r.status, "%s", r.body)
		assert.Equal(t, before, ts.count())
	})
}

// review records a review of decision as the reviewer and returns its id.
func (ts *testServer) review(decision, outcome string) string {
	ts.t.Helper()
	r := ts.do("POST", "/v1/decisions/"+decision+"/reviews", api.RoleReviewer, `{"outcome":"`+outcome+`","notes":"Checked against the rulebook."}`)
	require.Equal(ts.t, http.StatusCreated, r.status, "%s", r.body)
	return r.json(ts.t)["event_id"].(string)
}

// queue returns the ids of the decisions listed with status.
func (ts *testServer) queue(status string) []string {
	ts.t.Helper()
	r := ts.do("GET", "/v1/decisions?status="+status, api.RoleAuditor, "")
	require.Equal(ts.t, http.StatusOK, r.status, "%s", r.body)
	var ids []string
	for _, it := range r.json(ts.t)["items"].([]any) {
		ids = append(ids, it.(map[string]any)["decision_event_id"].(string))
	}
	return ids
}

// TestReviewsOnlyThroughTheReviewRoute: quality control cannot be
// bypassed. A review is recorded only through the reviews route, by a
// reviewer, never of a decision recorded under the reviewer's own name; a
// review is retracted only by a reviewer, and the retraction puts the
// decision back in the queue, visibly.
func TestReviewsOnlyThroughTheReviewRoute(t *testing.T) {
	ts := newTestServer(t)
	pid := ts.registerPractitioner("Alex Example")
	oid := ts.registerOrganisation("Hillside Demo School")
	dec := ts.event(pid, "LicenceGranted", "2024-02-01",
		`{"licence_id":"L-1","kind":"informal_use","valid_until":"2026-02-01","decided_by":"Demo Panel","rationale":"Ahead of the evidence.","exception":true}`)["event_id"].(string)
	r := ts.do("POST", "/v1/organisations/"+oid+"/events", api.RoleAdmin,
		`{"type":"LicenceGranted","occurred_on":"2024-02-01","data":{"licence_id":"L-O","kind":"organisational","valid_until":"2026-02-01","decided_by":"Demo Panel","rationale":"Ahead of the evidence.","exception":true}}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	orgDec := r.json(t)["event_id"].(string)
	reviewed := func(decision string) string {
		return `{"type":"DecisionReviewed","occurred_on":"2024-03-01","data":{"decision_event_id":"` + decision + `","outcome":"upheld"}}`
	}
	retract := func(id string) string {
		return `{"type":"EventRetracted","occurred_on":"2024-03-02","data":{"retracted_event_id":"` + id + `","reason":"Recorded in error."}}`
	}
	refused := func(t *testing.T, method, path string, role api.Role, body string) {
		t.Helper()
		before := ts.count()
		r := ts.do(method, path, role, body)
		assert.Equal(t, http.StatusForbidden, r.status, "%s", r.body)
		assert.Equal(t, "forbidden", r.errCode(t))
		assert.Equal(t, before, ts.count(), "nothing stored")
	}

	t.Run("no DecisionReviewed through the events routes, for anyone", func(t *testing.T) {
		for _, role := range []api.Role{api.RoleAdmin, api.RoleReviewer} {
			refused(t, "POST", "/v1/practitioners/"+pid+"/events", role, reviewed(dec))
			refused(t, "POST", "/v1/organisations/"+oid+"/events", role, reviewed(orgDec))
		}
		assert.Equal(t, []string{dec, orgDec}, ts.queue("unreviewed"), "the queue is not emptied")
	})

	review := ts.review(dec, "overturned")
	assert.Equal(t, []string{orgDec}, ts.queue("unreviewed"))

	t.Run("an admin cannot retract a review", func(t *testing.T) {
		refused(t, "POST", "/v1/practitioners/"+pid+"/events", api.RoleAdmin, retract(review))
		assert.Equal(t, []string{orgDec}, ts.queue("unreviewed"))
	})
	t.Run("a reviewer retracts reviews only", func(t *testing.T) {
		course := ts.event(pid, "CourseCompleted", "2024-03-01", `{"course":"foundation_b"}`)["event_id"].(string)
		refused(t, "POST", "/v1/practitioners/"+pid+"/events", api.RoleReviewer, retract(course))
		refused(t, "POST", "/v1/practitioners/"+pid+"/events", api.RoleReviewer, retract(dec))
	})

	var retraction string
	t.Run("a reviewer's retraction puts the decision back in the queue, visibly", func(t *testing.T) {
		r := ts.do("POST", "/v1/practitioners/"+pid+"/events", api.RoleReviewer, retract(review))
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
		retraction = r.json(t)["event_id"].(string)
		assert.Equal(t, []string{dec, orgDec}, ts.queue("unreviewed"))
		d := ts.do("GET", "/v1/decisions/"+dec, api.RoleAuditor, "").json(t)
		assert.Empty(t, d["reviews"])
		rr := d["retracted_reviews"].([]any)
		require.Len(t, rr, 1)
		got := rr[0].(map[string]any)
		assert.Equal(t, review, got["event_id"])
		assert.Equal(t, "overturned", got["outcome"])
		rt := got["retraction"].(map[string]any)
		assert.Equal(t, retraction, rt["event_id"])
		assert.Equal(t, "reviewer-1", rt["retracted_by"])
		assert.Equal(t, "Recorded in error.", rt["reason"])

		ts.restart() // the read models come back from their snapshot
		assert.Equal(t, []string{dec, orgDec}, ts.queue("unreviewed"))
		again := ts.do("GET", "/v1/decisions/"+dec, api.RoleAuditor, "").json(t)
		assert.Equal(t, d["retracted_reviews"], again["retracted_reviews"], "kept in the snapshot")
	})
	t.Run("retracting that retraction is a reviewer's too", func(t *testing.T) {
		refused(t, "POST", "/v1/practitioners/"+pid+"/events", api.RoleAdmin, retract(retraction))
		r := ts.do("POST", "/v1/practitioners/"+pid+"/events", api.RoleReviewer, retract(retraction))
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
		assert.Equal(t, []string{orgDec}, ts.queue("unreviewed"), "the review stands again")
	})

	t.Run("nobody reviews a decision they recorded", func(t *testing.T) {
		// A decision imported under a name a reviewer's token now holds
		// (`ledger import --recorded-by` takes any name).
		id := uuid.New()
		_, err := ts.store.Append(context.Background(), "practitioner-"+pid, eventstore.Any(), eventstore.EventData{
			ID: id, Type: "LicenceGranted", SchemaVersion: 1, OccurredOn: "2024-02-02", RecordedBy: "reviewer-1",
			Data: []byte(`{"licence_id":"L-2","kind":"informal_use","valid_until":"2026-02-02","decided_by":"Demo Panel","rationale":"Imported.","exception":true}`),
		})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			return ts.do("GET", "/v1/decisions/"+id.String(), api.RoleAuditor, "").status == http.StatusOK
		}, 10*time.Second, 10*time.Millisecond)
		refused(t, "POST", "/v1/decisions/"+id.String()+"/reviews", api.RoleReviewer, `{"outcome":"upheld"}`)
	})

	t.Run("the write path refuses reviews from anyone but a reviewer, so import cannot record them", func(t *testing.T) {
		ctx := context.Background()
		stream := "practitioner-" + pid
		p := api.Proposal{Type: "DecisionReviewed", OccurredOn: "2024-03-01",
			Data: []byte(`{"decision_event_id":"` + orgDec + `","outcome":"upheld"}`)}
		importer := api.Principal{Name: "importer", Role: api.RoleAdmin}
		// `ledger import` stages every row through a Batch's Recorder.
		batch := api.NewBatch(ts.store, nil)
		_, err := batch.Recorder().Record(ctx, importer, stream, p)
		assert.Equal(t, "forbidden", api.Code(err))
		_, err = batch.Recorder().Review(ctx, importer, stream, p)
		assert.Equal(t, "forbidden", api.Code(err))
		_, err = batch.Recorder().Review(ctx, api.Principal{Name: "admin-1", Role: api.RoleReviewer}, stream,
			api.Proposal{OccurredOn: "2024-03-01", Data: []byte(`{"decision_event_id":"` + dec + `","outcome":"upheld"}`)})
		assert.Equal(t, "forbidden", api.Code(err), "admin-1 recorded that decision")
		assert.Zero(t, batch.Len(), "nothing staged")
	})
}

// TestVerifyWeighsTheEventsItReads: /v1/verify reads every event for an
// answer of a few bytes; charged by its size it was one request's worth,
// so a principal could keep the server reading the whole store fifty
// times a second. It is charged as the page of the events it read would
// be.
func TestVerifyWeighsTheEventsItReads(t *testing.T) {
	const burst = 40
	ts := limitedServerWithThousandFacts(t, burst)
	served := servedUntilLimited(t, ts, "/v1/verify", burst)
	assert.LessOrEqual(t, served, 3, "a verify of 1,001 events weighs more than a dozen requests")
	assert.Equal(t, http.StatusOK, ts.do("GET", "/v1/decisions", api.RoleReviewer, "").status, "another principal is unaffected")
}

// servedUntilLimited GETs path as an auditor until the answer is 429, at
// most max times, and returns how many were served (each must be a 200).
func servedUntilLimited(t *testing.T, ts *testServer, path string, max int) int {
	t.Helper()
	served := 0
	for served < max {
		r := ts.do("GET", path, api.RoleAuditor, "")
		if r.status == http.StatusTooManyRequests {
			break
		}
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		served++
	}
	return served
}

// limitedServerWithThousandFacts starts a server whose principals refill
// next to nothing beyond burst, holding one practitioner with 1,000 facts
// stored straight into the store, so that a costly read is at hand.
func limitedServerWithThousandFacts(t *testing.T, burst int) *testServer {
	t.Helper()
	ts := newTestServer(t, func(c *api.Config) { c.RateLimit, c.RateBurst = 0.001, burst })
	pid, err := uuid.Parse(ts.registerPractitioner("Alex Example"))
	require.NoError(t, err)
	facts := make([]eventstore.EventData, 1000)
	for i := range facts {
		facts[i] = eventstore.EventData{
			ID: uuid.New(), Type: "CPDEngagementRecorded", SchemaVersion: 1, OccurredOn: "2024-03-01", RecordedBy: "admin-1",
			Data: []byte(`{"kind":"linked_cpd","hours":1,"title":"Practitioner development session"}`),
		}
	}
	_, err = ts.store.Append(context.Background(), projections.PractitionerStream(pid), eventstore.Any(), facts...)
	require.NoError(t, err)
	return ts
}

// TestRevokedTokenIsRefused: a token revoked by another process (`ledger
// token revoke` opens the token file itself, as the second auth.Tokens
// here does) is refused by the running server, which watches the file
// rather than stat it on every request; a token added so is accepted.
func TestRevokedTokenIsRefused(t *testing.T) {
	ts := newTestServer(t)
	require.Equal(t, http.StatusOK, ts.do("GET", "/v1/decisions", api.RoleAuditor, "").status)

	cli := auth.Open(ts.dir)
	added, err := cli.Add("auditor-2", api.RoleAuditor, 0)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return ts.withToken("GET", "/v1/decisions", added).status == http.StatusOK
	}, 5*time.Second, 5*time.Millisecond, "a token added by another process is accepted")

	require.NoError(t, cli.Revoke("auditor-1"))
	require.Eventually(t, func() bool {
		return ts.withToken("GET", "/v1/decisions", ts.tokens[api.RoleAuditor]).status == http.StatusUnauthorized
	}, 5*time.Second, 5*time.Millisecond, "a token revoked by another process is refused")
	r := ts.withToken("GET", "/v1/decisions", ts.tokens[api.RoleAuditor])
	assert.Equal(t, "unauthorized", r.errCode(t))
	assert.Equal(t, http.StatusOK, ts.withToken("GET", "/v1/decisions", added).status, "the other token still works")
}

// withToken sends a request with token as its bearer token.
func (ts *testServer) withToken(method, path, token string) response {
	ts.t.Helper()
	return ts.sendAs(false, method, path, token, "")
}
