package console_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/auth"
	"github.com/imattertraining/ledger/api/console"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/bolt"
	"github.com/imattertraining/ledger/eventstore/keystore"
	"github.com/imattertraining/ledger/projections"
)

// clock is a settable clock for the server, starting at the real time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logBuffer collects the server's error log.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// env is the real server, console mounted, on a loopback port over the
// embedded store in a temporary directory, with one token per role.
type env struct {
	t      testing.TB
	dir    string
	srv    *api.Server
	store  *bolt.Store
	tokens map[api.Role]string
	toks   *api.Tokens
	clock  *clock
}

func newEnv(t testing.TB, opts console.Options, cfgs ...func(*api.Config)) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), tokens: map[api.Role]string{}, clock: &clock{t: time.Now()}}
	e.toks = auth.Open(e.dir)
	for _, r := range api.Roles {
		tok, err := e.toks.Add(string(r)+"-1", r, 0)
		require.NoError(t, err)
		e.tokens[r] = tok
	}
	store, err := bolt.Open(filepath.Join(e.dir, "events.db"), bolt.Options{})
	require.NoError(t, err)
	keys, err := keystore.Open(e.dir)
	require.NoError(t, err)
	proj, err := projections.New(store, projections.Options{Keys: keys})
	require.NoError(t, err)
	logs := &logBuffer{}
	cfg := api.Config{Store: store, Projector: proj, Tokens: e.toks, Now: e.clock.now, UI: console.New(opts), Keys: keys,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError}))}
	for _, f := range cfgs {
		f(&cfg)
	}
	srv, err := api.NewServer(cfg)
	require.NoError(t, err)
	require.NoError(t, srv.Open("127.0.0.1:0"))
	e.srv, e.store = srv, store
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, srv.Close(ctx))
		require.NoError(t, store.Close())
		assert.Empty(t, logs.String(), "no page failed to render, no request failed inside")
	})
	return e
}

// count is how many events the store holds.
func (e *env) count() int {
	e.t.Helper()
	n := 0
	for _, err := range e.store.ReadAll(context.Background(), eventstore.Start) {
		require.NoError(e.t, err)
		n++
	}
	return n
}

// apiPost sends a JSON body to the API as admin and returns the decoded
// id or event_id of a 201.
func (e *env) apiPost(path, body string) string {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.srv.URL()+path, strings.NewReader(body))
	require.NoError(e.t, err)
	req.Header.Set("Authorization", "Bearer "+e.tokens[api.RoleAdmin])
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(e.t, http.StatusCreated, resp.StatusCode, "%s", b)
	m := regexp.MustCompile(`"(?:id|event_id)":"([0-9a-f-]{36})"`).FindSubmatch(b)
	require.NotNil(e.t, m, "%s", b)
	return string(m[1])
}

func (e *env) practitioner(name, on string) string {
	return e.apiPost("/v1/practitioners", `{"occurred_on":"`+on+`","data":{"name":"`+name+`","profession":"education"}}`)
}

func (e *env) organisation(name string) string {
	return e.apiPost("/v1/organisations", `{"occurred_on":"2024-01-08","data":{"name":"`+name+`","kind":"school","registered_service":true}}`)
}

func (e *env) fact(pid, typ, on, data string) string {
	return e.apiPost("/v1/practitioners/"+pid+"/events", `{"type":"`+typ+`","occurred_on":"`+on+`","data":`+data+`}`)
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	t    testing.TB
	e    *env
	c    *http.Client
	csrf string
}

type page struct {
	status int
	header http.Header
	body   string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, e: e, c: &http.Client{
		Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	p := page{status: resp.StatusCode, header: resp.Header, body: string(body)}
	if m := csrfRE.FindStringSubmatch(p.body); m != nil {
		b.csrf = m[1]
	}
	return p
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, err := http.NewRequest("GET", b.e.srv.URL()+path, nil)
	require.NoError(b.t, err)
	return b.do(req)
}

// post sends a form, with the session's CSRF token unless the form has a
// "csrf" of its own; headers are name, value pairs.
func (b *browser) post(path string, form url.Values, headers ...string) page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok && b.csrf != "" {
		form.Set("csrf", b.csrf)
	}
	req, err := http.NewRequest("POST", b.e.srv.URL()+path, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

// signin signs in with role's token and loads the start page (which
// carries the CSRF token).
func (b *browser) signin(role api.Role) *browser {
	b.t.Helper()
	p := b.post("/ui/signin", url.Values{"token": {b.e.tokens[role]}, "next": {"/ui/"}})
	require.Equal(b.t, http.StatusSeeOther, p.status, "%s", p.body)
	home := b.get("/ui/")
	require.Equal(b.t, http.StatusOK, home.status, "%s", home.body)
	require.NotEmpty(b.t, b.csrf)
	return b
}

func (e *env) signedIn(role api.Role) *browser { return e.browser().signin(role) }

var (
	regexpNext     = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
	regexpDecision = regexp.MustCompile(`<a href="(/ui/decisions/[0-9a-f-]{36})">`)
)
