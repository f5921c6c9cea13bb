package console_test

import (
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/console"
)

// urlsIn are the link targets and form actions of a page, unescaped.
func urlsIn(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`(?:href|action)="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, strings.ReplaceAll(m[1], "&amp;", "&"))
	}
	return out
}

// assertNoName checks that no URL of p, its Location included, holds name
// in any case.
func assertNoName(t *testing.T, p page, name string) {
	t.Helper()
	urls := urlsIn(p.body)
	if loc := p.header.Get("Location"); loc != "" {
		urls = append(urls, loc)
	}
	for _, u := range urls {
		assert.NotContains(t, strings.ToLower(u), strings.ToLower(name), "a URL with the name searched for")
	}
}

// TestSearchKeepsNamesOutOfURLs: "no personal data in URLs beyond ids"
// (issue 13). The search form POSTs; the name stays in the session and the
// results, their paging links too, carry an opaque id in its place. GET
// ?q= still answers, for tools that drive the console, and its links carry
// the id too. Nothing of it reaches the request log.
func TestSearchKeepsNamesOutOfURLs(t *testing.T) {
	logs := &logBuffer{}
	e := newEnv(t, console.Options{PageSize: 1}, func(c *api.Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	for _, n := range []string{"Alex Example", "Sam Sample", "Alexis Demo"} {
		e.practitioner(n, "2024-01-10")
	}
	b := e.signedIn(api.RoleAuditor)

	list := b.get("/ui/practitioners")
	require.Equal(t, http.StatusOK, list.status)
	form := regexp.MustCompile(`(?s)<form [^>]*role="search".*?</form>`).FindString(list.body)
	require.NotEmpty(t, form)
	assert.Contains(t, form, `method="post" action="/ui/practitioners/search"`)
	assert.Contains(t, form, `name="csrf"`)

	sent := b.post("/ui/practitioners/search", url.Values{"q": {"  Alex "}, "level": {""}, "standing": {"good"}})
	require.Equal(t, http.StatusSeeOther, sent.status, sent.body)
	loc := sent.header.Get("Location")
	assert.Regexp(t, `^/ui/practitioners\?search=[A-Za-z0-9_-]{16}&standing=good$`, loc)
	assertNoName(t, sent, "alex")

	first := b.get(loc)
	require.Equal(t, http.StatusOK, first.status, first.body)
	assert.NotContains(t, first.body, "Sam Sample")
	assert.Contains(t, first.body, `value="Alex"`, "the form shows what was searched for")
	assertNoName(t, first, "alex")
	next := regexpNext.FindStringSubmatch(first.body)
	require.NotNil(t, next, "a next page")
	second := b.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	require.Equal(t, http.StatusOK, second.status)
	assert.NotContains(t, second.body, "Sam Sample", "the next page of the same search")
	both := first.body + second.body
	assert.Contains(t, both, "Alex Example")
	assert.Contains(t, both, "Alexis Demo")
	assertNoName(t, second, "alex")

	again := b.post("/ui/practitioners/search", url.Values{"q": {"Alex"}, "standing": {"good"}})
	assert.Equal(t, loc, again.header.Get("Location"), "the same search, the same id")

	t.Run("GET ?q= answers, and its links carry the id", func(t *testing.T) {
		p := b.get("/ui/practitioners?q=alex")
		require.Equal(t, http.StatusOK, p.status)
		assert.Regexp(t, `>Alex(is Demo| Example)</a>`, p.body)
		assert.NotContains(t, p.body, "Sam Sample")
		assertNoName(t, p, "alex")
		assert.Contains(t, p.body, "search=")
	})
	t.Run("a search id is its session's alone", func(t *testing.T) {
		other := e.signedIn(api.RoleAuditor)
		p := other.get(loc)
		assert.Equal(t, http.StatusSeeOther, p.status)
		assert.Equal(t, "/ui/practitioners?standing=good", p.header.Get("Location"), "the filters stay, the name is not known here")
		back := other.get(p.header.Get("Location"))
		assert.Contains(t, back.body, "That search has ended")
		assert.Contains(t, back.body, `<input id="q" name="q" type="search" value=""`, "another session's name is not shown")
	})
	t.Run("bad input", func(t *testing.T) {
		assert.Equal(t, http.StatusForbidden, b.post("/ui/practitioners/search", url.Values{"q": {"Alex"}, "csrf": {"forged"}}).status)
		assert.Equal(t, http.StatusBadRequest, b.post("/ui/practitioners/search", url.Values{"q": {strings.Repeat("x", 201)}}).status)
		assert.Equal(t, http.StatusBadRequest, b.get("/ui/practitioners?q=alex&search=x").status)
		assert.Equal(t, http.StatusUnauthorized, e.browser().post("/ui/practitioners/search", url.Values{"q": {"Alex"}}).status, "signed out")
	})
	b.get("/ui/no/such/page")
	assert.NotContains(t, strings.ToLower(logs.String()), "alex", "no name searched for in the request log")
	assert.NotContains(t, logs.String(), "?", "no query string in the request log")
	assert.Contains(t, logs.String(), "principal=auditor-1", "console requests are logged with their principal")
	assert.Contains(t, logs.String(), "method=POST route=/ui/practitioners/search status=303", "and their route pattern")
	assert.Contains(t, logs.String(), "method=GET route=/ui/practitioners status=200")
	assert.Contains(t, logs.String(), "method=GET route=/ui/* status=404", "a path no page serves: the pattern, not the path")
	assert.NotContains(t, logs.String(), "such")
}

// TestNoPersonalDataInURLs walks every page an admin sees for a
// practitioner with a name and an email: no link or form action holds
// either, and every form that GETs asks only for an event type, a moment
// or a page (a form's fields are in its URL when it GETs).
func TestNoPersonalDataInURLs(t *testing.T) {
	e := newEnv(t, console.Options{})
	org := e.organisation("Hillside Demo School")
	pid := e.apiPost("/v1/practitioners", `{"occurred_on":"2024-01-10","data":{"name":"Robin Findable","email":"robin@example.org","profession":"education"}}`)
	e.fact(pid, "PractitionerJoinedOrganisation", "2024-01-10", `{"organisation_id":"`+org+`"}`)
	dec := e.fact(pid, "LicenceGranted", "2024-05-01", `{"licence_id":"L-1","kind":"level3a","valid_until":"2025-05-01","decided_by":"Demo Panel","rationale":"Ahead of the evidence.","exception":true}`)
	b := e.signedIn(api.RoleAdmin)
	getFields := regexp.MustCompile(`(?s)<form method="get".*?</form>`)
	fieldName := regexp.MustCompile(`<(?:input|select|textarea)[^>]* name="([^"]+)"`)
	for _, path := range []string{
		"/ui/", "/ui/practitioners", "/ui/practitioners?q=robin", "/ui/practitioners/" + pid, "/ui/practitioners/" + pid + "?as_of=2024-06-01",
		"/ui/practitioners/" + pid + "/events/new", "/ui/practitioners/" + pid + "/events/new?type=CourseCompleted",
		"/ui/practitioners/new", "/ui/organisations", "/ui/organisations/" + org, "/ui/organisations/" + org + "/events/new",
		"/ui/decisions?status=all", "/ui/decisions/" + dec, "/ui/verify", "/ui/directory",
	} {
		p := b.get(path)
		require.Equal(t, http.StatusOK, p.status, path)
		assertNoName(t, p, "robin")
		assertNoName(t, p, "findable")
		assertNoName(t, p, "example.org")
		for _, f := range getFields.FindAllString(p.body, -1) {
			for _, m := range fieldName.FindAllStringSubmatch(f, -1) {
				assert.True(t, slices.Contains([]string{"type", "as_of", "known_at", "page", "status"}, m[1]),
					"%s: a form that GETs asks for %q", path, m[1])
			}
		}
	}
}

// TestFormsDrawnForAGETShowNoNameFromTheURL: a form's fields may be
// prefilled from its URL (the console's retract links do it with an event
// id), but never the practitioner's name or email: they would have
// travelled in the URL.
func TestFormsDrawnForAGETShowNoNameFromTheURL(t *testing.T) {
	e := newEnv(t, console.Options{})
	pid := e.practitioner("Casey Fictional", "2024-01-10")
	b := e.signedIn(api.RoleAdmin)
	personal := "data.name=Robin+Findable&data.email=robin%40example.org"
	for _, path := range []string{
		"/ui/practitioners/new?data.profession=health&" + personal,
		"/ui/practitioners/" + pid + "/events/new?type=PractitionerDetailsChanged&data.profession=health&" + personal,
	} {
		p := b.get(path)
		require.Equal(t, http.StatusOK, p.status, path)
		assert.NotContains(t, p.body, "Robin", path)
		assert.NotContains(t, p.body, "robin@example.org", path)
		assert.Regexp(t, `<option value="health" selected>`, p.body, "%s: other fields are prefilled", path)
	}
}
