package console_test

import (
	"crypto/tls"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/console"
	"github.com/imattertraining/ledger/domain"
)

// TestSignedOut: nothing but the sign-in form and the directory shows
// signed out (ARCHITECTURE.md: "Signed out, every `/ui` page but the
// directory shows the sign-in form").
func TestSignedOut(t *testing.T) {
	e := newEnv(t, console.Options{})
	pid := e.practitioner("Casey Fictional", "2024-01-10")
	b := e.browser()

	root := b.get("/")
	assert.Equal(t, http.StatusSeeOther, root.status)
	assert.Equal(t, "/ui/", root.header.Get("Location"))

	for _, path := range []string{"/ui/", "/ui/practitioners", "/ui/practitioners/" + pid, "/ui/practitioners/" + pid + "/history.csv",
		"/ui/decisions", "/ui/organisations", "/ui/verify", "/ui/practitioners/new"} {
		p := b.get(path)
		assert.Equal(t, http.StatusSeeOther, p.status, path)
		assert.Equal(t, "/ui/signin?next="+url.QueryEscape(path), p.header.Get("Location"), path)
		assert.NotContains(t, p.body, "Casey", path)
	}
	form := b.get("/ui/signin?next=/ui/practitioners")
	require.Equal(t, http.StatusOK, form.status)
	assert.Contains(t, form.body, `<label for="token">Token</label>`)
	assert.Contains(t, form.body, `<input id="token" name="token"`)
	assert.Contains(t, form.body, `<html lang="en">`)
	assert.Contains(t, form.body, `<title>Sign in · I Matter ledger</title>`)

	dir := b.get("/ui/directory")
	assert.Equal(t, http.StatusOK, dir.status)

	before := e.count()
	p := b.post("/ui/practitioners", url.Values{"data.name": {"Nobody Signedin"}, "data.profession": {"education"}})
	assert.Equal(t, http.StatusUnauthorized, p.status)
	assert.Equal(t, before, e.count(), "nothing stored signed out")
}

