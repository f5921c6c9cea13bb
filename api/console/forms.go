package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/record"
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/projections"
)

var (
	typeOfRole    = reflect.TypeFor[domain.Role]()
	typeOfOutcome = reflect.TypeFor[domain.ReviewOutcome]()
	typeOfDate    = reflect.TypeFor[domain.Date]()
	typeOfUUID    = reflect.TypeFor[uuid.UUID]()
)

// field is one input of an event form. Name is the JSON path the API's
// errors name ("occurred_on", "data.course"), so that an error lands
// beside its field.
type field struct {
	Name, ID, Label, Kind, Value, Error, Hint string
	Required, Checked                         bool
	Options                                   []option
}

type option struct {
	Value, Label string
	Selected     bool
}

// spec is how one JSON field of an event's data is asked for.
type spec struct {
	key      string
	typ      reflect.Type
	optional bool // omitempty, or a pointer: left out when empty
}

// specsOf walks an event type's struct, the embedded Decision included,
// leaving out what the ledger fills in itself.
func specsOf(t reflect.Type) []spec {
	var out []spec
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			out = append(out, specsOf(f.Type)...)
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || name == "rulebook_version" || name == "evaluation" {
			continue
		}
		out = append(out, spec{key: name, typ: f.Type, optional: strings.Contains(opts, "omit") || f.Type.Kind() == reflect.Pointer})
	}
	return out
}

// labels are the words a person reads for a JSON field, where the field's
// own name would not do.
var labels = map[string]string{
	"occurred_on":               "Date it happened",
	"organisation_id":           "Organisation",
	"decided_by":                "Decided by",
	"exception":                 "Record as an exception (against the rules or ahead of the evidence)",
	"rationale":                 "Rationale",
	"valid_until":               "Valid until (last valid day)",
	"retracted_event_id":        "Event to retract (its id)",
	"decision_event_id":         "Decision reviewed (its id)",
	"supported_practitioner_id": "Supported practitioner (their id)",
	"registered_service":        "A registered service",
	"independent":               "Independent practitioner",
	"fast_track":                "Fast track",
	"budget_included":           "Budget included",
	"supportive":                "Supportive",
	"registered":                "Registered",
}

