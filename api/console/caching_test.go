package console_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
)

// TestNothingSignedInIsCached: every console response says no-store, a
// cache must keep none of it (pages show personal data and carry the
// session's CSRF token), refusals and redirects included; only the style
// sheet and the directory signed out, the same for everyone, may be kept.
func TestNothingSignedInIsCached(t *testing.T) {
	e := limited(t, 1000)
	org := e.organisation("Hillside Demo School")
	pid := e.practitioner("Casey Fictional", "2024-01-10")
	dec := e.fact(pid, "LicenceGranted", "2024-05-01", `{"licence_id":"L-1","kind":"level3a","valid_until":"2025-05-01","decided_by":"Demo Panel","rationale":"Ahead of the evidence.","exception":true}`)
	admin := e.signedIn(api.RoleAdmin)
	reviewer := e.signedIn(api.RoleReviewer)
	event := url.Values{"type": {"CourseCompleted"}, "occurred_on": {"2024-03-01"}, "data.course": {"foundation_b"}}
	cases := []struct {
		name string
		send func() page
	}{
		{"start page", func() page { return admin.get("/ui/") }},
		{"search", func() page { return admin.get("/ui/practitioners?q=casey") }},
		{"search form", func() page { return admin.post("/ui/practitioners/search", url.Values{"q": {"casey"}}) }},
		{"practitioner", func() page { return admin.get("/ui/practitioners/" + pid + "?as_of=2024-06-01") }},
		{"history.json", func() page { return admin.get("/ui/practitioners/" + pid + "/history.json") }},
		{"history.csv", func() page { return admin.get("/ui/practitioners/" + pid + "/history.csv") }},
		{"event form", func() page { return admin.get("/ui/practitioners/" + pid + "/events/new?type=CourseCompleted") }},
		{"event recorded", func() page { return admin.post("/ui/practitioners/"+pid+"/events", event) }},
		{"event refused", func() page {
			return admin.post("/ui/practitioners/"+pid+"/events", url.Values{"type": {"CourseCompleted"}, "occurred_on": {"someday"}})
		}},
		{"organisations", func() page { return admin.get("/ui/organisations") }},
		{"organisation", func() page { return admin.get("/ui/organisations/" + org) }},
		{"queue", func() page { return reviewer.get("/ui/decisions?status=exception") }},
		{"decision", func() page { return reviewer.get("/ui/decisions/" + dec) }},
		{"verify", func() page { return admin.get("/ui/verify") }},
		{"directory signed in", func() page { return admin.get("/ui/directory") }},
		{"sign-in form signed in", func() page { return admin.get("/ui/signin") }},
		{"not found", func() page { return admin.get("/ui/practitioners/00000000-0000-4000-8000-000000000009") }},
		{"bad query", func() page { return admin.get("/ui/practitioners?level=9") }},
		{"role refused", func() page { return reviewer.get("/ui/verify") }},
		{"method refused", func() page { return admin.post("/ui/verify", nil) }},
		{"forged", func() page { return admin.post("/ui/practitioners/"+pid+"/events", url.Values{"csrf": {"x"}}) }},
		{"cross-site", func() page {
			return admin.post("/ui/practitioners/"+pid+"/events", event, "Sec-Fetch-Site", "cross-site")
		}},
		{"sign-in form", func() page { return e.browser().get("/ui/signin") }},
		{"no such asset", func() page { return e.browser().get("/ui/static/nope.css") }},
		{"asset folder", func() page { return e.browser().get("/ui/static/") }},
		{"signed out redirect", func() page { return e.browser().get("/ui/practitioners/" + pid) }},
		{"bad sign-in", func() page { return e.browser().post("/ui/signin", url.Values{"token": {"ldg_x"}}) }},
		{"sign-in", func() page { return e.browser().post("/ui/signin", url.Values{"token": {e.tokens[api.RoleAuditor]}}) }},
		{"sign-out", func() page { return e.signedIn(api.RoleAuditor).post("/ui/signout", nil) }},
	}
	for _, c := range cases {
		p := c.send()
		assert.Equal(t, "no-store", p.header.Get("Cache-Control"), "%s: %d", c.name, p.status)
		assert.Contains(t, p.header.Get("Content-Security-Policy"), "default-src 'none'", c.name)
		assert.Equal(t, "DENY", p.header.Get("X-Frame-Options"), c.name)
	}

	css := e.browser().get("/ui/static/style.css")
	require.Equal(t, http.StatusOK, css.status)
	assert.Equal(t, "public, max-age=3600", css.header.Get("Cache-Control"))
	dir := e.browser().get("/ui/directory")
	require.Equal(t, http.StatusOK, dir.status)
	assert.Equal(t, "public, max-age=60", dir.header.Get("Cache-Control"), "as the API's directory")
	assert.Equal(t, "Cookie", dir.header.Get("Vary"), "a cache keeps it apart from the directory signed in")
	assert.NotContains(t, dir.body, `name="csrf"`)
}
