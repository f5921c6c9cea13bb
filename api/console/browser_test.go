package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/console"
)

// The browser tests drive the console in headless Chromium and run
// axe-core in every page they visit. They need:
//   - Chromium: $LEDGER_CHROMIUM, or chromium (Debian's package) or
//     chromium-browser or google-chrome on the PATH;
//   - axe-core: $AXE_CORE_JS naming axe.min.js (npm install axe-core), or
//     node_modules/axe-core/axe.min.js in this directory or the module's,
//     or the copy .ci/run installs in the user's cache directory.
//
// .ci/run installs both and sets CI=true, where a missing one fails the
// test; elsewhere it is skipped, saying what to install. Screenshots of
// the main pages go to $LEDGER_SCREENSHOTS (default: a directory under the
// system's temporary directory, named in the log).

// chromiumPath finds the browser, or says why not.
func chromiumPath() (string, error) {
	if p := os.Getenv("LEDGER_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium found: install Debian's chromium package (apt-get install -y chromium) or set LEDGER_CHROMIUM")
}

// axePath finds axe-core's axe.min.js, or says why not.
func axePath() (string, error) {
	cands := []string{os.Getenv("AXE_CORE_JS"), "node_modules/axe-core/axe.min.js", "../../node_modules/axe-core/axe.min.js"}
	if cache, err := os.UserCacheDir(); err == nil {
		cands = append(cands, filepath.Join(cache, "ledger-ci", "axe-core-4.14.1", "node_modules", "axe-core", "axe.min.js")) // where .ci/run puts it
	}
	for _, p := range cands {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("axe-core not found: npm install axe-core and set AXE_CORE_JS to its axe.min.js")
}

// needBrowser returns Chromium's and axe's paths; without them the test is
// skipped, except in CI (CI=true), where it fails.
func needBrowser(t *testing.T) (string, string) {
	t.Helper()
	chrome, err1 := chromiumPath()
	axe, err2 := axePath()
	for _, err := range []error{err1, err2} {
		if err == nil {
			continue
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser tests must run in CI: %v (.ci/run installs it)", err)
		}
		t.Skipf("browser tests skipped: %v", err)
	}
	return chrome, axe
}

// tab is one browser tab on the console, checking every page it visits.
type tab struct {
	t     *testing.T
	ctx   context.Context
	base  string
	axe   string
	shots string
}

func newTab(t *testing.T, base string) *tab {
	chrome, axePath := needBrowser(t)
	axe, err := os.ReadFile(axePath)
	require.NoError(t, err)
	shots := os.Getenv("LEDGER_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(os.TempDir(), "ledger-console-screenshots")
	}
	require.NoError(t, os.MkdirAll(shots, 0o755))
	t.Logf("screenshots in %s", shots)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1100, 900)))
	return &tab{t: t, ctx: ctx, base: base, axe: string(axe), shots: shots}
}

// run runs actions, failing the test on an error.
func (b *tab) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, actions...))
}

func eval[T any](b *tab, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	require.NoError(b.t, err, js)
	return v
}

// open navigates to path and checks the page.
func (b *tab) open(path string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.base + path))
	b.check(path)
}

