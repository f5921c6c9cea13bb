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

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
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
		r := ts.do(fmt.Sprintf("PROBE%03d", i), path, "", "")
		require.Less(t, r.status, 500, "%s", r.body)
	}
	long := strings.Repeat("M", 4000) // under the header limit: served
	assert.Equal(t, http.StatusMethodNotAllowed, ts.do(long, "/v1/practitioners", "", "").status)
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

	page := ts.do("GET", "/v1/events?limit=1000", api.RoleAuditor, "")
	require.Equal(t, http.StatusOK, page.status, "%s", page.body)
	cost := 1 + len(page.body)/(16<<10)
	require.Greater(t, cost, 10, "the page is large enough to weigh more than ten requests")
	// A page is let in while the bucket holds a token, then charged its
	// cost: the burst pays for about burst/cost pages, not burst of them.
	served := 1
	for served < burst {
		r := ts.do("GET", "/v1/events?limit=1000", api.RoleAuditor, "")
		if r.status == http.StatusTooManyRequests {
			break
		}
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		served++
	}
	assert.Equal(t, (burst-1)/cost+1, served, "pages of cost %d served from a burst of %d", cost, burst)
	assert.Equal(t, http.StatusTooManyRequests, ts.do("GET", "/v1/decisions", api.RoleAuditor, "").status, "the debt holds back small requests too")
	assert.Equal(t, http.StatusOK, ts.do("GET", "/v1/decisions", api.RoleReviewer, "").status, "another principal is unaffected")
	assert.Equal(t, http.StatusOK, ts.do("GET", "/healthz", api.RoleAuditor, "").status, "health costs nothing")
}
