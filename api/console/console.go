package console

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/projections"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Options tune the console; the zero value is the default.
type Options struct {
	// IdleTimeout ends a session not used for this long (default 30 minutes).
	IdleTimeout time.Duration
	// MaxLifetime ends a session this long after sign-in whatever its use
	// (default 12 hours).
	MaxLifetime time.Duration
	// PageSize is the length of every list page (default 25).
	PageSize int
}

// New returns the console for api.Config.UI.
func New(opts Options) api.UIFunc {
	return func(d api.UIDeps) http.Handler { return newConsole(d, opts).handler() }
}

// console serves the pages. Safe for concurrent use.
type console struct {
	d        api.UIDeps
	opts     Options
	sessions *sessions
	pages    map[string]*template.Template
	static   http.Handler
}

func newConsole(d api.UIDeps, opts Options) *console {
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 30 * time.Minute
	}
	if opts.MaxLifetime <= 0 {
		opts.MaxLifetime = 12 * time.Hour
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 25
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	c := &console{d: d, opts: opts, sessions: newSessions(opts.IdleTimeout, opts.MaxLifetime, d.Now)}
	c.pages = parsePages()
	sub, _ := fs.Sub(assets, "static")
	c.static = http.StripPrefix("/ui/static/", http.FileServerFS(sub))
	return c
}

// parsePages parses each page template with the layout around it.
func parsePages() map[string]*template.Template {
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || base == "partials" {
			continue
		}
		t := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/partials.html", n))
		out[base] = t
	}
	return out
}

// handler is the console's router, to be mounted at /ui.
func (c *console) handler() http.Handler {
	r := chi.NewRouter()
	r.Get("/static/*", c.staticAsset)
	r.Get("/", c.page(anyRole, c.home))
	r.Get("/signin", c.signinForm)
	r.Post("/signin", c.signin)
	r.Post("/signout", c.signout)
	r.Get("/directory", c.directory)
	r.Get("/practitioners", c.page(anyRole, c.practitioners))
	r.Post("/practitioners/search", c.page(anyRole, c.search))
	r.Get("/practitioners/new", c.page(adminOnly, c.registerForm(domain.PractitionerStream)))
	r.Post("/practitioners", c.page(adminOnly, c.register(domain.PractitionerStream)))
	r.Get("/practitioners/{id}", c.page(anyRole, c.practitioner))
	r.Get("/practitioners/{id}/history.json", c.page(anyRole, c.historyJSON))
	r.Get("/practitioners/{id}/history.csv", c.page(anyRole, c.historyCSV))
	r.Get("/practitioners/{id}/events/new", c.page(adminOnly, c.eventForm(domain.PractitionerStream)))
	r.Post("/practitioners/{id}/events", c.page(adminOnly, c.recordEvent(domain.PractitionerStream)))
	r.Get("/organisations", c.page(anyRole, c.organisations))
	r.Get("/organisations/new", c.page(adminOnly, c.registerForm(domain.OrganisationStream)))
	r.Post("/organisations", c.page(adminOnly, c.register(domain.OrganisationStream)))
	r.Get("/organisations/{id}", c.page(anyRole, c.organisation))
	r.Get("/organisations/{id}/events/new", c.page(adminOnly, c.eventForm(domain.OrganisationStream)))
	r.Post("/organisations/{id}/events", c.page(adminOnly, c.recordEvent(domain.OrganisationStream)))
	r.Get("/decisions", c.page(anyRole, c.decisions))
	r.Get("/decisions/{event_id}", c.page(anyRole, c.decision))
	r.Post("/decisions/{event_id}/reviews", c.page(reviewerOnly, c.review))
	r.Get("/verify", c.page(auditors, c.verify))
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, nil, domain.Errorf(domain.ENOTFOUND, "", "There is no page at %s.", r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, nil, domain.Errorf(domain.EINVALID, "", "%s is not allowed here.", r.Method))
	})
	// Cross-origin POSTs (a form on another site riding the session cookie)
	// are refused before any handler runs, by the browser's own
	// Sec-Fetch-Site or Origin; the per-session token below covers browsers
	// that send neither.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, nil, domain.Errorf(domain.EFORBIDDEN, "", "This form was sent from another site; nothing was recorded."))
	}))
	// Outermost, so that every response has them, refusals included.
	return securityHeaders(c.limit(cop.Handler(r)))
}