func labelOf(key string) string {
	if l, ok := labels[key]; ok {
		return l
	}
	s := strings.ReplaceAll(strings.TrimSuffix(key, "_id"), "_", " ")
	if strings.HasSuffix(key, "_id") {
		s += " ID"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// maxChoices bounds a list of choices drawn in a page: past it, the page
// asks for the id instead (each organisation's page shows it), so that no
// page lists a whole register.
const maxChoices = 200

// prose fields get a text area.
var prose = []string{"summary", "notes", "reason", "rationale", "title"}

// fieldsFor builds the form of event type info, filled from values, with
// errs beside their fields.
func fieldsFor(info domain.TypeInfo, values url.Values, errs map[string]string, orgs []projections.OrganisationItem, today string, withDate bool) []field {
	var out []field
	if withDate {
		v := values.Get("occurred_on")
		if v == "" {
			v = today
		}
		out = append(out, field{Name: "occurred_on", ID: "f-occurred_on", Label: labelOf("occurred_on"), Kind: "date", Value: v, Required: true, Error: errs["occurred_on"], Hint: "YYYY-MM-DD, no later than today"})
	}
	ev := info.New()
	for _, s := range specsOf(reflect.TypeOf(ev).Elem()) {
		name := "data." + s.key
		f := field{Name: name, ID: "f-" + s.key, Label: labelOf(s.key), Value: values.Get(name), Required: !s.optional, Error: errs[name]}
		t := s.typ
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case t == typeOfDate:
			f.Kind, f.Hint = "date", "YYYY-MM-DD"
		case t == typeOfUUID && s.key == "organisation_id" && len(orgs) <= maxChoices:
			f.Kind = "select"
			f.Options = append(f.Options, option{Value: "", Label: "Choose an organisation"})
			for _, o := range orgs {
				f.Options = append(f.Options, option{Value: o.ID.String(), Label: o.Name, Selected: o.ID.String() == f.Value})
			}
		case t == typeOfUUID:
			f.Kind, f.Hint = "text", "an event or practitioner id, as shown on its page"
		case t.Kind() == reflect.Bool && s.typ.Kind() == reflect.Pointer:
			f.Kind = "select"
			for _, o := range []option{{"", "Unchanged", false}, {"true", "Yes", false}, {"false", "No", false}} {
				o.Selected = o.Value == f.Value
				f.Options = append(f.Options, o)
			}
		case t.Kind() == reflect.Bool:
			f.Kind, f.Checked, f.Required = "checkbox", values.Get(name) == "true", false
		case t.Kind() == reflect.Int:
			f.Kind, f.Hint = "number", "a whole number"
		case t.Kind() == reflect.Float64:
			f.Kind, f.Hint = "decimal", "a number, e.g. 1.5"
		case t.Kind() == reflect.String:
			if vs, ok := domain.EnumValues(t); ok {
				f.Kind = "select"
				first := "Choose one"
				if s.optional {
					first = "None"
				}
				f.Options = append(f.Options, option{Value: "", Label: first})
				for _, v := range vs {
					f.Options = append(f.Options, option{Value: v, Label: strings.ReplaceAll(v, "_", " "), Selected: v == f.Value})
				}
			} else if slices.Contains(prose, s.key) {
				f.Kind = "textarea"
			} else {
				f.Kind = "text"
			}
		default:
			f.Kind = "text"
		}
		out = append(out, f)
	}
	return out
}

// dataOf turns a submitted form into the event's JSON data: empty optional
// fields left out, numbers parsed (a bad one is an error beside its field).
// Everything else, required fields included, is the API's to check.
func dataOf(info domain.TypeInfo, form url.Values) (json.RawMessage, map[string]string) {
	data := map[string]any{}
	errs := map[string]string{}
	for _, s := range specsOf(reflect.TypeOf(info.New()).Elem()) {
		name := "data." + s.key
		raw := strings.TrimSpace(form.Get(name))
		t := s.typ
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case t.Kind() == reflect.Bool && s.typ.Kind() == reflect.Pointer:
			switch raw {
			case "true":
				data[s.key] = true
			case "false":
				data[s.key] = false
			}
		case t.Kind() == reflect.Bool:
			if raw == "true" || raw == "on" {
				data[s.key] = true
			} else if !s.optional {
				data[s.key] = false
			}
		case raw == "":
			if !s.optional {
				data[s.key] = "" // the API says what is required
			}
		case t.Kind() == reflect.Int:
			n, err := strconv.Atoi(raw)
			if err != nil {
				errs[name] = "is not a whole number"
				continue
			}
			data[s.key] = n
		case t.Kind() == reflect.Float64:
			x, err := strconv.ParseFloat(raw, 64)
			if err != nil {
				errs[name] = "is not a number"
				continue
			}
			data[s.key] = x
		default:
			data[s.key] = raw
		}
	}
	b, err := json.Marshal(data)
	if err != nil {
		errs[""] = err.Error()
	}
	return b, errs
}

// eventsByID indexes a stream's history by event id.
func eventsByID(hist []projections.HistoryItem) map[uuid.UUID]projections.HistoryItem {
	m := make(map[uuid.UUID]projections.HistoryItem, len(hist))
	for _, h := range hist {
		m[h.EventID] = h
	}
	return m
}

func jsonOf(v any) (json.RawMessage, error) { return json.Marshal(v) }

// ownPath are the types recorded by a path of their own, not the event
// form: registrations open a stream, a review goes through the review
// form, an erasure through the erasure route.
var ownPath = []string{domain.TypePractitionerRegistered, domain.TypeOrganisationRegistered, domain.TypeDecisionReviewed, domain.TypePersonalDataErased}