// submit clicks sel (a submit button) and waits for the next page, then
// checks it.
func (b *tab) submit(sel string) {
	b.t.Helper()
	eval[bool](b, `window.__before = true`)
	b.run(chromedp.Click(chromedp.CSS(sel)))
	deadline := time.Now().Add(20 * time.Second)
	for {
		done, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.__before === undefined && document.readyState === "complete"`))
		if err == nil && done {
			break
		}
		require.True(b.t, time.Now().Before(deadline), "no new page after clicking %s", sel)
		time.Sleep(30 * time.Millisecond)
	}
	b.check("after " + sel)
}

// location is the page's path and query.
func (b *tab) location() string {
	b.t.Helper()
	return eval[string](b, `location.pathname + location.search`)
}

// text is the page's visible text.
func (b *tab) text() string {
	b.t.Helper()
	return eval[string](b, `document.body.innerText`)
}

// check runs axe-core in the page: no critical or serious violation. The
// console's CSP allows no script, so axe is evaluated through the DevTools
// protocol, as a tester's console would.
func (b *tab) check(where string) {
	b.t.Helper()
	if !eval[bool](b, `typeof window.axe !== "undefined"`) {
		eval[bool](b, b.axe+"\n;true")
	}
	js := `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
		.filter(v => v.impact === "critical" || v.impact === "serious")
		.map(v => v.impact + " " + v.id + ": " + v.help + " at " + v.nodes.map(n => n.target.join(" ")).join(", ")))`
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](js, chromedp.EvalAwaitPromise))
	require.NoError(b.t, err)
	assert.Empty(b.t, v, "axe-core on %s (%s)", b.location(), where)
}

// shot saves a screenshot of the viewport as name.png.
func (b *tab) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	require.NoError(b.t, err)
	require.NoError(b.t, os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644))
}

func (b *tab) set(sel, value string) {
	b.t.Helper()
	b.run(chromedp.SetValue(chromedp.CSS(sel), value))
}

// TestBrowser walks the console as its users do, in headless Chromium,
// with axe-core checking every page visited.
func TestBrowser(t *testing.T) {
	e := newEnv(t, console.Options{})
	org := e.organisation("Hillside Demo Primary School")
	pid := e.practitioner("Casey Fictional", "2024-01-10")
	e.fact(pid, "PractitionerJoinedOrganisation", "2024-01-10", `{"organisation_id":"`+org+`"}`)
	for _, c := range []string{"foundation_a_part1", "foundation_a_part2"} {
		e.fact(pid, "CourseCompleted", "2024-02-05", `{"course":"`+c+`"}`)
	}
	time.Sleep(5 * time.Millisecond)
	between := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(5 * time.Millisecond)
	e.fact(pid, "CourseCompleted", "2024-03-11", `{"course":"foundation_b"}`)
	e.practitioner("Sam Sample", "2024-03-04")

	b := newTab(t, e.srv.URL())

	t.Run("signed out, a page redirects to the sign-in form", func(t *testing.T) {
		b.t = t
		b.open("/ui/practitioners")
		assert.Equal(t, "/ui/signin?next=%2Fui%2Fpractitioners", b.location())
		assert.Equal(t, "token", eval[string](b, `document.querySelector("label[for=token]").textContent.toLowerCase() === "token" ? document.getElementById("token").name : ""`))
		b.shot("signin")
		b.open("/ui/directory")
		assert.Contains(t, b.text(), "Directory")
	})
	t.Run("sign in", func(t *testing.T) {
		b.t = t
		b.open("/ui/signin?next=%2Fui%2Fpractitioners")
		b.set("#token", e.tokens[api.RoleAdmin])
		b.submit(`form[action="/ui/signin"] button[type=submit]`)
		assert.Equal(t, "/ui/practitioners", b.location())
		assert.Contains(t, b.text(), "Signed in as admin-1")
		assert.False(t, eval[bool](b, `document.cookie.includes("ledger_session")`), "HttpOnly: no script sees the cookie")
	})
	t.Run("search", func(t *testing.T) {
		b.t = t
		b.set("#q", "casey")
		b.submit(`form[role=search] button[type=submit]`)
		assert.Regexp(t, `^/ui/practitioners\?search=[A-Za-z0-9_-]+$`, b.location(), "the name stays out of the URL")
		txt := b.text()
		assert.Contains(t, txt, "Casey Fictional")
		assert.NotContains(t, txt, "Sam Sample")
		b.shot("practitioners")
		b.submit(`table a[href^="/ui/practitioners/"]`)
		assert.Equal(t, "/ui/practitioners/"+pid, b.location())
		assert.Contains(t, b.text(), "Level 1")
		assert.Contains(t, b.text(), "as known now")
		b.shot("practitioner")
		chart, err := chromedp.Run(b.ctx, chromedp.Screenshot(chromedp.CSS(`section[aria-labelledby="h-chart"]`)))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(b.shots, "practitioner-chart.png"), chart, 0o644))
	})
	t.Run("as of a past date, and as known at a past time", func(t *testing.T) {
		b.t = t
		b.set("#as_of", "2024-02-10")
		b.submit(`form.moment-form button[type=submit]`)
		assert.Contains(t, b.text(), "as of 2024-02-10")
		assert.Equal(t, "Level 0", eval[string](b, `document.querySelector("h1 .level").textContent`))
		b.open("/ui/practitioners/" + pid + "?known_at=" + between)
		assert.Contains(t, b.text(), "as known at "+between)
		assert.Equal(t, "Level 0", eval[string](b, `document.querySelector("h1 .level").textContent`), "foundation_b was not known then")
		b.shot("practitioner-known-at")
	})
	t.Run("record a course completion through the form", func(t *testing.T) {
		b.t = t
		before := e.count()
		b.open("/ui/practitioners/" + pid + "/events/new?type=CourseCompleted")
		b.set("#f-occurred_on", "2024-06-03")
		b.set("#f-course", "intermediate_a")
		b.shot("form-course")
		b.submit(`form[method=post] button[value=record]`)
		assert.Equal(t, "/ui/practitioners/"+pid, b.location())
		assert.Contains(t, b.text(), "Recorded CourseCompleted")
		assert.Contains(t, b.text(), "course: intermediate_a")
		assert.Equal(t, before+1, e.count())
	})
	grantForm := func() {
		b.open("/ui/practitioners/" + pid + "/events/new?type=LicenceGranted")
		b.set("#f-occurred_on", "2024-07-01")
		b.set("#f-licence_id", "L-3A-1")
		b.set("#f-kind", "level3a")
		b.set("#f-valid_until", "2025-07-01")
		b.set("#f-decided_by", "Licensing panel (demo)")
		b.set("#f-rationale", "The panel saw the course notes before the certificates.")
	}
	t.Run("a refused decision shows its message", func(t *testing.T) {
		b.t = t
		before := e.count()
		grantForm()
		b.submit(`button[value=evaluate]`)
		assert.Contains(t, b.text(), "The rules refuse this decision")
		assert.Contains(t, b.text(), "Missing:")
		b.shot("decision-evaluated")
		b.submit(`button[value=record]`)
		assert.Contains(t, b.text(), "refused")
		assert.Contains(t, b.text(), "Missing:")
		assert.Equal(t, before, e.count())
	})
	var decision string
	t.Run("an exception reaches the QC queue", func(t *testing.T) {
		b.t = t
		grantForm()
		b.submit(`button[value=evaluate]`)
		b.run(chromedp.Click(chromedp.CSS("#f-exception")))
		b.submit(`button[value=record]`)
		assert.Contains(t, b.text(), "Recorded LicenceGranted")
		b.open("/ui/decisions?status=exception")
		assert.Contains(t, b.text(), "LicenceGranted")
		decision = eval[string](b, `document.querySelector('table a[href^="/ui/decisions/"]').getAttribute("href")`)
		b.shot("qc-queue")
	})
	t.Run("every other page passes axe too", func(t *testing.T) {
		b.t = t
		for _, path := range []string{"/ui/", "/ui/organisations", "/ui/organisations/" + org, "/ui/practitioners/new", "/ui/organisations/new",
			"/ui/decisions?status=all", "/ui/verify", "/ui/practitioners/" + pid + "/events/new", "/ui/nowhere",
			"/ui/organisations/" + org + "/events/new?type=LicenceGranted"} {
			b.open(path)
		}
		assert.Contains(t, b.text(), "Record LicenceGranted for Hillside Demo Primary School")
		b.open("/ui/practitioners/" + pid + "/events/new?type=CourseCompleted")
		b.set("#f-course", "")
		b.submit(`form[method=post] button[value=record]`)
		assert.Contains(t, b.text(), "Some fields need attention")
		b.shot("form-errors")
	})
	t.Run("sign out", func(t *testing.T) {
		b.t = t
		b.submit(`form.signout button`)
		assert.Contains(t, b.text(), "You are signed out")
		b.open("/ui/decisions")
		assert.True(t, strings.HasPrefix(b.location(), "/ui/signin"), b.location())
	})
	t.Run("a review through the form", func(t *testing.T) {
		b.t = t
		require.NotEmpty(t, decision)
		b.open("/ui/signin?next=" + decision)
		b.set("#token", e.tokens[api.RoleReviewer])
		b.submit(`form[action="/ui/signin"] button[type=submit]`)
		assert.Equal(t, decision, b.location())
		assert.Contains(t, b.text(), "The evaluation when it was taken")
		before := e.count()
		b.set("#outcome", "needs_information")
		b.set("#notes", "The course certificates, please.")
		b.shot("decision-review")
		b.submit(`form[action$="/reviews"] button[type=submit]`)
		assert.Contains(t, b.text(), "Review recorded")
		assert.Contains(t, b.text(), "The course certificates, please.")
		assert.Equal(t, before+1, e.count())
	})
	t.Run("a forged POST from another origin is refused", func(t *testing.T) {
		b.t = t
		before := e.count()
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, `<!doctype html><html lang="en"><title>Prize</title><body>
<form method="post" action="%s/ui/practitioners/%s/events"><input name="type" value="CourseCompleted"><input name="occurred_on" value="2024-03-01"><input name="data.course" value="deep_dive"></form>
<script>document.forms[0].submit()</script></body></html>`, e.srv.URL(), pid)
		}))
		defer evil.Close()
		b.run(chromedp.Navigate(strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)))
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(b.location(), "/ui/practitioners/") && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		assert.Contains(t, b.text(), "another site")
		assert.Equal(t, before, e.count(), "nothing stored")
	})
	t.Run("on a phone-sized screen", func(t *testing.T) {
		b.t = t
		b.run(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		b.open("/ui/practitioners/" + pid)
		assert.True(t, eval[bool](b, `document.documentElement.scrollWidth <= window.innerWidth + 1`), "no sideways scrolling")
		b.shot("practitioner-phone")
		b.open("/ui/directory")
		b.shot("directory-phone")
	})
}