// securityHeaders go on every console response: no script at all, no
// framing, no referrer (URLs hold ids), no sniffing, and no copy kept by
// any cache (a page shows personal data, and carries the session's CSRF
// token). Only the static assets and the directory signed out, the same
// for everyone, say otherwise.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// staticAsset serves the style sheet: the same for everyone, so any cache
// may keep it for an hour. Anything else under /static (a directory, a
// name that is not there) is the console's 404, kept by no cache.
func (c *console) staticAsset(w http.ResponseWriter, r *http.Request) {
	if fi, err := fs.Stat(assets, "static/"+chi.URLParam(r, "*")); err != nil || !fi.Mode().IsRegular() {
		c.renderError(w, r, c.current(r), domain.Errorf(domain.ENOTFOUND, "", "There is no page at %s.", r.URL.Path))
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	c.static.ServeHTTP(w, r)
}

// access is the roles a page admits, as in api/routes.go.
type access []api.Role

var (
	anyRole      = access{api.RoleAdmin, api.RoleReviewer, api.RoleAuditor}
	adminOnly    = access{api.RoleAdmin}
	reviewerOnly = access{api.RoleReviewer}
	auditors     = access{api.RoleAdmin, api.RoleAuditor}
)

// req is one signed-in request: its session and principal.
type req struct {
	s *session
	p api.Principal
}

// handlerFunc is a signed-in page: it writes the page, or returns an error
// for renderError.
type handlerFunc func(w http.ResponseWriter, r *http.Request, q *req) error

// limit charges every console request to the rate-limit bucket the API
// would: a signed-in session's to its token's, anything else to its
// address's, as the API charges a request without a valid token. Too many
// get 429 before anything else runs. The session found is kept for the
// handler, so that the one charged is the one served.
func (c *console) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := c.session(r)
		r = r.WithContext(context.WithValue(r.Context(), reqKey{}, q))
		if c.d.Limit != nil {
			var p api.Principal
			if q != nil {
				p = q.p
			}
			done, err := c.d.Limit(w, r, p)
			if err != nil {
				c.renderError(w, r, q, err)
				return
			}
			defer done()
		}
		next.ServeHTTP(w, r)
	})
}

// reqKey is the context key of the request's *req (nil signed out).
type reqKey struct{}

// current returns the request's live session and its principal, as limit
// found them.
func (c *console) current(r *http.Request) *req {
	if q, ok := r.Context().Value(reqKey{}).(*req); ok {
		return q
	}
	return c.session(r)
}

// session finds the request's live session and its principal, checking
// the token again: a token revoked or expired since sign-in ends the
// session there and then.
func (c *console) session(r *http.Request) *req {
	ck, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	ss := c.sessions.get(ck.Value)
	if ss == nil {
		return nil
	}
	p, err := c.d.Tokens.Authenticate(ss.token)
	if err != nil {
		c.sessions.end(ss.id)
		return nil
	}
	return &req{s: ss, p: p}
}

// page wraps a signed-in page: signed out it sends the browser to the
// sign-in form; a role not admitted gets 403; a POST must carry the
// session's CSRF token (403 otherwise, before anything is read or stored).
func (c *console) page(roles access, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := c.current(r)
		if q == nil {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				c.renderError(w, r, nil, domain.Errorf(domain.EUNAUTHORIZED, "", "You are signed out (your session ended); sign in again. Nothing was recorded."))
				return
			}
			http.Redirect(w, r, "/ui/signin?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
			return
		}
		if !slices.Contains(roles, q.p.Role) {
			c.renderError(w, r, q, domain.Errorf(domain.EFORBIDDEN, "", "The %s role may not use this page.", q.p.Role))
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, api.DefaultMaxBodyBytes)
			if err := r.ParseForm(); err != nil {
				c.renderError(w, r, q, domain.Errorf(domain.EINVALID, "", "The form could not be read."))
				return
			}
			if !q.s.validCSRF(r.PostForm.Get("csrf")) {
				c.renderError(w, r, q, domain.Errorf(domain.EFORBIDDEN, "", "This form has expired or did not come from this console; nothing was recorded. Reload the page and try again."))
				return
			}
		}
		if err := h(w, r, q); err != nil {
			c.renderError(w, r, q, err)
		}
	}
}

