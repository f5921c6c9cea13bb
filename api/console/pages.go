package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/record"
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/projections"
)

// signinPage is the sign-in form's data.
type signinPage struct {
	Next    string
	Message string
	Error   string
}

// safeNext keeps a post-sign-in destination inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/ui/"
	}
	return next
}

func (c *console) signinForm(w http.ResponseWriter, r *http.Request) {
	if q := c.current(r); q != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	msg := ""
	if r.URL.Query().Get("next") != "" {
		msg = "Sign in to see this page."
	}
	c.render(w, r, nil, http.StatusOK, "signin", "Sign in", "signin", signinPage{Next: safeNext(r.URL.Query().Get("next")), Message: msg})
}

// signin checks the token and starts a session. The token goes no further
// than the session store: the browser gets only a random session id.
func (c *console) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		c.render(w, r, nil, http.StatusBadRequest, "signin", "Sign in", "signin", signinPage{Next: "/ui/", Error: "The form could not be read."})
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	token := strings.TrimSpace(r.PostForm.Get("token"))
	p, err := c.d.Tokens.Authenticate(token)
	if token == "" || err != nil {
		msg := "This token is not valid. Check it and try again."
		if token == "" {
			msg = "Enter your token."
		} else if c.d.SignInFailed != nil {
			c.d.SignInFailed(r)
		}
		c.render(w, r, nil, http.StatusUnauthorized, "signin", "Sign in", "signin", signinPage{Next: next, Error: msg})
		return
	}
	if ck, err := r.Cookie(cookieName); err == nil {
		c.sessions.end(ck.Value) // never carry a session id over a sign-in
	}
	ss := c.sessions.create(token)
	c.setCookie(w, r, ss.id, 0)
	c.sessions.setFlash(ss, "Signed in as "+p.Name+" ("+string(p.Role)+").")
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signout ends the session. It needs the session's CSRF token, so that no
// other site can sign a user out.
func (c *console) signout(w http.ResponseWriter, r *http.Request) {
	q := c.current(r)
	if q != nil {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil || !q.s.validCSRF(r.PostForm.Get("csrf")) {
			c.renderError(w, r, q, domain.Errorf(domain.EFORBIDDEN, "", "This form has expired or did not come from this console."))
			return
		}
		c.sessions.end(q.s.id)
	}
	c.setCookie(w, r, "", -1)
	c.render(w, r, nil, http.StatusOK, "signin", "Signed out", "signin", signinPage{Next: "/ui/", Message: "You are signed out."})
}

// home is the signed-in start page.
func (c *console) home(w http.ResponseWriter, r *http.Request, q *req) error {
	c.render(w, r, q, http.StatusOK, "home", "Console", "home", nil)
	return nil
}

// pager is offset paging over a list already in memory.
type pager struct {
	Page, Pages, Total int
	Prev, Next         string
}

// paginate returns the bounds of page n (from the request's "page") of
// total items and the links to its neighbours.
func (c *console) paginate(r *http.Request, total int) (lo, hi int, p pager, err error) {
	n := 1
	if s := r.URL.Query().Get("page"); s != "" {
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			return 0, 0, p, invalidf("page", "%q is not a page number", s)
		}
	}
	size := c.opts.PageSize
	p = pager{Page: n, Total: total, Pages: max(1, (total+size-1)/size)}
	if n > p.Pages {
		return 0, 0, p, domain.Errorf(domain.ENOTFOUND, "page", "There is no page %d; the list has %d.", n, p.Pages)
	}
	lo, hi = (n-1)*size, min(n*size, total)
	link := func(k int) string {
		v := r.URL.Query()
		v.Set("page", strconv.Itoa(k))
		return r.URL.Path + "?" + v.Encode()
	}
	if n > 1 {
		p.Prev = link(n - 1)
	}
	if n < p.Pages {
		p.Next = link(n + 1)
	}
	return lo, hi, p, nil
}

// directoryPage is the public directory.
type directoryPage struct {
	Items []projections.Listing
	Pager pager
}

