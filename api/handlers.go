package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/export"
	"github.com/imattertraining/ledger/projections"
)

// today is the server's current date (UTC), the default as_of.
func (s *Server) today() domain.Date { return domain.DateOf(s.cfg.Now().UTC()) }

// eventRequest is the body of POST …/events.
type eventRequest struct {
	ID               string          `json:"id"`
	Type             string          `json:"type"`
	OccurredOn       string          `json:"occurred_on"`
	Data             json.RawMessage `json:"data"`
	ExpectedRevision *uint64         `json:"expected_revision"`
}

var eventKeys = []string{"id", "type", "occurred_on", "data", "expected_revision"}

// fill is fastBody's, for vals in the order of eventKeys.
func (req *eventRequest) fill(vals [maxFastKeys][]byte) bool {
	id, ok1 := fastString(vals[0])
	typ, ok2 := fastString(vals[1])
	on, ok3 := fastString(vals[2])
	rev, ok4 := fastUint(vals[4])
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return false
	}
	*req = eventRequest{ID: id, Type: typ, OccurredOn: on, Data: vals[3], ExpectedRevision: rev}
	return true
}

// registerRequest is the body of POST /v1/practitioners and /v1/organisations.
type registerRequest struct {
	ID         string          `json:"id"`
	OccurredOn string          `json:"occurred_on"`
	Data       json.RawMessage `json:"data"`
}

var registerKeys = []string{"id", "occurred_on", "data"}

// fill is fastBody's, for vals in the order of registerKeys.
func (req *registerRequest) fill(vals [maxFastKeys][]byte) bool {
	id, ok1 := fastString(vals[0])
	on, ok2 := fastString(vals[1])
	if !ok1 || !ok2 {
		return false
	}
	*req = registerRequest{ID: id, OccurredOn: on, Data: vals[2]}
	return true
}

// registered is the response to a registration.
type registered struct {
	ID uuid.UUID `json:"id"`
	Recorded
}

func (s *Server) handleRegisterPractitioner(w http.ResponseWriter, r *http.Request, p Principal) error {
	return s.register(w, r, p, domain.PractitionerStream)
}

func (s *Server) handleRegisterOrganisation(w http.ResponseWriter, r *http.Request, p Principal) error {
	return s.register(w, r, p, domain.OrganisationStream)
}

func (s *Server) register(w http.ResponseWriter, r *http.Request, p Principal, k domain.StreamKind) error {
	if _, err := parseQuery(r); err != nil {
		return err
	}
	var req registerRequest
	if err := readJSON(r, &req, registerKeys...); err != nil {
		return err
	}
	id, err := eventID(r, p, req.ID)
	if err != nil {
		return err
	}
	rec, err := s.recorder.Register(r.Context(), p, k, Proposal{ID: id, OccurredOn: req.OccurredOn, Data: req.Data})
	if err != nil {
		return err
	}
	s.acknowledged(rec.Position)
	_, sid, _ := domain.ParseStream(rec.Stream)
	writeJSON(w, http.StatusCreated, registered{ID: sid, Recorded: rec})
	return nil
}

func (s *Server) handlePractitionerEvent(w http.ResponseWriter, r *http.Request, p Principal) error {
	id, err := pathID(r, "id", "practitioner")
	if err != nil {
		return err
	}
	return s.appendEvent(w, r, p, projections.PractitionerStream(id))
}

func (s *Server) handleOrganisationEvent(w http.ResponseWriter, r *http.Request, p Principal) error {
	id, err := pathID(r, "id", "organisation")
	if err != nil {
		return err
	}
	return s.appendEvent(w, r, p, projections.OrganisationStream(id))
}

func (s *Server) appendEvent(w http.ResponseWriter, r *http.Request, p Principal, stream string) error {
	q, err := parseQuery(r, "dry_run")
	if err != nil {
		return err
	}
	dry, err := q.bool("dry_run")
	if err != nil {
		return err
	}
	var req eventRequest
	if err := readJSON(r, &req, eventKeys...); err != nil {
		return err
	}
	id, err := eventID(r, p, req.ID)
	if err != nil {
		return err
	}
	prop := Proposal{
		ID: id, Type: req.Type, OccurredOn: req.OccurredOn, Data: req.Data, ExpectedRevision: req.ExpectedRevision,
	}
	if dry {
		// The same path as the append below, stopped before it: the
		// evaluation a decision would be stored with, and nothing stored.
		d, err := s.recorder.DryRun(r.Context(), p, stream, prop)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, d)
		return nil
	}
	rec, err := s.recorder.Record(r.Context(), p, stream, prop)
	if err != nil {
		return err
	}
	s.acknowledged(rec.Position)
	writeJSON(w, http.StatusCreated, rec)
	return nil
}

