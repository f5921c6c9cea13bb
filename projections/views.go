package projections

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/keystore"
)

// PractitionerView is a practitioner as of a date and as known at a time:
// level, roles, licences, standing with its reasons, and what is missing for
// the next step. The JSON field names are the API's contract.
type PractitionerView struct {
	ID uuid.UUID `json:"id"`
	// Name is the practitioner's own name, from their registration or a
	// later change of details. No email address is ever shown.
	Name      string        `json:"name"`
	Level     int           `json:"level"`
	LevelName string        `json:"level_name"`
	Roles     []domain.Role `json:"roles"`
	// Traineeships are the roles the practitioner is training for.
	Traineeships  []domain.Role      `json:"traineeships"`
	Licences      []LicenceView      `json:"licences"`
	Standing      StandingView       `json:"standing"`
	NextSteps     []NextStepView     `json:"next_steps"`
	Organisations []uuid.UUID        `json:"organisations"`
	Directories   []domain.Directory `json:"directories"`
	// AsOf is the effective date the view is for; KnownAt the recorded time
	// asked, nil when the view is as known now.
	AsOf    domain.Date `json:"as_of"`
	KnownAt *string     `json:"known_at"`
	// Revision is the stream revision of the last event the view saw.
	Revision uint64 `json:"revision"`

	// tag names everything the view was folded from (see Tag); orgs are
	// the organisations its facts name.
	tag  string
	orgs []uuid.UUID
}

// Tag is a strong validator of the view: it changes whenever the view can,
// since it is derived from everything the view is folded from: the
// rulebook version, the practitioner, as_of, known_at, the practitioner's
// stream revision, the revision of every organisation folded into it, and
// whether the practitioner's personal data is erased. Empty for a view not
// built by Views.
func (v *PractitionerView) Tag() string { return v.tag }

// tagOf hashes the parts a response is derived from into a short strong
// validator.
func tagOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18])
}

// LicenceView is one licence with its status on the date asked: active,
// suspended, revoked or expired.
type LicenceView struct {
	LicenceID  string              `json:"licence_id"`
	Kind       domain.LicenceKind  `json:"kind"`
	Scope      domain.LicenceScope `json:"scope,omitempty"`
	Status     string              `json:"status"`
	GrantedOn  domain.Date         `json:"granted_on"`
	ValidUntil domain.Date         `json:"valid_until"`
	Evidence   []uuid.UUID         `json:"evidence"`
}

// StandingView is a standing on a date with its reasons: every maintenance
// requirement of every held role, traineeship and licence, met or not, with
// the events that meet it.
type StandingView struct {
	Status       string                     `json:"status"`
	Requirements []domain.RequirementResult `json:"requirements"`
	Held         []HeldView                 `json:"held"`
	// NextChange is the next date on which the standing can change with no
	// new event; omitted when none is known.
	NextChange *domain.Date `json:"next_change,omitempty"`
}

// HeldView is the standing of one held role, traineeship or licence in its
// current certification year.
type HeldView struct {
	Item        string      `json:"item"`
	Status      string      `json:"status"`
	PeriodStart domain.Date `json:"period_start,omitzero"`
	PeriodEnd   domain.Date `json:"period_end,omitzero"`
}

// NextStepView is a decision on the way to the next role on the pathway
// and what is still missing before it may be taken.
type NextStepView struct {
	Role     domain.Role                `json:"role"`
	Decision string                     `json:"decision"`
	Subject  string                     `json:"subject"`
	Ready    bool                       `json:"ready"`
	Missing  []domain.RequirementResult `json:"missing"`
}

// Views answers the queries that fold one stream on demand: a practitioner
// as of a date and as known at a time, and a stream's audit trail. Streams
// are short, so replaying one per query is cheap and always exact. Safe for
// concurrent use.
type Views struct {
	store eventstore.StreamReader
	rules *rules
	cache *factCache // nil: every read decodes every event
	// keys open sealed personal data; nil: none opens (it reads as
	// unavailable).
	keys *keystore.Keys
}