func (c *console) directory(w http.ResponseWriter, r *http.Request) {
	q := c.current(r)
	err := c.ready(r.Context())
	var items []projections.Listing
	if err == nil {
		items, err = c.d.Projector.Directory(r.Context(), c.today())
	}
	if err == nil {
		var lo, hi int
		var p pager
		if lo, hi, p, err = c.paginate(r, len(items)); err == nil {
			if q == nil {
				// The same for everyone signed out, as the API's directory;
				// signed in, the page names the user and holds a CSRF token.
				w.Header().Set("Cache-Control", "public, max-age=60")
				w.Header().Add("Vary", "Cookie")
			}
			c.render(w, r, q, http.StatusOK, "directory", "Directory", "directory", directoryPage{Items: items[lo:hi], Pager: p})
			return
		}
	}
	c.renderError(w, r, q, err)
}

// listPage is the practitioners search.
type listPage struct {
	Q, Level, Standing, Role, Org string
	Items                         []projections.PractitionerItem
	OrgNames                      map[uuid.UUID]string
	Orgs                          []projections.OrganisationItem
	Levels                        []int
	Standings, Roles              []string
	Next, First                   string
}

// searchFilters are the search's fields besides the name: enums and ids,
// which may stand in a URL.
var searchFilters = []string{"level", "standing", "role", "organisation_id"}

// maxSearchName bounds the name searched for.
const maxSearchName = 200

// listURL is the practitioners list with query v.
func listURL(v url.Values) string {
	if len(v) == 0 {
		return "/ui/practitioners"
	}
	return "/ui/practitioners?" + v.Encode()
}

// search takes the search form (a POST): the name goes into the session,
// and the browser to the results under an opaque id in its place, so that
// no name is in a URL (the browser's history, a proxy's log).
func (c *console) search(w http.ResponseWriter, r *http.Request, q *req) error {
	name := strings.TrimSpace(r.PostForm.Get("q"))
	if len(name) > maxSearchName {
		return invalidf("q", "is longer than %d characters", maxSearchName)
	}
	v := url.Values{}
	for _, k := range searchFilters {
		if s := strings.TrimSpace(r.PostForm.Get(k)); s != "" {
			v.Set(k, s)
		}
	}
	if name != "" {
		v.Set("search", c.sessions.saveSearch(q.s, name))
	}
	http.Redirect(w, r, listURL(v), http.StatusSeeOther)
	return nil
}

// practitioners is the search's results. The name comes from the session
// (search=ID, after the form) or, for tools that drive the console, from
// q=; the page's own links carry the id, never the name.
func (c *console) practitioners(w http.ResponseWriter, r *http.Request, q *req) error {
	v := r.URL.Query()
	for k := range v {
		switch k {
		case "q", "search", "level", "standing", "role", "organisation_id", "cursor":
		default:
			return invalidf(k, "is not a search field here")
		}
	}
	if v.Has("q") && v.Has("search") {
		return invalidf("search", "cannot be given with q: one names the search, the other is its id")
	}
	name := strings.TrimSpace(v.Get("q"))
	if id := v.Get("search"); id != "" {
		var ok bool
		if name, ok = c.sessions.search(q.s, id); !ok {
			// An id from another session (a bookmark, a restart): the
			// filters stay, the name must be typed again.
			v.Del("search")
			v.Del("cursor")
			c.redirectFlash(w, r, q, listURL(v), "That search has ended (a session keeps its searches only while it lasts): search again.")
			return nil
		}
	}
	if len(name) > maxSearchName {
		return invalidf("q", "is longer than %d characters", maxSearchName)
	}
	pg := listPage{Q: name, Level: v.Get("level"), Standing: v.Get("standing"), Role: v.Get("role"), Org: v.Get("organisation_id"),
		Levels: []int{0, 1, 2, 3, 4, 5}, Standings: []string{"good", "at_risk", "lapsed", "suspended", "withdrawn"}}
	pg.Roles, _ = domain.EnumValues(typeOfRole)
	f := projections.Filter{Name: pg.Q, Standing: pg.Standing, Role: domain.Role(pg.Role), Cursor: v.Get("cursor"), Limit: c.opts.PageSize}
	if pg.Level != "" {
		n, err := strconv.Atoi(pg.Level)
		if err != nil {
			return invalidf("level", "%q is not a level from 0 to 5", pg.Level)
		}
		f.Level = &n
	}
	if pg.Org != "" {
		id, err := uuid.Parse(pg.Org)
		if err != nil {
			return invalidf("organisation_id", "%q is not an organisation id", pg.Org)
		}
		f.OrganisationID = id
	}
	if err := c.ready(r.Context()); err != nil {
		return err
	}
	page, err := c.d.Projector.ListPractitioners(r.Context(), f, c.today())
	if err != nil {
		return err
	}
	orgs, err := c.d.Projector.OrganisationList(r.Context())
	if err != nil {
		return err
	}
	pg.OrgNames = orgNames(orgs)
	if len(orgs) <= maxChoices {
		pg.Orgs = orgs // else the filter asks for the id
	}
	pg.Items = page.Items
	v.Del("q")
	if name != "" {
		v.Set("search", c.sessions.saveSearch(q.s, name))
	}
	if page.NextCursor != "" {
		v.Set("cursor", page.NextCursor)
		pg.Next = listURL(v)
	}
	if f.Cursor != "" {
		v.Del("cursor")
		pg.First = listURL(v)
	}
	c.render(w, r, q, http.StatusOK, "practitioners", "Practitioners", "practitioners", pg)
	return nil
}