// reviewRequest is the body of POST /v1/decisions/{event_id}/reviews.
type reviewRequest struct {
	ID         string               `json:"id"`
	OccurredOn string               `json:"occurred_on"`
	Outcome    domain.ReviewOutcome `json:"outcome"`
	Notes      string               `json:"notes"`
}

var reviewKeys = []string{"id", "occurred_on", "outcome", "notes"}

func (s *Server) handleReview(w http.ResponseWriter, r *http.Request, p Principal) error {
	decisionID, err := pathID(r, "event_id", "decision")
	if err != nil {
		return err
	}
	if _, err := parseQuery(r); err != nil {
		return err
	}
	var req reviewRequest
	if err := readJSON(r, &req, reviewKeys...); err != nil {
		return err
	}
	id, err := eventID(r, p, req.ID)
	if err != nil {
		return err
	}
	if err := s.readYourWrites(r.Context()); err != nil {
		return err
	}
	d, err := s.cfg.Projector.Decision(r.Context(), decisionID)
	if err != nil {
		return err
	}
	if req.OccurredOn == "" {
		req.OccurredOn = s.today().String()
	}
	data, err := json.Marshal(domain.DecisionReviewed{DecisionEventID: decisionID, Outcome: req.Outcome, Notes: req.Notes})
	if err != nil {
		return err
	}
	rec, err := s.recorder.Review(r.Context(), p, d.Stream, Proposal{
		ID: id, Type: domain.TypeDecisionReviewed, OccurredOn: req.OccurredOn, Data: data,
	})
	if err != nil {
		return err
	}
	s.acknowledged(rec.Position)
	writeJSON(w, http.StatusCreated, rec)
	return nil
}

func (s *Server) handleGetPractitioner(w http.ResponseWriter, r *http.Request, _ Principal) error {
	id, err := pathID(r, "id", "practitioner")
	if err != nil {
		return err
	}
	q, err := parseQuery(r, "as_of", "known_at")
	if err != nil {
		return err
	}
	asOf, err := q.date("as_of", s.today())
	if err != nil {
		return err
	}
	knownAt, err := q.time("known_at")
	if err != nil {
		return err
	}
	// Answered from the views the read models keep rendered when they
	// hold this server's latest append; else folded from the store.
	body, tag, err := s.cfg.Projector.PractitionerJSON(r.Context(), id, asOf, knownAt, eventstore.Position(s.lastPos.Load()))
	if err != nil {
		return err
	}
	if notModified(w, r, `"`+tag+`"`) {
		return nil
	}
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return nil
}

// historyPage is the audit trail of one stream.
type historyPage struct {
	Items []projections.HistoryItem `json:"items"`
	// NextCursor is always empty: a stream is short enough for one page.
	NextCursor string `json:"next_cursor"`
}

func (s *Server) handlePractitionerHistory(w http.ResponseWriter, r *http.Request, _ Principal) error {
	id, err := pathID(r, "id", "practitioner")
	if err != nil {
		return err
	}
	return s.history(w, r, projections.PractitionerStream(id))
}

func (s *Server) handleOrganisationHistory(w http.ResponseWriter, r *http.Request, _ Principal) error {
	id, err := pathID(r, "id", "organisation")
	if err != nil {
		return err
	}
	return s.history(w, r, projections.OrganisationStream(id))
}

func (s *Server) history(w http.ResponseWriter, r *http.Request, stream string) error {
	q, err := parseQuery(r, "known_at")
	if err != nil {
		return err
	}
	knownAt, err := q.time("known_at")
	if err != nil {
		return err
	}
	items, err := s.cfg.Projector.History(r.Context(), stream, knownAt)
	if err != nil {
		return err
	}
	if notModified(w, r, s.historyTag(stream, knownAt, items)) {
		return nil
	}
	writeJSON(w, http.StatusOK, historyPage{Items: items})
	return nil
}

func (s *Server) handleListPractitioners(w http.ResponseWriter, r *http.Request, _ Principal) error {
	q, err := parseQuery(r, "standing", "level", "role", "organisation_id", "limit", "cursor", "as_of")
	if err != nil {
		return err
	}
	f := projections.Filter{Standing: q.str("standing"), Role: domain.Role(q.str("role")), Cursor: q.str("cursor")}
	if q.str("level") != "" {
		lvl, err := q.int("level", 0, 0, 5)
		if err != nil {
			return err
		}
		f.Level = &lvl
	}
	if f.Limit, err = q.int("limit", 50, 1, 1000); err != nil {
		return err
	}
	if o := q.str("organisation_id"); o != "" {
		if f.OrganisationID, err = uuid.Parse(o); err != nil {
			return invalidf("organisation_id", "%q is not an id in UUID form", o)
		}
	}
	today, err := q.date("as_of", s.today())
	if err != nil {
		return err
	}
	if err := s.readYourWrites(r.Context()); err != nil {
		return err
	}
	return s.fromModels(w, r, "practitioners", today.String(), func() (any, error) {
		return s.cfg.Projector.ListPractitioners(r.Context(), f, today)
	})
}