// eventTypes are the types an admin records on a stream of kind k through
// the event form: every type allowed there but those with a path of their
// own.
func eventTypes(k domain.StreamKind) []string {
	var out []string
	for _, t := range domain.Types() {
		info, _ := domain.Lookup(t)
		if !info.AllowedIn(k) || slices.Contains(ownPath, t) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// formPage is an event or registration form.
type formPage struct {
	Kind       string // practitioner or organisation
	StreamID   string
	StreamName string
	Action     string
	Back       string
	Register   bool
	Type       string
	Types      []string
	Decision   bool
	Fields     []field
	Error      string
	EventID    string
	// Evaluated is true once the decision was evaluated (a dry run), Eval
	// what it found and Refusal why it would be refused.
	Evaluated bool
	Eval      *domain.Evaluation
	Refusal   string
	// Events are the stream's events by id, to name the evidence.
	Events map[uuid.UUID]projections.HistoryItem
}

// streamOf is the stream an event form writes to, checked to exist, with
// the name to show.
func (c *console) streamOf(r *http.Request, k domain.StreamKind) (id uuid.UUID, stream, name string, err error) {
	what := k.String()
	if id, err = pathUUID(r, "id", what); err != nil {
		return
	}
	if k == domain.OrganisationStream {
		stream = projections.OrganisationStream(id)
		o := c.d.Projector.Organisations().Organisation(id)
		if o == nil {
			return id, stream, "", notFound(what)
		}
		return id, stream, o.Name, nil
	}
	stream = projections.PractitionerStream(id)
	v, err := c.d.Projector.Practitioner(r.Context(), id, c.today(), timeZero)
	if err != nil {
		return id, stream, "", err
	}
	return id, stream, v.Name, nil
}

func (c *console) eventForm(k domain.StreamKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, q *req) error {
		id, _, name, err := c.streamOf(r, k)
		if err != nil {
			return err
		}
		typ := r.URL.Query().Get("type")
		pg, err := c.newFormPage(r, k, id, name, typ, prefill(typ, r.URL.Query()), nil)
		if err != nil {
			return err
		}
		pg.EventID = uuid.NewString()
		c.render(w, r, q, http.StatusOK, "form", formTitle(pg), "", pg)
		return nil
	}
}

// prefill is what a form drawn for a GET may show of its query: not the
// practitioner's name or email, which would have to travel in the URL.
// The console links to forms with ids and types only; this keeps a tool
// from making a habit of anything else.
func prefill(typ string, query url.Values) url.Values {
	for _, f := range domain.PersonalFields(typ) {
		query.Del("data." + f)
	}
	return query
}

func formTitle(pg formPage) string {
	switch {
	case pg.Register:
		return "Register an " + pg.Kind
	case pg.Type == "":
		return "Record an event for " + pg.StreamName
	}
	return "Record " + pg.Type + " for " + pg.StreamName
}

// newFormPage draws the form of type typ (a type picker when typ is
// empty) for the stream of kind k with id.
func (c *console) newFormPage(r *http.Request, k domain.StreamKind, id uuid.UUID, name, typ string, values url.Values, errs map[string]string) (formPage, error) {
	base := "/ui/" + k.String() + "s/" + id.String()
	pg := formPage{Kind: k.String(), StreamID: id.String(), StreamName: name, Action: base + "/events", Back: base, Types: eventTypes(k), Type: typ}
	if typ == "" {
		return pg, nil
	}
	info, ok := domain.Lookup(typ)
	if !ok || !slices.Contains(pg.Types, typ) {
		return pg, invalidf("type", "%q is not an event type recorded on a %s", typ, k)
	}
	orgs, err := c.d.Projector.OrganisationList(r.Context())
	if err != nil {
		return pg, err
	}
	pg.Decision = info.Decision
	pg.Fields = fieldsFor(info, values, errs, orgs, c.today().String(), true)
	return pg, nil
}

// recordEvent records one event from the event form through the API's
// write path. A decision is first evaluated (a dry run, nothing stored)
// and shown; "record" then records it.
func (c *console) recordEvent(k domain.StreamKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, q *req) error {
		id, stream, name, err := c.streamOf(r, k)
		if err != nil {
			return err
		}
		typ := r.PostForm.Get("type")
		info, ok := domain.Lookup(typ)
		if !ok || !slices.Contains(eventTypes(k), typ) {
			return invalidf("type", "%q is not an event type recorded on a %s", typ, k)
		}
		data, errs := dataOf(info, r.PostForm)
		eventID := formEventID(r)
		show := func(status int, pg formPage) error {
			pg.EventID = eventID.String()
			if pg.Eval != nil {
				// Name the evidence by type and date, not by bare id.
				if hist, err := c.d.Projector.History(r.Context(), stream, timeZero); err == nil {
					pg.Events = eventsByID(hist)
				}
			}
			c.render(w, r, q, status, "form", formTitle(pg), "", pg)
			return nil
		}
		if len(errs) > 0 {
			pg, err := c.newFormPage(r, k, id, name, typ, r.PostForm, errs)
			if err != nil {
				return err
			}
			pg.Error = "Some fields need attention."
			return show(http.StatusBadRequest, pg)
		}
		prop := record.Proposal{ID: eventID, Type: typ, OccurredOn: strings.TrimSpace(r.PostForm.Get("occurred_on")), Data: data}
		if info.Decision && r.PostForm.Get("action") != "record" {
			d, err := c.d.Recorder.DryRun(r.Context(), q.p, stream, prop)
			pg, perr := c.formAfter(r, k, id, name, typ, err)
			if perr != nil {
				return perr
			}
			pg.Evaluated = true
			if err == nil {
				pg.Eval = d.Evaluation
			} else if api.Code(err) != domain.EREFUSED {
				return show(api.ErrorStatus(api.Code(err)), pg)
			}
			return show(http.StatusOK, pg)
		}
		rec, err := c.d.Recorder.Record(r.Context(), q.p, stream, prop)
		if err != nil {
			pg, perr := c.formAfter(r, k, id, name, typ, err)
			if perr != nil {
				return perr
			}
			pg.Evaluated = info.Decision
			return show(api.ErrorStatus(api.Code(err)), pg)
		}
		c.settle(r.Context(), rec.Position)
		c.redirectFlash(w, r, q, "/ui/"+k.String()+"s/"+id.String(), "Recorded "+typ+" (event "+rec.EventID.String()+").")
		return nil
	}
}