// NewViews returns Views reading store, remembering up to
// DefaultCachedFacts decoded facts.
// Sealed personal data reads as unavailable: see NewViewsWithKeys.
func NewViews(store eventstore.StreamReader) *Views {
	return newViews(store, DefaultCachedFacts, nil, nil)
}

// NewViewsWithKeys is NewViews opening practitioners' sealed personal data
// with keys: an erased practitioner's name reads as domain.ErasedName.
func NewViewsWithKeys(store eventstore.StreamReader, keys *keystore.Keys) *Views {
	return newViews(store, DefaultCachedFacts, keys, nil)
}

// newViews evaluates with rbs (nil: the domain's rulebooks and current one).
func newViews(store eventstore.StreamReader, cachedFacts int, keys *keystore.Keys, rbs *domain.Rulebooks) *Views {
	return &Views{store: store, rules: newRules(rbs), cache: newFactCache(cachedFacts), keys: keys}
}

// Rulebooks returns the rulebooks the views evaluate with; its Current is
// the one new decisions are evaluated under.
func (v *Views) Rulebooks() *domain.Rulebooks { return v.rules.rbs }

// Practitioner returns practitioner id as of asOf (facts that occurred on or
// before it) as known at knownAt (events recorded at or before it; zero
// means everything recorded). Retractions known at knownAt remove the facts
// they retract whatever their own occurred_on. The organisations the
// practitioner's history names are folded with the same two cuts. A zero
// asOf means the latest effective date in the history, so that no clock is
// read; the API always passes one. An unknown practitioner, or one with
// nothing recorded by knownAt, gives ErrNotFound.
func (v *Views) Practitioner(ctx context.Context, id uuid.UUID, asOf domain.Date, knownAt time.Time) (PractitionerView, error) {
	stream := PractitionerStream(id)
	events, err := v.readStream(ctx, stream, knownAt)
	if err != nil {
		return PractitionerView{}, err
	}
	on := asOf
	if on.IsZero() {
		if on, err = lastOccurred(events); err != nil {
			return PractitionerView{}, err
		}
	}
	sf, err := v.decode(stream, events, on)
	if err != nil {
		return PractitionerView{}, fmt.Errorf("projections: %s: %w", stream, err)
	}
	facts, later := sf.qualifying(on, uuid.Nil)
	var orgRevs []string
	named := domain.OrganisationsNamed(facts)
	orgs, err := v.organisationsWith(ctx, named, on, knownAt, &orgRevs)
	if err != nil {
		return PractitionerView{}, err
	}
	a, err := v.rules.assess(id, facts, orgs, on, true)
	if err != nil {
		return PractitionerView{}, fmt.Errorf("projections: %s: %w", stream, err)
	}
	view := PractitionerView{
		ID: id, Name: a.Name, Level: a.Level.Level, LevelName: a.Level.Name,
		Roles: nonNil(a.Roles), Traineeships: nonNil(a.Trainee),
		Licences: make([]LicenceView, len(a.Licences)), NextSteps: make([]NextStepView, len(a.NextSteps)),
		Organisations: nonNil(a.Orgs), Directories: nonNil(a.Listings),
		AsOf: on, Revision: sf.revision, orgs: named,
		Standing: StandingView{
			Status: string(a.Standing.Status), Requirements: nonNil(a.Standing.Requirements),
			Held: make([]HeldView, len(a.Standing.Held)),
		},
	}
	for i, l := range a.Licences {
		view.Licences[i] = LicenceView{LicenceID: l.LicenceID, Kind: l.Kind, Scope: l.Scope, Status: string(l.Status),
			GrantedOn: l.GrantedOn, ValidUntil: l.ValidUntil, Evidence: nonNil(l.Evidence)}
	}
	for i, h := range a.Standing.Held {
		view.Standing.Held[i] = HeldView{Item: h.Item, Status: string(h.Status), PeriodStart: h.PeriodStart, PeriodEnd: h.PeriodEnd}
	}
	for i, s := range a.NextSteps {
		view.NextSteps[i] = NextStepView{Role: s.Role, Decision: s.Decision, Subject: s.Subject, Ready: s.Ready, Missing: nonNil(s.Missing)}
	}
	if next := earliest(a.Standing.NextChange, later); !next.IsZero() {
		view.Standing.NextChange = &next
	}
	known := "now"
	if !knownAt.IsZero() {
		k := knownAt.UTC().Format(timeFormat)
		view.KnownAt = &k
		known = k
	}
	_, erased := v.keys.Erased(stream)
	view.tag = tagOf(append([]string{"practitioner", v.rules.version, id.String(), on.String(), known,
		strconv.FormatUint(sf.revision, 10), strconv.FormatBool(erased)}, orgRevs...)...)
	return view, nil
}

