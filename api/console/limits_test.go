package console_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/console"
)

// limited is a server whose buckets hold burst requests and refill at one
// a second on the test's clock, which stands still unless advanced.
func limited(t *testing.T, burst int) *env {
	return newEnv(t, console.Options{}, func(c *api.Config) { c.RateLimit, c.RateBurst = 1, burst })
}

// untilLimited GETs path until a 429 and returns how many were let in
// first (at most limit), and the 429.
func (b *browser) untilLimited(path string, limit int) (int, page) {
	b.t.Helper()
	for n := range limit {
		if p := b.get(path); p.status == http.StatusTooManyRequests {
			return n, p
		}
	}
	return limit, page{}
}

// TestSignedInPagesChargeTheToken: a signed-in session draws on its
// token's bucket, the one the API's requests with that token draw on, by
// the same cost (one a request, one more per 16 KiB of response), and not
// on its address's.
func TestSignedInPagesChargeTheToken(t *testing.T) {
	const burst = 30
	e := limited(t, burst)
	pid := e.practitioner("Casey Fictional", "2024-01-10")
	for range 80 {
		e.fact(pid, "CPDEngagementRecorded", "2024-02-01", `{"kind":"peer_supervision","hours":1,"title":"Reading group"}`)
		e.clock.advance(time.Minute) // the admin's setup refilled: only the auditor is measured
	}
	b := e.signedIn(api.RoleAuditor) // its bucket: 1 for the start page
	big := b.get("/ui/practitioners/" + pid + "/history.json")
	require.Equal(t, http.StatusOK, big.status, big.body)
	units := len(big.body) / (16 << 10)
	require.GreaterOrEqual(t, units, 2, "a download large enough to weigh")

	n, refused := b.untilLimited("/ui/", burst)
	assert.Equal(t, burst-1-1-units, n, "the start page, the download and its size were charged")
	require.Equal(t, http.StatusTooManyRequests, refused.status)
	assert.NotEmpty(t, refused.header.Get("Retry-After"))
	assert.Contains(t, refused.body, "Too many requests")
	assert.Equal(t, "no-store", refused.header.Get("Cache-Control"))
	assert.Contains(t, refused.header.Get("Content-Security-Policy"), "frame-ancestors 'none'")

	req, err := http.NewRequest("GET", e.srv.URL()+"/v1/decisions", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e.tokens[api.RoleAuditor])
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "the API shares the token's bucket")

	assert.Equal(t, http.StatusOK, e.browser().get("/ui/directory").status, "the session was not charged to its address")
	assert.Equal(t, http.StatusOK, e.signedIn(api.RoleReviewer).get("/ui/decisions").status, "another token has its own bucket")

	e.clock.advance(time.Minute)
	assert.Equal(t, http.StatusOK, b.get("/ui/").status, "the bucket refills")
}

// TestSignedOutRequestsChargeTheAddress: the sign-in form, the directory,
// the style sheet and sign-in attempts draw on the client address's bucket,
// and a sign-in with a bad token costs more than a page, so that guessing
// tokens is slow.
func TestSignedOutRequestsChargeTheAddress(t *testing.T) {
	const burst = 30
	t.Run("pages", func(t *testing.T) {
		e := limited(t, burst)
		b := e.browser()
		for i := range burst {
			path := []string{"/ui/signin", "/ui/directory", "/ui/static/style.css", "/ui/practitioners"}[i%4]
			require.NotEqual(t, http.StatusTooManyRequests, b.get(path).status, "%d: %s", i, path)
		}
		for _, path := range []string{"/ui/signin", "/ui/directory", "/ui/static/style.css", "/ui/"} {
			assert.Equal(t, http.StatusTooManyRequests, e.browser().get(path).status, path)
		}
		p := e.browser().post("/ui/signin", url.Values{"token": {e.tokens[api.RoleAdmin]}})
		assert.Equal(t, http.StatusTooManyRequests, p.status, "signing in is a signed-out request")
		assert.Empty(t, p.header.Values("Set-Cookie"), "no session")
	})
	t.Run("guessing tokens", func(t *testing.T) {
		e := limited(t, burst)
		b := e.browser()
		guesses := 0
		for range burst {
			p := b.post("/ui/signin", url.Values{"token": {"ldg_guess"}})
			if p.status == http.StatusTooManyRequests {
				assert.Contains(t, p.body, "Too many requests")
				assert.NotEmpty(t, p.header.Get("Retry-After"))
				break
			}
			require.Equal(t, http.StatusUnauthorized, p.status)
			guesses++
		}
		// Each guess costs its request and ten more: 30, 19, 8, then -3.
		assert.Equal(t, 3, guesses)
		assert.Equal(t, http.StatusTooManyRequests, b.post("/ui/signin", url.Values{"token": {e.tokens[api.RoleAdmin]}}).status,
			"the address waits, whatever token it sends next")
		e.clock.advance(5 * time.Second)
		ok := b.post("/ui/signin", url.Values{"token": {e.tokens[api.RoleAdmin]}})
		assert.Equal(t, http.StatusSeeOther, ok.status, "once the debt is paid")
	})
	t.Run("an empty token is a slip, not a guess", func(t *testing.T) {
		e := limited(t, burst)
		b := e.browser()
		for i := range burst {
			require.Equal(t, http.StatusUnauthorized, b.post("/ui/signin", url.Values{"token": {""}}).status, i)
		}
	})
}

// TestOneSessionManyTabs: requests on one session at once (several tabs)
// are each let in and charged to the token's bucket.
func TestOneSessionManyTabs(t *testing.T) {
	const tabs = 8
	e := limited(t, 1+tabs)
	b := e.signedIn(api.RoleAuditor)
	statuses := make(chan int, tabs)
	for range tabs {
		go func() {
			resp, err := b.c.Get(e.srv.URL() + "/ui/decisions")
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	for range tabs {
		assert.Equal(t, http.StatusOK, <-statuses)
	}
	assert.Equal(t, http.StatusTooManyRequests, b.get("/ui/").status, "the burst is spent")
}

// TestVerifyPageWeighsTheEventsItReads: the chain verification reads every
// event for a short page; it costs what the page of those events would on
// /v1/verify (512 bytes an event), not one request.
func TestVerifyPageWeighsTheEventsItReads(t *testing.T) {
	const burst = 30
	e := limited(t, burst)
	pid := e.practitioner("Casey Fictional", "2024-01-10")
	for range 80 {
		e.fact(pid, "CPDEngagementRecorded", "2024-02-01", `{"kind":"peer_supervision","hours":1,"title":"Reading group"}`)
		e.clock.advance(time.Minute)
	}
	b := e.signedIn(api.RoleAuditor) // 1 for the start page
	require.Equal(t, http.StatusOK, b.get("/ui/verify").status)
	units := 81 * 512 / (16 << 10) // 81 events checked
	n, _ := b.untilLimited("/ui/", burst)
	assert.Equal(t, burst-1-1-units, n, "the verification was charged for the %d events it read", 81)
}