func orgNames(orgs []projections.OrganisationItem) map[uuid.UUID]string {
	m := make(map[uuid.UUID]string, len(orgs))
	for _, o := range orgs {
		m[o.ID] = o.Name
	}
	return m
}

// practitionerPage is one practitioner at a moment.
type practitionerPage struct {
	V        projections.PractitionerView
	AsOf     string
	KnownAt  string
	Today    string
	Past     bool
	OrgNames map[uuid.UUID]string
	Events   map[uuid.UUID]projections.HistoryItem
	Timeline []projections.HistoryItem
	Pager    pager
	Chart    chart
	Types    []string
}

// pathUUID parses an id path parameter; anything else names nothing.
func pathUUID(r *http.Request, name, what string) (uuid.UUID, error) {
	s := chi.URLParam(r, name)
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return uuid.Nil, notFound(what)
	}
	return id, nil
}

// moment parses as_of and known_at: a date, and an RFC 3339 time (or the
// shorter forms a datetime field sends, read as UTC).
func (c *console) moment(r *http.Request) (domain.Date, time.Time, error) {
	v := r.URL.Query()
	asOf := c.today()
	if s := strings.TrimSpace(v.Get("as_of")); s != "" {
		d, err := domain.ParseDate(s)
		if err != nil {
			return asOf, time.Time{}, invalidf("as_of", "%s", err.Error())
		}
		asOf = d
	}
	var knownAt time.Time
	if s := strings.TrimSpace(v.Get("known_at")); s != "" {
		var err error
		if knownAt, err = parseTime(s); err != nil {
			return asOf, knownAt, invalidf("known_at", "%q is not a time like 2025-01-31T09:30:00Z", s)
		}
		if knownAt.IsZero() {
			// 0001-01-01T00:00:00Z is when nothing was known yet, but the
			// zero time means "now" to the reads: one nanosecond later is
			// still before anything the ledger can have recorded.
			knownAt = knownAt.Add(time.Nanosecond)
		}
	}
	return asOf, knownAt, nil
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not a time")
}