// organisationsOf folds each organisation in ids with the same bitemporal
// cuts, so that a past view uses what was known of them then. An
// organisation named but not (yet) registered is left out: the rules see it
// as unknown.
func (v *Views) organisationsOf(ctx context.Context, ids []uuid.UUID, asOf domain.Date, knownAt time.Time) (domain.OrganisationSet, error) {
	return v.organisationsWith(ctx, ids, asOf, knownAt, nil)
}

// organisationsWith is organisationsOf noting, when revs is not nil, each
// organisation folded and its stream revision.
func (v *Views) organisationsWith(ctx context.Context, ids []uuid.UUID, asOf domain.Date, knownAt time.Time, revs *[]string) (domain.OrganisationSet, error) {
	out := make(domain.OrganisationSet, len(ids))
	for _, id := range ids {
		events, err := v.store.ReadStream(ctx, OrganisationStream(id), eventstore.ReadOptions{KnownAt: knownAt})
		if isNotFound(err) || err == nil && len(events) == 0 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("projections: read organisation %s: %w", id, err)
		}
		noteRead(ctx, events)
		sf, err := v.decode(OrganisationStream(id), events, asOf)
		if err != nil {
			return nil, fmt.Errorf("projections: organisation %s: %w", id, err)
		}
		facts, _ := sf.qualifying(asOf, uuid.Nil)
		o, err := domain.FoldOrganisation(id, facts)
		if err != nil {
			return nil, fmt.Errorf("projections: organisation %s: %w", id, err)
		}
		out[id] = o
		if revs != nil {
			*revs = append(*revs, id.String()+"@"+strconv.FormatUint(sf.revision, 10))
		}
	}
	return out, nil
}

// lastOccurred is the latest effective date among events: the date a view
// with no as_of is evaluated on, so that it needs no clock.
func lastOccurred(events []eventstore.RecordedEvent) (domain.Date, error) {
	var d domain.Date
	for _, e := range events {
		on, err := domain.ParseDate(e.OccurredOn)
		if err != nil {
			return d, fmt.Errorf("projections: event %s (%s revision %d): occurred_on: %w", e.ID, e.Stream, e.Revision, err)
		}
		if on.After(d) {
			d = on
		}
	}
	return d, nil
}

func earliest(a, b domain.Date) domain.Date {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	case b.Before(a):
		return b
	}
	return a
}

// nonNil makes empty lists encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Facts returns the facts of stream that qualify as of asOf (zero: every
// date) as known at knownAt (zero: now), retractions applied, in stream
// order, with the revision of the stream's last event read. The API's write
// path folds them to evaluate a decision and appends with that revision
// expected, so that nothing lands in between unseen. An unknown stream gives
// ErrNotFound.
func (v *Views) Facts(ctx context.Context, stream string, asOf domain.Date, knownAt time.Time) ([]domain.Fact, uint64, error) {
	events, err := v.readStream(ctx, stream, knownAt)
	if err != nil {
		return nil, 0, err
	}
	sf, err := v.decode(stream, events, asOf)
	if err != nil {
		return nil, 0, fmt.Errorf("projections: %s: %w", stream, err)
	}
	facts, _ := sf.qualifying(asOf, uuid.Nil)
	return facts, sf.revision, nil
}