// TestSignIn: a good token starts a session held by a random id in an
// HttpOnly SameSite cookie; a bad one is refused; next is kept inside /ui.
func TestSignIn(t *testing.T) {
	e := newEnv(t, console.Options{})
	b := e.browser()
	bad := b.post("/ui/signin", url.Values{"token": {"ldg_not-a-token"}})
	assert.Equal(t, http.StatusUnauthorized, bad.status)
	assert.Contains(t, bad.body, "This token is not valid")
	assert.Empty(t, bad.header.Values("Set-Cookie"))
	empty := b.post("/ui/signin", url.Values{"token": {""}})
	assert.Equal(t, http.StatusUnauthorized, empty.status)
	assert.Contains(t, empty.body, "Enter your token")

	ok := b.post("/ui/signin", url.Values{"token": {e.tokens[api.RoleAuditor]}, "next": {"/ui/decisions"}})
	require.Equal(t, http.StatusSeeOther, ok.status, ok.body)
	assert.Equal(t, "/ui/decisions", ok.header.Get("Location"))
	cookie := ok.header.Get("Set-Cookie")
	assert.Contains(t, cookie, "ledger_session=")
	assert.Contains(t, cookie, "HttpOnly")
	assert.Contains(t, cookie, "SameSite=Strict")
	assert.Contains(t, cookie, "Path=/ui")
	assert.NotContains(t, cookie, "Secure", "no TLS here")
	assert.NotContains(t, cookie, e.tokens[api.RoleAuditor], "the token stays on the server")
	home := b.get("/ui/")
	assert.Contains(t, home.body, "auditor-1")

	// Over TLS the cookie is Secure too.
	req := httptest.NewRequest("POST", "https://ledger.example/ui/signin", strings.NewReader(url.Values{"token": {e.tokens[api.RoleAuditor]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.TLS = &tls.ConnectionState{}
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, req)
	require.Equal(t, http.StatusSeeOther, w.Code)
	assert.Contains(t, w.Header().Get("Set-Cookie"), "; Secure")

	// Behind a trusted proxy that terminated TLS, too; from anyone else
	// the header is ignored.
	behind := func(trusted string) string {
		pe := newEnv(t, console.Options{}, func(c *api.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix(trusted)} })
		req, err := http.NewRequest("POST", pe.srv.URL()+"/ui/signin", strings.NewReader(url.Values{"token": {pe.tokens[api.RoleAuditor]}}.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-Proto", "https")
		resp, err := pe.browser().c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.Header.Get("Set-Cookie")
	}
	assert.Contains(t, behind("127.0.0.1/32"), "; Secure")
	assert.NotContains(t, behind("192.0.2.0/24"), "Secure")

	offsite := e.browser().post("/ui/signin", url.Values{"token": {e.tokens[api.RoleAuditor]}, "next": {"//evil.example/x"}})
	assert.Equal(t, "/ui/", offsite.header.Get("Location"))
}

// TestSecurityHeaders: every page forbids script, framing and referrers.
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, console.Options{})
	b := e.signedIn(api.RoleAdmin)
	for _, path := range []string{"/ui/", "/ui/signin", "/ui/directory", "/ui/practitioners", "/ui/nope", "/ui/static/style.css"} {
		p := b.get(path)
		csp := p.header.Get("Content-Security-Policy")
		assert.Contains(t, csp, "default-src 'none'", path)
		assert.Contains(t, csp, "frame-ancestors 'none'", path)
		assert.NotContains(t, csp, "script-src", path)
		assert.NotContains(t, csp, "unsafe-inline", path)
		assert.Equal(t, "DENY", p.header.Get("X-Frame-Options"), path)
		assert.Equal(t, "no-referrer", p.header.Get("Referrer-Policy"), path)
		assert.NotContains(t, p.body, "<script", path)
	}
}

// TestSessionEnds: sign-out, an idle session, and a revoked token each end
// the session.
func TestSessionEnds(t *testing.T) {
	e := newEnv(t, console.Options{IdleTimeout: 30 * time.Minute})
	t.Run("sign-out needs the CSRF token, then ends the session", func(t *testing.T) {
		b := e.signedIn(api.RoleAuditor)
		forged := b.post("/ui/signout", url.Values{"csrf": {"forged"}})
		assert.Equal(t, http.StatusForbidden, forged.status)
		assert.Equal(t, http.StatusOK, b.get("/ui/practitioners").status, "still signed in")
		out := b.post("/ui/signout", nil)
		assert.Equal(t, http.StatusOK, out.status)
		assert.Contains(t, out.body, "You are signed out")
		assert.Equal(t, http.StatusSeeOther, b.get("/ui/practitioners").status)
	})
	t.Run("idle expiry", func(t *testing.T) {
		b := e.signedIn(api.RoleAuditor)
		e.clock.advance(29 * time.Minute)
		assert.Equal(t, http.StatusOK, b.get("/ui/practitioners").status, "used within the idle time")
		e.clock.advance(31 * time.Minute)
		assert.Equal(t, http.StatusSeeOther, b.get("/ui/practitioners").status, "idle for longer")
	})
	t.Run("a revoked token ends its sessions", func(t *testing.T) {
		tok, err := e.toks.Add("short-lived", api.RoleReviewer, 0)
		require.NoError(t, err)
		b := e.browser()
		require.Equal(t, http.StatusSeeOther, b.post("/ui/signin", url.Values{"token": {tok}}).status)
		assert.Equal(t, http.StatusOK, b.get("/ui/decisions").status)
		require.NoError(t, e.toks.Revoke("short-lived"))
		assert.Equal(t, http.StatusSeeOther, b.get("/ui/decisions").status)
	})
}

// TestForgedPost: a POST without the session's CSRF token, or sent from
// another site, gets 403 and stores nothing.
func TestForgedPost(t *testing.T) {
	e := newEnv(t, console.Options{})
	pid := e.practitioner("Casey Fictional", "2024-01-10")
	b := e.signedIn(api.RoleAdmin)
	form := func() url.Values {
		return url.Values{"type": {"CourseCompleted"}, "occurred_on": {"2024-03-01"}, "data.course": {"foundation_b"}}
	}
	before := e.count()
	for name, c := range map[string]struct {
		form    url.Values
		headers []string
	}{
		"no token":         {url.Values{"type": {"CourseCompleted"}, "occurred_on": {"2024-03-01"}, "data.course": {"foundation_b"}, "csrf": {""}}, nil},
		"wrong token":      {url.Values{"type": {"CourseCompleted"}, "occurred_on": {"2024-03-01"}, "data.course": {"foundation_b"}, "csrf": {"x"}}, nil},
		"cross-site fetch": {form(), []string{"Sec-Fetch-Site", "cross-site"}},
		"foreign origin":   {form(), []string{"Origin", "https://evil.example"}},
	} {
		p := b.post("/ui/practitioners/"+pid+"/events", c.form, c.headers...)
		assert.Equal(t, http.StatusForbidden, p.status, name)
		assert.Equal(t, before, e.count(), name)
	}
	ok := b.post("/ui/practitioners/"+pid+"/events", form())
	assert.Equal(t, http.StatusSeeOther, ok.status, ok.body)
	assert.Equal(t, before+1, e.count())
}

// TestRoles: each page admits the roles its API route admits.
func TestRoles(t *testing.T) {
	e := newEnv(t, console.Options{})
	pid := e.practitioner("Casey Fictional", "2024-01-10")
	dec := e.apiPost("/v1/practitioners/"+pid+"/events", `{"type":"LicenceGranted","occurred_on":"2024-05-01","data":{"licence_id":"L-1","kind":"level3a","valid_until":"2025-05-01","decided_by":"Demo Panel","rationale":"Ahead of the evidence.","exception":true}}`)
	cases := []struct {
		role   api.Role
		method string
		path   string
		status int
	}{
		{api.RoleAuditor, "GET", "/ui/practitioners/new", http.StatusForbidden},
		{api.RoleReviewer, "GET", "/ui/practitioners/" + pid + "/events/new?type=CourseCompleted", http.StatusForbidden},
		{api.RoleReviewer, "POST", "/ui/practitioners/" + pid + "/events", http.StatusForbidden},
		{api.RoleAuditor, "POST", "/ui/organisations", http.StatusForbidden},
		{api.RoleAdmin, "POST", "/ui/decisions/" + dec + "/reviews", http.StatusForbidden},
		{api.RoleAuditor, "POST", "/ui/decisions/" + dec + "/reviews", http.StatusForbidden},
		{api.RoleReviewer, "GET", "/ui/verify", http.StatusForbidden},
		{api.RoleAuditor, "GET", "/ui/verify", http.StatusOK},
		{api.RoleAdmin, "GET", "/ui/verify", http.StatusOK},
		{api.RoleAuditor, "GET", "/ui/practitioners/" + pid, http.StatusOK},
		{api.RoleReviewer, "GET", "/ui/decisions/" + dec, http.StatusOK},
		{api.RoleAdmin, "GET", "/ui/practitioners/new", http.StatusOK},
	}
	before := e.count()
	for _, c := range cases {
		b := e.signedIn(c.role)
		var p page
		if c.method == "GET" {
			p = b.get(c.path)
		} else {
			p = b.post(c.path, url.Values{"type": {"CourseCompleted"}, "occurred_on": {"2024-03-01"}, "data.course": {"foundation_b"}, "outcome": {"upheld"}, "data.name": {"X"}})
		}
		assert.Equal(t, c.status, p.status, "%s %s %s", c.role, c.method, c.path)
	}
	assert.Equal(t, before, e.count())
	// The reviewer sees the review form; others do not.
	assert.Contains(t, e.signedIn(api.RoleReviewer).get("/ui/decisions/"+dec).body, `name="outcome"`)
	assert.NotContains(t, e.signedIn(api.RoleAuditor).get("/ui/decisions/"+dec).body, `name="outcome"`)
}

// TestNotFound: ids that name nothing, and paths nobody serves, are 404.
func TestNotFound(t *testing.T) {
	e := newEnv(t, console.Options{})
	pid := e.practitioner("Casey Fictional", "2024-01-10")
	b := e.signedIn(api.RoleAdmin)
	for _, path := range []string{
		"/ui/practitioners/not-an-id", "/ui/practitioners/00000000-0000-4000-8000-000000000009",
		"/ui/practitioners/00000000-0000-4000-8000-000000000009/history.json",
		"/ui/practitioners/00000000-0000-4000-8000-000000000009/events/new",
		"/ui/organisations/00000000-0000-4000-8000-000000000009",
		"/ui/decisions/00000000-0000-4000-8000-000000000009", "/ui/decisions/nope", "/ui/nothing-here",
		"/ui/practitioners/" + pid + "?page=9", "/ui/practitioners/" + pid + "?known_at=2020-01-01T00:00:00Z",
	} {
		p := b.get(path)
		assert.Equal(t, http.StatusNotFound, p.status, path)
		assert.Contains(t, p.body, `role="alert"`, path)
	}
	for _, path := range []string{"/ui/practitioners?level=9", "/ui/practitioners?level=x", "/ui/practitioners?standing=fine",
		"/ui/practitioners?organisation_id=x", "/ui/practitioners?colour=red", "/ui/practitioners/" + pid + "?as_of=2024-02-30",
		"/ui/practitioners/" + pid + "?known_at=yesterday", "/ui/decisions?status=odd", "/ui/practitioners/" + pid + "/events/new?type=Nope",
		"/ui/practitioners/" + pid + "/events/new?type=OrganisationRegistered", "/ui/directory?page=0"} {
		assert.Equal(t, http.StatusBadRequest, b.get(path).status, path)
	}
}

// TestSearch: name, level, standing, role and organisation filters, and
// paging through the list.
func TestSearch(t *testing.T) {
	e := newEnv(t, console.Options{PageSize: 2})
	org := e.organisation("Hillside Search School")
	ids := map[string]string{}
	for _, n := range []string{"Alex Example", "Sam Sample", "Jo Placeholder", "Alexis Demo"} {
		ids[n] = e.practitioner(n, "2024-01-10")
	}
	e.fact(ids["Sam Sample"], "PractitionerJoinedOrganisation", "2024-01-10", `{"organisation_id":"`+org+`"}`)
	for _, c := range []string{"foundation_a_part1", "foundation_a_part2", "foundation_b"} {
		e.fact(ids["Jo Placeholder"], "CourseCompleted", "2024-02-01", `{"course":"`+c+`"}`)
	}
	b := e.signedIn(api.RoleAuditor)

	p := b.get("/ui/practitioners?q=alex")
	require.Equal(t, http.StatusOK, p.status)
	assert.Contains(t, p.body, "Alex Example")
	assert.Contains(t, p.body, "Alexis Demo")
	assert.NotContains(t, p.body, "Sam Sample")
	assert.Contains(t, p.body, `href="/ui/practitioners/`+ids["Alex Example"]+`"`)

	p = b.get("/ui/practitioners?organisation_id=" + org)
	assert.Contains(t, p.body, "Sam Sample")
	assert.NotContains(t, p.body, "Alex Example")
	assert.Contains(t, p.body, "Hillside Search School")

	p = b.get("/ui/practitioners?level=1")
	assert.Contains(t, p.body, "Jo Placeholder")
	assert.NotContains(t, p.body, "Sam Sample")

	p = b.get("/ui/practitioners?standing=good&role=lead_plus")
	assert.Contains(t, p.body, "No practitioner matches")

	// Four practitioners, two a page.
	first := b.get("/ui/practitioners")
	assert.Equal(t, 2, strings.Count(first.body, `<a href="/ui/practitioners/`))
	m := regexpNext.FindStringSubmatch(first.body)
	require.NotNil(t, m, "a next page link")
	second := b.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	require.Equal(t, http.StatusOK, second.status)
	assert.Equal(t, 2, strings.Count(second.body, `<a href="/ui/practitioners/`))
	assert.Contains(t, second.body, "First page")
	assert.NotRegexp(t, regexpNext, second.body, "no third page")
}

// TestPractitionerPage: level "Level N" and name, licences, standing with
// its requirements, the timeline with recorder and retractions, and the
// page as of a past date and as known at a past time.
func TestPractitionerPage(t *testing.T) {
	e := newEnv(t, console.Options{})
	pid := e.practitioner("Casey Fictional", "2024-01-10")
	wrong := e.fact(pid, "CourseCompleted", "2024-02-01", `{"course":"awareness"}`)
	for _, c := range []string{"foundation_a_part1", "foundation_a_part2"} {
		e.fact(pid, "CourseCompleted", "2024-02-05", `{"course":"`+c+`"}`)
	}
	time.Sleep(2 * time.Millisecond)
	between := time.Now().UTC()
	time.Sleep(2 * time.Millisecond)
	e.fact(pid, "CourseCompleted", "2024-03-11", `{"course":"foundation_b"}`)
	e.fact(pid, "EventRetracted", "2024-03-12", `{"retracted_event_id":"`+wrong+`","reason":"Recorded for the wrong person."}`)
	e.apiPost("/v1/practitioners/"+pid+"/events", `{"type":"LicenceGranted","occurred_on":"2024-04-01","data":{"licence_id":"L-9","kind":"informal_use","valid_until":"2025-04-01","decided_by":"Demo Panel","rationale":"For the test.","exception":true}}`)
	b := e.signedIn(api.RoleAuditor)

	now := b.get("/ui/practitioners/" + pid)
	require.Equal(t, http.StatusOK, now.status, now.body)
	assert.Contains(t, now.body, `<span class="level">Level 1</span> Casey Fictional`)
	assert.Contains(t, now.body, "as known now")
	assert.Contains(t, now.body, "L-9")
	assert.Contains(t, now.body, "expired", "the licence ran out on 2025-04-01")
	assert.Contains(t, now.body, "Retracted by event")
	assert.Contains(t, now.body, "by admin-1")
	assert.Contains(t, now.body, "<svg")
	assert.Contains(t, now.body, "Next steps")

	past := b.get("/ui/practitioners/" + pid + "?as_of=2024-02-10")
	require.Equal(t, http.StatusOK, past.status)
	assert.Contains(t, past.body, "as of 2024-02-10")
	assert.Contains(t, past.body, `<span class="level">Level 0</span>`, "Foundation A only, by then")

	known := b.get("/ui/practitioners/" + pid + "?known_at=" + url.QueryEscape(between.Format(time.RFC3339Nano)))
	require.Equal(t, http.StatusOK, known.status, known.body)
	assert.Contains(t, known.body, "as known at "+between.Format(time.RFC3339Nano))
	assert.Contains(t, known.body, `<span class="level">Level 0</span>`, "foundation_b was not known yet")
	assert.NotContains(t, known.body, "L-9")
	assert.NotContains(t, known.body, "Retracted by event", "the retraction was not known yet")
}

// TestHistoryDownloads: the audit trail as the API's JSON and as CSV.
func TestHistoryDownloads(t *testing.T) {
	e := newEnv(t, console.Options{})
	pid := e.practitioner("Casey Fictional", "2024-01-10")
	e.fact(pid, "CourseCompleted", "2024-02-01", `{"course":"awareness"}`)
	b := e.signedIn(api.RoleAuditor)

	j := b.get("/ui/practitioners/" + pid + "/history.json")
	require.Equal(t, http.StatusOK, j.status)
	assert.Contains(t, j.header.Get("Content-Disposition"), "attachment")
	var doc struct {
		Items []map[string]any `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(j.body), &doc))
	require.Len(t, doc.Items, 2)
	assert.Equal(t, "CourseCompleted", doc.Items[1]["type"])
	assert.Equal(t, "admin-1", doc.Items[1]["recorded_by"])
	assert.NotEmpty(t, doc.Items[1]["hash"])

	c := b.get("/ui/practitioners/" + pid + "/history.csv")
	require.Equal(t, http.StatusOK, c.status)
	assert.Equal(t, "text/csv; charset=utf-8", c.header.Get("Content-Type"))
	rows, err := csv.NewReader(strings.NewReader(c.body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 3)
	assert.Equal(t, "event_id", rows[0][0])
	assert.Equal(t, "CourseCompleted", rows[2][1])
	assert.JSONEq(t, `{"course":"awareness"}`, rows[2][len(rows[2])-1])
}

// TestRecordThroughForms: registering and recording through the forms, the
// API's validation messages beside the fields they concern, nothing stored
// on an error.
func TestRecordThroughForms(t *testing.T) {
	e := newEnv(t, console.Options{})
	b := e.signedIn(api.RoleAdmin)

	before := e.count()
	bad := b.post("/ui/practitioners", url.Values{"occurred_on": {"2024-01-10"}, "data.name": {""}, "data.profession": {"education"}})
	assert.Equal(t, http.StatusBadRequest, bad.status)
	assert.Regexp(t, `id="f-name-error">[^<]*required`, bad.body)
	assert.Equal(t, before, e.count())

	reg := b.post("/ui/practitioners", url.Values{"occurred_on": {"2024-01-10"}, "data.name": {"Casey Fictional"}, "data.profession": {"education"}})
	require.Equal(t, http.StatusSeeOther, reg.status, reg.body)
	loc := reg.header.Get("Location")
	require.True(t, strings.HasPrefix(loc, "/ui/practitioners/"), loc)
	pid := strings.TrimPrefix(loc, "/ui/practitioners/")

	org := b.post("/ui/organisations", url.Values{"occurred_on": {"2024-01-08"}, "data.name": {"Hillside Form School"}, "data.kind": {"school"}, "data.registered_service": {"true"}})
	require.Equal(t, http.StatusSeeOther, org.status, org.body)
	orgPage := org.header.Get("Location")
	assert.Contains(t, b.get(orgPage).body, "Hillside Form School")
	lic := b.post(orgPage+"/events", url.Values{"type": {"LicenceGranted"}, "action": {"record"}, "occurred_on": {"2024-02-01"}, "data.licence_id": {"ORG-L-1"},
		"data.kind": {"organisational"}, "data.valid_until": {"2027-02-01"}, "data.decided_by": {"Demo Panel"}, "data.rationale": {"Ahead of the evidence."}, "data.exception": {"true"}})
	require.Equal(t, http.StatusSeeOther, lic.status, lic.body)
	assert.Contains(t, b.get(orgPage).body, "<td>ORG-L-1</td>", "an organisation's licences on its page")

	form := b.get("/ui/practitioners/" + pid + "/events/new?type=CourseCompleted")
	require.Equal(t, http.StatusOK, form.status)
	assert.Contains(t, form.body, `<label for="f-course">Course`)

	before = e.count()
	for field, values := range map[string]url.Values{
		"f-course":      {"type": {"CourseCompleted"}, "occurred_on": {"2024-03-01"}, "data.course": {"juggling"}},
		"f-occurred_on": {"type": {"CourseCompleted"}, "occurred_on": {"2099-03-01"}, "data.course": {"foundation_b"}},
		"f-hours":       {"type": {"CPDEngagementRecorded"}, "occurred_on": {"2024-03-01"}, "data.kind": {"linked_cpd"}, "data.hours": {"two"}},
		"f-kind":        {"type": {"CPDEngagementRecorded"}, "occurred_on": {"2024-03-01"}},
	} {
		p := b.post("/ui/practitioners/"+pid+"/events", values)
		assert.Equal(t, http.StatusBadRequest, p.status, field)
		assert.Contains(t, p.body, `id="`+field+`-error"`, field)
		assert.Contains(t, p.body, `aria-invalid="true" aria-describedby="`+field+`-error"`, field)
	}
	assert.Equal(t, before, e.count())

	done := b.post("/ui/practitioners/"+pid+"/events", url.Values{"type": {"CourseCompleted"}, "occurred_on": {"2024-03-01"}, "data.course": {"foundation_b"}, "event_id": {"6b0f4a1e-0000-4000-8000-000000000001"}})
	require.Equal(t, http.StatusSeeOther, done.status, done.body)
	assert.Equal(t, before+1, e.count())
	again := b.post("/ui/practitioners/"+pid+"/events", url.Values{"type": {"CourseCompleted"}, "occurred_on": {"2024-03-01"}, "data.course": {"foundation_b"}, "event_id": {"6b0f4a1e-0000-4000-8000-000000000001"}})
	assert.Equal(t, http.StatusSeeOther, again.status, "a form sent twice")
	assert.Equal(t, before+1, e.count(), "records once")
	pg := b.get("/ui/practitioners/" + pid)
	assert.Contains(t, pg.body, "Recorded CourseCompleted")
	assert.Contains(t, pg.body, "course: foundation_b")
}

// TestEveryEventTypeHasAForm: the catalogue's every type can be recorded
// through a form on the streams it belongs to, each input labelled.
func TestEveryEventTypeHasAForm(t *testing.T) {
	e := newEnv(t, console.Options{})
	pid := e.practitioner("Casey Fictional", "2024-01-10")
	oid := e.organisation("Hillside Form School")
	b := e.signedIn(api.RoleAdmin)
	seen := 0
	for _, typ := range domain.Types() {
		info, _ := domain.Lookup(typ)
		for kind, base := range map[domain.StreamKind]string{domain.PractitionerStream: "/ui/practitioners/" + pid, domain.OrganisationStream: "/ui/organisations/" + oid} {
			if !info.AllowedIn(kind) || slices.Contains([]string{domain.TypePractitionerRegistered, domain.TypeOrganisationRegistered, domain.TypeDecisionReviewed, domain.TypePersonalDataErased}, typ) {
				assert.Equal(t, http.StatusBadRequest, b.get(base+"/events/new?type="+typ).status, "%s has no event form on %s", typ, kind)
				continue
			}
			p := b.get(base + "/events/new?type=" + typ)
			require.Equal(t, http.StatusOK, p.status, "%s on %s", typ, kind)
			assert.Equal(t, strings.Count(p.body, `<label for="f-`), strings.Count(p.body, ` id="f-`)-strings.Count(p.body, `-error"`), "%s: every input labelled", typ)
			seen++
		}
	}
	assert.Greater(t, seen, 30)
}

// TestDecisionForm: a decision is evaluated first (nothing stored), a
// refusal shows the missing requirement, an exception with a rationale
// reaches the QC queue, and a reviewer reviews it through the form.
func TestDecisionForm(t *testing.T) {
	e := newEnv(t, console.Options{})
	pid := e.practitioner("Casey Fictional", "2024-01-10")
	e.fact(pid, "CourseCompleted", "2024-02-05", `{"course":"foundation_a_part1"}`)
	admin := e.signedIn(api.RoleAdmin)
	grant := url.Values{"type": {"LicenceGranted"}, "occurred_on": {"2024-05-01"}, "data.licence_id": {"L-3A"}, "data.kind": {"level3a"},
		"data.valid_until": {"2025-05-01"}, "data.decided_by": {"Demo Panel"}, "data.rationale": {"Ahead of the evidence."}}

	before := e.count()
	ev := admin.post("/ui/practitioners/"+pid+"/events", grant)
	require.Equal(t, http.StatusOK, ev.status, ev.body)
	assert.Contains(t, ev.body, "The rules refuse this decision")
	assert.Contains(t, ev.body, "Missing:")
	assert.Contains(t, ev.body, "Evidence: CourseCompleted of 2024-02-05", "evidence named by type and date")
	assert.Contains(t, ev.body, `value="record"`, "the record button follows the evaluation")
	assert.Equal(t, before, e.count(), "evaluating stores nothing")

	grant.Set("action", "record")
	refused := admin.post("/ui/practitioners/"+pid+"/events", grant)
	assert.Equal(t, http.StatusUnprocessableEntity, refused.status)
	assert.Contains(t, refused.body, "Missing:")
	assert.Equal(t, before, e.count())

	grant.Set("data.exception", "true")
	grant.Set("data.rationale", "")
	norationale := admin.post("/ui/practitioners/"+pid+"/events", grant)
	assert.Equal(t, http.StatusBadRequest, norationale.status)
	assert.Contains(t, norationale.body, `id="f-rationale-error"`)
	assert.Equal(t, before, e.count())

	grant.Set("data.rationale", "Ahead of the evidence: the panel saw the course notes.")
	ok := admin.post("/ui/practitioners/"+pid+"/events", grant)
	require.Equal(t, http.StatusSeeOther, ok.status, ok.body)
	assert.Equal(t, before+1, e.count())

	reviewer := e.signedIn(api.RoleReviewer)
	queue := reviewer.get("/ui/decisions?status=exception")
	require.Equal(t, http.StatusOK, queue.status)
	m := regexpDecision.FindStringSubmatch(queue.body)
	require.NotNil(t, m, queue.body)
	decPath := m[1]
	dec := reviewer.get(decPath)
	require.Equal(t, http.StatusOK, dec.status)
	for _, want := range []string{"The evaluation when it was taken", "Evaluated again on everything known now", "Ahead of the evidence: the panel", "No review yet", `name="outcome"`, `name="notes"`} {
		assert.Contains(t, dec.body, want)
	}
	before = e.count()
	badOutcome := reviewer.post(decPath+"/reviews", url.Values{"outcome": {"shrug"}, "notes": {"?"}})
	assert.Equal(t, http.StatusBadRequest, badOutcome.status)
	assert.Contains(t, badOutcome.body, `id="outcome-error"`)
	assert.Equal(t, before, e.count())
	rv := reviewer.post(decPath+"/reviews", url.Values{"outcome": {"needs_information"}, "notes": {"The course certificates, please."}})
	require.Equal(t, http.StatusSeeOther, rv.status, rv.body)
	assert.Equal(t, before+1, e.count())
	after := reviewer.get(decPath)
	assert.Contains(t, after.body, "needs information")
	assert.Contains(t, after.body, "The course certificates, please.")
	assert.NotContains(t, reviewer.get("/ui/decisions?status=unreviewed").body, decPath)
}

// TestVerifyPage shows the result of the chain verification.
func TestVerifyPage(t *testing.T) {
	e := newEnv(t, console.Options{})
	e.practitioner("Casey Fictional", "2024-01-10")
	p := e.signedIn(api.RoleAuditor).get("/ui/verify")
	require.Equal(t, http.StatusOK, p.status)
	assert.Contains(t, p.body, "Every chain verifies: 1 events checked")
}

// TestDirectoryPaged: the public directory, a page at a time.
func TestDirectoryPaged(t *testing.T) {
	e := newEnv(t, console.Options{PageSize: 1})
	// Trainee Lead Professionals "can be listed on the I Matter informed
	// directory if they would like this"; a traineeship started days ago
	// is in good standing today.
	recent := time.Now().UTC().AddDate(0, 0, -3).Format(time.DateOnly)
	for _, n := range []string{"Alex Example", "Sam Sample"} {
		pid := e.practitioner(n, recent)
		for _, c := range []string{"foundation_a_part1", "foundation_a_part2", "foundation_b"} {
			e.fact(pid, "CourseCompleted", recent, `{"course":"`+c+`"}`)
		}
		e.fact(pid, "TraineeshipStarted", recent, `{"role":"lead_professional"}`)
		e.fact(pid, "DirectoryListingConsented", recent, `{"directory":"informed"}`)
	}
	b := e.browser()
	p1 := b.get("/ui/directory")
	require.Equal(t, http.StatusOK, p1.status)
	assert.Contains(t, p1.body, "Alex Example")
	assert.NotContains(t, p1.body, "Sam Sample")
	assert.Contains(t, p1.body, "Page 1 of 2")
	p2 := b.get("/ui/directory?page=2")
	assert.Contains(t, p2.body, "Sam Sample")
}

// TestErasedPractitioner: the console shows what the views give for an
// erased practitioner: the name as erased, the personal data gone from the
// timeline, the rest of the history kept.
func TestErasedPractitioner(t *testing.T) {
	e := newEnv(t, console.Options{})
	pid := e.apiPost("/v1/practitioners", `{"occurred_on":"2024-01-10","data":{"name":"Robin Erasable","email":"robin@example.org","profession":"education"}}`)
	e.fact(pid, "CourseCompleted", "2024-02-01", `{"course":"awareness"}`)
	b := e.signedIn(api.RoleAuditor)
	before := b.get("/ui/practitioners/" + pid)
	require.Equal(t, http.StatusOK, before.status)
	assert.Contains(t, before.body, "Robin Erasable")
	assert.Contains(t, before.body, "email: robin@example.org", "opened for a signed-in user")

	e.apiPost("/v1/practitioners/"+pid+"/erasure", `{"reason":"The practitioner asked for erasure."}`)
	for _, path := range []string{"/ui/practitioners/" + pid, "/ui/practitioners?q=robin", "/ui/practitioners/" + pid + "/history.csv", "/ui/practitioners/" + pid + "/history.json"} {
		p := b.get(path)
		require.Equal(t, http.StatusOK, p.status, path)
		assert.NotContains(t, p.body, "Robin", path)
		assert.NotContains(t, p.body, "robin@example.org", path)
	}
	after := b.get("/ui/practitioners/" + pid)
	assert.Contains(t, after.body, domain.ErasedName)
	assert.Contains(t, after.body, "personal data: erased")
	assert.Contains(t, after.body, "course: awareness", "the rest of the history stays")
}

// TestNoPageListsAWholeRegister: past 200 organisations the search filter
// and the forms ask for an organisation's id instead of listing them all.
func TestNoPageListsAWholeRegister(t *testing.T) {
	e := newEnv(t, console.Options{})
	pid := e.practitioner("Casey Fictional", "2024-01-10")
	for i := range 201 {
		e.organisation(fmt.Sprintf("Demo School %03d", i))
	}
	b := e.signedIn(api.RoleAdmin)
	list := b.get("/ui/practitioners")
	assert.Contains(t, list.body, `<input id="organisation_id" name="organisation_id" type="text"`)
	assert.NotContains(t, list.body, "Demo School 150")
	form := b.get("/ui/practitioners/" + pid + "/events/new?type=PractitionerJoinedOrganisation")
	assert.Contains(t, form.body, `<input id="f-organisation_id" name="data.organisation_id" type="text"`)
	orgs := b.get("/ui/organisations")
	assert.Equal(t, 25, strings.Count(orgs.body, `<a href="/ui/organisations/`), "the organisations page is paged")
}