// view is what every page template gets.
type view struct {
	Title string
	// User is the signed-in principal, nil when signed out.
	User  *api.Principal
	CSRF  string
	Flash string
	// Nav marks the current section for aria-current.
	Nav  string
	Data any
}

// render writes page name with data, status 200 unless given.
func (c *console) render(w http.ResponseWriter, r *http.Request, q *req, status int, name, title, nav string, data any) {
	t, ok := c.pages[name]
	if !ok {
		panic("console: no template " + name)
	}
	v := view{Title: title, Nav: nav, Data: data}
	if q != nil {
		p := q.p
		v.User, v.CSRF = &p, q.s.csrf
		v.Flash = c.sessions.takeFlash(q.s)
	}
	var b strings.Builder
	if err := t.Execute(&b, v); err != nil {
		c.d.Logger.Error("console: render", slog.String("page", name), slog.String("error", err.Error()))
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// errorPage is the data of the error page.
type errorPage struct {
	Status  int
	Message string
	Eval    *domain.Evaluation
}

// renderError writes err as a page with the status the API would give it.
func (c *console) renderError(w http.ResponseWriter, r *http.Request, q *req, err error) {
	code := api.Code(err)
	status := api.ErrorStatus(code)
	msg := errorText(err, code)
	if status >= 500 {
		c.d.Logger.Error("console: request failed", slog.String("code", code), slog.String("error", err.Error()))
	}
	if errors.Is(err, projections.ErrNotReady) {
		w.Header().Set("Retry-After", "1")
	}
	c.render(w, r, q, status, "error", http.StatusText(status), "", errorPage{Status: status, Message: msg, Eval: domain.ErrorEvaluation(err)})
}

// errorText is what may be shown of err: a domain error's own words, or a
// plain sentence for the rest (internal detail stays in the log).
func errorText(err error, code string) string {
	var de *domain.Error
	if errors.As(err, &de) {
		return de.Error()
	}
	switch code {
	case domain.ECONFLICT:
		return "The record moved on while this was being saved; reload the page and try again."
	case api.EUNAVAILABLE:
		return "The ledger is starting or cannot reach its store; retry in a moment."
	case api.ETOOLARGE:
		return "The form is larger than the ledger accepts."
	case api.ERATELIMITED:
		return err.Error() // how long to wait
	}
	return "Internal error."
}

// today is the console's current date, the default as_of.
func (c *console) today() domain.Date { return domain.DateOf(c.d.Now().UTC()) }

// settle waits, boundedly, for the read models to include pos, after an
// append this console made, so that the next page shows it.
func (c *console) settle(ctx context.Context, pos eventstore.Position) {
	if c.d.Acknowledged != nil {
		c.d.Acknowledged(pos)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_ = c.d.Projector.WaitFor(ctx, pos)
}

// ready waits, boundedly, for the read models to be built after a start,
// ready, and to include every append the server acknowledged, API and
// console alike, so that a list drawn just after a write shows it. A list
// is never drawn from models that are not ready: the error says so (503).
func (c *console) ready(ctx context.Context) error {
	if c.d.ReadYourWrites != nil {
		return c.d.ReadYourWrites(ctx)
	}
	if c.d.Projector.Loaded() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return c.d.Projector.WaitLoaded(ctx)
}

// redirectFlash sends the browser to path with a one-time message.
func (c *console) redirectFlash(w http.ResponseWriter, r *http.Request, q *req, path, msg string) {
	c.sessions.setFlash(q.s, msg)
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// notFound is the error for an id that names nothing.
func notFound(what string) error {
	return domain.Errorf(domain.ENOTFOUND, "", "No %s has this id.", what)
}

// invalidf is an invalid-input error naming field.
func invalidf(field, format string, args ...any) error {
	return domain.Errorf(domain.EINVALID, field, format, args...)
}