// list is the shape of every list response.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func (s *Server) handleLicences(w http.ResponseWriter, r *http.Request, _ Principal) error {
	q, err := parseQuery(r, "expiring_within_days", "as_of")
	if err != nil {
		return err
	}
	within, err := q.int("expiring_within_days", 0, 0, 3660)
	if err != nil {
		return err
	}
	today, err := q.date("as_of", s.today())
	if err != nil {
		return err
	}
	if err := s.readYourWrites(r.Context()); err != nil {
		return err
	}
	return s.fromModels(w, r, "licences", today.String(), func() (any, error) {
		items, err := s.cfg.Projector.Licences(r.Context(), within, today)
		return list[projections.LicenceItem]{Items: items}, err
	})
}

func (s *Server) handleListDecisions(w http.ResponseWriter, r *http.Request, _ Principal) error {
	q, err := parseQuery(r, "status")
	if err != nil {
		return err
	}
	if err := s.readYourWrites(r.Context()); err != nil {
		return err
	}
	return s.fromModels(w, r, "decisions", "", func() (any, error) {
		items, err := s.cfg.Projector.Decisions(r.Context(), q.str("status"))
		return list[projections.DecisionItem]{Items: items}, err
	})
}

func (s *Server) handleGetDecision(w http.ResponseWriter, r *http.Request, _ Principal) error {
	id, err := pathID(r, "event_id", "decision")
	if err != nil {
		return err
	}
	if _, err := parseQuery(r); err != nil {
		return err
	}
	if err := s.readYourWrites(r.Context()); err != nil {
		return err
	}
	// The re-evaluation is of everything known now, on today's date.
	return s.fromModels(w, r, "decision", s.today().String(), func() (any, error) {
		return s.cfg.Projector.Decision(r.Context(), id)
	})
}

func (s *Server) handleDirectory(w http.ResponseWriter, r *http.Request, _ Principal) error {
	q, err := parseQuery(r, "as_of")
	if err != nil {
		return err
	}
	today, err := q.date("as_of", s.today())
	if err != nil {
		return err
	}
	if err := s.readYourWrites(r.Context()); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", cacheDirectory)
	return s.fromModels(w, r, "directory", today.String(), func() (any, error) {
		items, err := s.cfg.Projector.Directory(r.Context(), today)
		return list[projections.Listing]{Items: items}, err
	})
}

func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request, _ Principal) error {
	if _, err := parseQuery(r); err != nil {
		return err
	}
	rep, err := eventstore.Verify(r.Context(), s.cfg.Store)
	if err != nil {
		return err
	}
	// It read every event to answer in a few bytes: it costs what the
	// page of those events would.
	ChargeEventsRead(w, rep.EventsChecked)
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// eventWorth is an event's weight in bytes of response for the rate limit
// of a route that reads events without sending them: about an event's size
// on /v1/events.
const eventWorth = 512

// ChargeEventsRead charges the rate-limit bucket of the request w answers
// for n events read but not sent (eventWorth bytes each), as the console's
// chain verification page does.
func ChargeEventsRead(w http.ResponseWriter, n int) { chargeWork(w, n*eventWorth) }

// handleEvents pages through every event in global order, with every
// envelope field: what `ledger export` reads from a running server.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request, _ Principal) error {
	q, err := parseQuery(r, "cursor", "limit")
	if err != nil {
		return err
	}
	limit, err := q.int("limit", 1000, 1, 10000)
	if err != nil {
		return err
	}
	var from eventstore.Position
	if c := q.str("cursor"); c != "" {
		n, err := strconv.ParseUint(c, 10, 64)
		if err != nil {
			return invalidf("cursor", "%q is not a cursor this list gave", c)
		}
		from = eventstore.Position(n)
	}
	page := list[export.Event]{Items: []export.Event{}}
	for e, err := range s.cfg.Store.ReadAll(r.Context(), from) {
		if err != nil {
			return err
		}
		if len(page.Items) == limit {
			page.NextCursor = strconv.FormatUint(uint64(page.Items[limit-1].Position), 10)
			break
		}
		page.Items = append(page.Items, export.From(e))
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request, _ Principal) error {
	s.metrics.handler.ServeHTTP(w, r)
	return nil
}