// formAfter redraws the form with what the write path said: an error
// beside the field it names, or at the top; a refusal with its evaluation.
// Errors that are not about the input (the store down) are returned.
func (c *console) formAfter(r *http.Request, k domain.StreamKind, id uuid.UUID, name, typ string, err error) (formPage, error) {
	var de *domain.Error
	if err != nil && !errors.As(err, &de) {
		return formPage{}, err
	}
	errs := map[string]string{}
	if de != nil && de.Field != "" {
		errs[de.Field] = de.Message
	}
	pg, perr := c.newFormPage(r, k, id, name, typ, r.PostForm, errs)
	if perr != nil {
		return pg, perr
	}
	if de != nil {
		switch {
		case de.Code == domain.EREFUSED:
			pg.Refusal, pg.Eval = de.Error(), de.Evaluation
		case hasField(pg.Fields, de.Field):
			pg.Error = "Some fields need attention."
		default:
			pg.Error = de.Error() // about no field of the form
		}
	}
	return pg, nil
}

// hasField reports whether the form has a field named name.
func hasField(fields []field, name string) bool {
	return name != "" && slices.ContainsFunc(fields, func(f field) bool { return f.Name == name })
}

// registerForm draws the form that opens a practitioner's or an
// organisation's stream.
func (c *console) registerForm(k domain.StreamKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, q *req) error {
		pg := c.registerPage(k, prefill(registerType(k), r.URL.Query()), nil)
		pg.EventID = uuid.NewString()
		c.render(w, r, q, http.StatusOK, "form", formTitle(pg), k.String()+"s", pg)
		return nil
	}
}

// registerType is the event type that opens a stream of kind k.
func registerType(k domain.StreamKind) string {
	if k == domain.OrganisationStream {
		return domain.TypeOrganisationRegistered
	}
	return domain.TypePractitionerRegistered
}

func (c *console) registerPage(k domain.StreamKind, values url.Values, errs map[string]string) formPage {
	typ := registerType(k)
	info, _ := domain.Lookup(typ)
	return formPage{Kind: k.String(), Register: true, Type: typ, Action: "/ui/" + k.String() + "s", Back: "/ui/" + k.String() + "s",
		Fields: fieldsFor(info, values, errs, nil, c.today().String(), true)}
}

func (c *console) register(k domain.StreamKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, q *req) error {
		pg := c.registerPage(k, r.PostForm, nil)
		info, _ := domain.Lookup(pg.Type)
		data, errs := dataOf(info, r.PostForm)
		eventID := formEventID(r)
		if len(errs) == 0 {
			rec, err := c.d.Recorder.Register(r.Context(), q.p, k, record.Proposal{ID: eventID, OccurredOn: strings.TrimSpace(r.PostForm.Get("occurred_on")), Data: data})
			if err == nil {
				c.settle(r.Context(), rec.Position)
				id := strings.TrimPrefix(strings.TrimPrefix(rec.Stream, "practitioner-"), "organisation-")
				c.redirectFlash(w, r, q, "/ui/"+k.String()+"s/"+id, "Registered.")
				return nil
			}
			var de *domain.Error
			if !errors.As(err, &de) {
				return err
			}
			if hasField(pg.Fields, de.Field) {
				errs[de.Field] = de.Message
				pg.Error = "Some fields need attention."
			} else {
				pg.Error = de.Error()
			}
			pg.Fields = c.registerPage(k, r.PostForm, errs).Fields
			pg.EventID = eventID.String()
			c.render(w, r, q, api.ErrorStatus(de.Code), "form", formTitle(pg), k.String()+"s", pg)
			return nil
		}
		pg = c.registerPage(k, r.PostForm, errs)
		pg.Error = "Some fields need attention."
		pg.EventID = eventID.String()
		c.render(w, r, q, http.StatusBadRequest, "form", formTitle(pg), k.String()+"s", pg)
		return nil
	}
}