func (c *console) practitioner(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathUUID(r, "id", "practitioner")
	if err != nil {
		return err
	}
	asOf, knownAt, err := c.moment(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	view, err := c.d.Projector.Practitioner(ctx, id, asOf, knownAt)
	if err != nil {
		return err
	}
	stream := projections.PractitionerStream(id)
	hist, err := c.d.Projector.History(ctx, stream, knownAt)
	if err != nil {
		return err
	}
	pg := practitionerPage{V: view, AsOf: asOf.String(), Today: c.today().String(), Past: asOf != c.today() || !knownAt.IsZero()}
	if !knownAt.IsZero() {
		pg.KnownAt = knownAt.Format(time.RFC3339Nano)
	}
	pg.Events = eventsByID(hist)
	// The timeline, newest first, a page at a time.
	lo, hi, p, err := c.paginate(r, len(hist))
	if err != nil {
		return err
	}
	pg.Pager = p
	for i := len(hist) - 1 - lo; i >= len(hist)-hi; i-- {
		pg.Timeline = append(pg.Timeline, hist[i])
	}
	orgs, err := c.d.Projector.OrganisationList(ctx)
	if err != nil {
		return err
	}
	pg.OrgNames = orgNames(orgs)
	if pg.Chart, err = c.chartOf(ctx, id, asOf, knownAt); err != nil {
		return err
	}
	pg.Types = eventTypes(domain.PractitionerStream)
	c.render(w, r, q, http.StatusOK, "practitioner", view.Name, "practitioners", pg)
	return nil
}

// organisationsPage lists the organisations.
type organisationsPage struct {
	Items []projections.OrganisationItem
	Pager pager
}

func (c *console) organisations(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := c.ready(r.Context()); err != nil {
		return err
	}
	orgs, err := c.d.Projector.OrganisationList(r.Context())
	if err != nil {
		return err
	}
	lo, hi, p, err := c.paginate(r, len(orgs))
	if err != nil {
		return err
	}
	c.render(w, r, q, http.StatusOK, "organisations", "Organisations", "organisations", organisationsPage{Items: orgs[lo:hi], Pager: p})
	return nil
}

// organisationPage is one organisation with its history.
type organisationPage struct {
	ID       uuid.UUID
	Name     string
	Kind     domain.OrganisationKind
	Today    string
	Licences []domain.Licence
	Timeline []projections.HistoryItem
	Pager    pager
	Types    []string
}

func (c *console) organisation(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathUUID(r, "id", "organisation")
	if err != nil {
		return err
	}
	hist, err := c.d.Projector.History(r.Context(), projections.OrganisationStream(id), time.Time{})
	if err != nil {
		return err
	}
	pg := organisationPage{ID: id, Types: eventTypes(domain.OrganisationStream)}
	pg.Today = c.today().String()
	if o := c.d.Projector.Organisations().Organisation(id); o != nil {
		pg.Name, pg.Kind, pg.Licences = o.Name, o.Kind, o.Licences(c.today())
	}
	if pg.Name == "" {
		pg.Name = "Organisation " + id.String()[:8]
	}
	lo, hi, p, err := c.paginate(r, len(hist))
	if err != nil {
		return err
	}
	pg.Pager = p
	for i := len(hist) - 1 - lo; i >= len(hist)-hi; i-- {
		pg.Timeline = append(pg.Timeline, hist[i])
	}
	c.render(w, r, q, http.StatusOK, "organisation", pg.Name, "organisations", pg)
	return nil
}

// decisionsPage is the QC queue.
type decisionsPage struct {
	Status string
	Items  []projections.DecisionItem
	Pager  pager
}

func (c *console) decisions(w http.ResponseWriter, r *http.Request, q *req) error {
	status := r.URL.Query().Get("status")
	if status == "" {
		status = projections.StatusUnreviewed
	}
	if err := c.ready(r.Context()); err != nil {
		return err
	}
	items, err := c.d.Projector.Decisions(r.Context(), status)
	if err != nil {
		return err
	}
	lo, hi, p, err := c.paginate(r, len(items))
	if err != nil {
		return err
	}
	c.render(w, r, q, http.StatusOK, "decisions", "Decisions to review", "decisions", decisionsPage{Status: status, Items: items[lo:hi], Pager: p})
	return nil
}

// decisionPage is one decision under review.
type decisionPage struct {
	D        projections.DecisionView
	Subject  string
	Link     string
	Events   map[uuid.UUID]projections.HistoryItem
	Outcomes []string
	Form     reviewForm
}

// reviewForm is the review form's values and errors.
type reviewForm struct {
	Outcome, Notes string
	Errors         map[string]string
	Error          string
}

func (c *console) decision(w http.ResponseWriter, r *http.Request, q *req) error {
	return c.showDecision(w, r, q, http.StatusOK, reviewForm{})
}

func (c *console) showDecision(w http.ResponseWriter, r *http.Request, q *req, status int, form reviewForm) error {
	id, err := pathUUID(r, "event_id", "decision")
	if err != nil {
		return err
	}
	if err := c.ready(r.Context()); err != nil {
		return err
	}
	d, err := c.d.Projector.Decision(r.Context(), id)
	if err != nil {
		return err
	}
	pg := decisionPage{D: d, Form: form}
	pg.Outcomes, _ = domain.EnumValues(typeOfOutcome)
	if strings.HasPrefix(d.Stream, "practitioner-") {
		pg.Link = "/ui/practitioners/" + strings.TrimPrefix(d.Stream, "practitioner-")
	} else {
		pg.Link = "/ui/organisations/" + strings.TrimPrefix(d.Stream, "organisation-")
	}
	hist, err := c.d.Projector.History(r.Context(), d.Stream, time.Time{})
	if err != nil {
		return err
	}
	pg.Events = eventsByID(hist)
	if d.Evaluation != nil {
		pg.Subject = d.Evaluation.Subject
	}
	c.render(w, r, q, status, "decision", "Decision "+d.Type, "decisions", pg)
	return nil
}

// review records DecisionReviewed through the same write path as
// POST /v1/decisions/{event_id}/reviews.
func (c *console) review(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathUUID(r, "event_id", "decision")
	if err != nil {
		return err
	}
	form := reviewForm{Outcome: r.PostForm.Get("outcome"), Notes: r.PostForm.Get("notes")}
	if err := c.ready(r.Context()); err != nil {
		return err
	}
	d, err := c.d.Projector.Decision(r.Context(), id)
	if err != nil {
		return err
	}
	data, err := jsonOf(domain.DecisionReviewed{DecisionEventID: id, Outcome: domain.ReviewOutcome(form.Outcome), Notes: form.Notes})
	if err != nil {
		return err
	}
	rec, err := c.d.Recorder.Review(r.Context(), q.p, d.Stream, record.Proposal{
		ID: formEventID(r), Type: domain.TypeDecisionReviewed, OccurredOn: c.today().String(), Data: data,
	})
	if err != nil {
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.EINVALID {
			return err
		}
		switch f := strings.TrimPrefix(de.Field, "data."); f {
		case "outcome", "notes":
			form.Errors = map[string]string{f: de.Message}
		default:
			form.Error = de.Error() // about no field of the form
		}
		return c.showDecision(w, r, q, api.ErrorStatus(de.Code), form)
	}
	c.settle(r.Context(), rec.Position)
	c.redirectFlash(w, r, q, "/ui/decisions/"+id.String(), "Review recorded: "+form.Outcome+".")
	return nil
}

// formEventID is the event id a form carries (a hidden field made when the
// form was drawn), so that a form sent twice records once; a new id when
// the form has none.
func formEventID(r *http.Request) uuid.UUID {
	if id, err := uuid.Parse(r.PostForm.Get("event_id")); err == nil {
		return id
	}
	return uuid.New()
}

// verifyPage is the chain verification result.
type verifyPage struct {
	Report eventstore.VerifyReport
	Took   time.Duration
}

func (c *console) verify(w http.ResponseWriter, r *http.Request, q *req) error {
	start := time.Now()
	rep, err := eventstore.Verify(r.Context(), c.d.Store)
	if err != nil {
		return err
	}
	api.ChargeEventsRead(w, rep.EventsChecked) // as /v1/verify is charged
	c.render(w, r, q, http.StatusOK, "verify", "Chain verification", "verify", verifyPage{Report: rep, Took: time.Since(start).Round(time.Millisecond)})
	return nil
}
