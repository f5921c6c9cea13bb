package record

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/api/auth"
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/keystore"
	"github.com/imattertraining/ledger/projections"
)

// Proposal is one fact a principal proposes for recording, as the API
// receives it.
type Proposal struct {
	// ID, when not uuid.Nil, is the client's id for the event: a retry
	// with the same ID returns the original result.
	ID         uuid.UUID
	Type       string
	OccurredOn string
	Data       json.RawMessage
	// ExpectedRevision, when not nil, is the stream revision the client
	// last saw: the append is refused with a conflict if it moved on.
	ExpectedRevision *uint64
}

// Recorded says where an accepted event landed.
type Recorded struct {
	EventID  uuid.UUID           `json:"event_id"`
	Stream   string              `json:"stream"`
	Revision uint64              `json:"revision"`
	Position eventstore.Position `json:"position"`
}

// Recorder is the ledger's write path, shared by the HTTP API and
// `ledger import`: it turns a proposal into a domain event (strictly
// validated), evaluates a decision against the history known at that
// moment, and appends with the revision the evaluation saw, so the stored
// evaluation is exactly what the ledger knew. Safe for concurrent use.
type Recorder struct {
	store eventstore.StreamAppender
	views *projections.Views
	now   func() time.Time
	// observe, when set, is told of every append's latency and outcome.
	observe func(typ string, d time.Duration, err error)
	// members, when set, finds an organisation's practitioners for the
	// evaluation of the organisation's decisions.
	members MembersFunc
	// licenceGrants, when set, finds the grants of a licence_id in other
	// streams, for the evaluation of a LicenceGranted.
	licenceGrants LicenceGrantsFunc
	// exists remembers streams seen to exist: a stream is never deleted,
	// so a plain new fact to one of them needs no read before its append.
	exists knownStreams
	// keys seal practitioners' personal data before it is stored and
	// hashed; nil: it is stored as given (see UseKeys).
	keys *keystore.Keys
}

// knownStreams is a bounded set of stream names known to exist. Every
// append asks, so it is read without a lock. Safe for concurrent use.
type knownStreams struct {
	names sync.Map // stream name → struct{}
	n     atomic.Int64
}

// maxKnownStreams bounds knownStreams; when full it starts again empty.
const maxKnownStreams = 1 << 16

func (k *knownStreams) has(stream string) bool {
	_, ok := k.names.Load(stream)
	return ok
}

func (k *knownStreams) add(stream string) {
	if k.has(stream) {
		return // the common case: an append to a stream seen before
	}
	if _, loaded := k.names.LoadOrStore(stream, struct{}{}); !loaded && k.n.Add(1) > maxKnownStreams {
		// Two adds at the limit may both clear it: the set is smaller
		// for a while, never larger than the bound by more than a few.
		k.names.Clear()
		k.n.Store(0)
	}
}

// NewRecorder returns a Recorder appending to store, reading histories
// through views, with now as its clock (today's date, and "now" for known_at).
func NewRecorder(store eventstore.StreamAppender, views *projections.Views, now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{store: store, views: views, now: now}
}

// UseKeys makes r seal every practitioner's personal data (name, email)
// with keys before it is stored and hashed, and lets it erase it. Call it
// before r is used; the ledger's commands always do.
func (r *Recorder) UseKeys(keys *keystore.Keys) { r.keys = keys }

// registrationOf is the event type that opens a stream of kind k.
func registrationOf(k domain.StreamKind) string {
	if k == domain.OrganisationStream {
		return domain.TypeOrganisationRegistered
	}
	return domain.TypePractitionerRegistered
}

// streamNamespace derives a new stream's id from the id of the event that
// opens it, so that a retried registration opens the same stream.
var streamNamespace = uuid.MustParse("6f1c2b8e-3d4a-5e6f-8a9b-0c1d2e3f4a5b")

// Register opens a new stream of kind k with its registration event
// (PractitionerRegistered or OrganisationRegistered), appended only if the
// stream does not exist yet. A retry with the same proposal ID opens nothing
// new and returns the original result.
func (r *Recorder) Register(ctx context.Context, by auth.Principal, k domain.StreamKind, p Proposal) (Recorded, error) {
	if p.Type == "" {
		p.Type = registrationOf(k)
	}
	if p.Type != registrationOf(k) {
		return Recorded{}, invalidf("type", "must be %s here", registrationOf(k))
	}
	if p.ExpectedRevision != nil {
		return Recorded{}, invalidf("expected_revision", "has no meaning when opening a new stream; leave it out")
	}
	if p.ID == uuid.Nil {
		p.ID = uuid.New()
	}
	id := uuid.NewSHA1(streamNamespace, p.ID[:])
	return r.record(ctx, by, domain.StreamName(k, id), p, true, nil)
}

// Open opens the named stream with its registration event, as Register
// does for a stream it names itself. `ledger import` uses it, so that
// historical records keep the ids they were given.
func (r *Recorder) Open(ctx context.Context, by auth.Principal, stream string, p Proposal) (Recorded, error) {
	kind, _, ok := domain.ParseStream(stream)
	if !ok {
		return Recorded{}, invalidf("stream", "%q is not practitioner-<uuid> or organisation-<uuid>", stream)
	}
	if p.Type != registrationOf(kind) {
		return Recorded{}, invalidf("type", "a %s stream opens with %s", kind, registrationOf(kind))
	}
	return r.record(ctx, by, stream, p, true, nil)
}

// Record appends one fact to an existing stream (practitioner-<uuid> or
// organisation-<uuid>). Bad input is an invalid error naming the field;
// an unknown stream not_found; a stale expected revision or a reused id
// with a different body a conflict; a decision whose requirements are
// unmet, without exception, refused. Nothing is stored on any error.
//
// DecisionReviewed is refused here, whoever proposes it: a review is
// recorded only through Review, by a reviewer. `ledger import` records
// through Record too, so it cannot record reviews either.
func (r *Recorder) Record(ctx context.Context, by auth.Principal, stream string, p Proposal) (Recorded, error) {
	if err := recordable(p); err != nil {
		return Recorded{}, err
	}
	return r.record(ctx, by, stream, p, false, nil)
}

// recordable refuses, in Record and DryRun, the types other paths record.
func recordable(p Proposal) error {
	switch p.Type {
	case domain.TypePersonalDataErased:
		// It must come with the key's deletion, which only Erase does.
		return invalidf("type", "%s is recorded by an erasure: POST /v1/practitioners/{id}/erasure with a reason", p.Type)
	case domain.TypeDecisionReviewed:
		return domain.Errorf(domain.EFORBIDDEN, "type", "DecisionReviewed is recorded only by a reviewer, through POST /v1/decisions/{event_id}/reviews")
	}
	return nil
}

// Review records a DecisionReviewed (p.Type may be left empty) on the
// stream of the decision it names. Only a reviewer reviews, and nobody
// reviews a decision recorded under their own name: quality control is a
// second pair of eyes. Otherwise it is Record.
func (r *Recorder) Review(ctx context.Context, by auth.Principal, stream string, p Proposal) (Recorded, error) {
	if by.Role != auth.RoleReviewer {
		return Recorded{}, domain.Errorf(domain.EFORBIDDEN, "", "Only the reviewer role records reviews, not the %s role.", by.Role)
	}
	if p.Type == "" {
		p.Type = domain.TypeDecisionReviewed
	}
	if p.Type != domain.TypeDecisionReviewed {
		return Recorded{}, invalidf("type", "a review is a DecisionReviewed, not %s", p.Type)
	}
	return r.record(ctx, by, stream, p, false, nil)
}

// DryRun is what Recorder.DryRun found: the proposal would be recorded,
// and, for a decision, the evaluation it would be stored with.
type DryRun struct {
	// DryRun is always true: nothing was stored.
	DryRun bool   `json:"dry_run"`
	Type   string `json:"type"`
	Stream string `json:"stream"`
	// AlreadyRecorded is true when the proposal's id is already stored
	// with the same body: recording it would return the original result.
	AlreadyRecorded bool `json:"already_recorded"`
	// RulebookVersion and Evaluation are set for a decision: the rulebook
	// it would be evaluated under and the evaluation on the history known
	// now. Evaluation is null for a fact that is not a decision.
	RulebookVersion string             `json:"rulebook_version,omitempty"`
	Evaluation      *domain.Evaluation `json:"evaluation"`
}

// DryRun takes p through exactly the path Record takes (validation,
// references, the evaluation of a decision against the history known now)
// and stops before the append: it stores nothing. Its errors are Record's:
// a decision with a requirement unmet and no exception is refused, the
// refusal carrying the evaluation.
func (r *Recorder) DryRun(ctx context.Context, by auth.Principal, stream string, p Proposal) (DryRun, error) {
	d := DryRun{DryRun: true, Type: p.Type, Stream: stream}
	if err := recordable(p); err != nil {
		return DryRun{}, err
	}
	if _, err := r.record(ctx, by, stream, p, false, &d); err != nil {
		return DryRun{}, err
	}
	return d, nil
}

// record is the write path. With dry set it stops before the append,
// filling dry with what would have been stored.
func (r *Recorder) record(ctx context.Context, by auth.Principal, stream string, p Proposal, opening bool, dry *DryRun) (Recorded, error) {
	kind, _, ok := domain.ParseStream(stream)
	if !ok {
		return Recorded{}, domain.Errorf(domain.ENOTFOUND, "", "%q is not a practitioner or organisation stream", stream)
	}
	if by.Name == "" {
		return Recorded{}, domain.Errorf(domain.EUNAUTHORIZED, "", "No principal to record the event as.")
	}
	if by.Role == auth.RoleReviewer && p.Type != domain.TypeDecisionReviewed && p.Type != domain.TypeEventRetracted {
		return Recorded{}, domain.Errorf(domain.EFORBIDDEN, "type", "the reviewer role records reviews and retractions of reviews only, not %q", p.Type)
	}
	if by.Role == auth.RoleAuditor {
		return Recorded{}, domain.Errorf(domain.EFORBIDDEN, "", "The auditor role records nothing.")
	}
	ev, fact, err := r.check(kind, p)
	if err != nil {
		return Recorded{}, err
	}
	if !opening && (p.Type == domain.TypePractitionerRegistered || p.Type == domain.TypeOrganisationRegistered) {
		return Recorded{}, invalidf("type", "%s opens a stream: POST it to /v1/%ss instead", p.Type, kind)
	}

	// The whole stream is read only when something needs it: a retry to
	// find, a revision to check, a decision to evaluate, an event to refer
	// to. A plain new fact needs only to know the stream exists (read once,
	// then remembered), and leaves the revision check to the store.
	_, isDecision := domain.DecisionOf(ev)
	plain := !opening && !isDecision && p.ID == uuid.Nil && p.ExpectedRevision == nil && !refersWithin(ev)
	var stored []eventstore.RecordedEvent
	known := plain && r.exists.has(stream)
	if !known {
		opts := eventstore.ReadOptions{}
		if plain {
			opts.UpToRevision = new(uint64)
		}
		stored, err = r.store.ReadStream(ctx, stream, opts)
		if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
			return Recorded{}, err
		}
		if len(stored) > 0 {
			r.exists.add(stream)
		} else if plain {
			return Recorded{}, notRegistered(stream)
		}
	}
	if p.ID != uuid.Nil {
		if prev, ok := findEvent(stored, p.ID); ok {
			if dry != nil {
				dry.AlreadyRecorded = true
			}
			return retried(r.keys, prev, by, ev, p)
		}
	} else {
		p.ID = uuid.New()
	}
	expected := eventstore.Any()
	switch {
	case opening:
		expected = eventstore.NoStream()
		if len(stored) > 0 {
			return Recorded{}, conflict(stream, "", expected, stored, "this stream is already registered")
		}
	case plain:
		// The stream exists; the store checks nothing more.
	case len(stored) == 0:
		return Recorded{}, notRegistered(stream)
	case p.ExpectedRevision != nil:
		expected = eventstore.Exact(*p.ExpectedRevision)
		if cur := stored[len(stored)-1].Revision; cur != *p.ExpectedRevision {
			return Recorded{}, conflict(stream, "expected_revision", expected, stored, fmt.Sprintf("the stream is at revision %d, not %d", cur, *p.ExpectedRevision))
		}
	}
	if err := r.checkReferences(ctx, by, stream, stored, ev); err != nil {
		return Recorded{}, err
	}
	if dec, isDecision := domain.DecisionOf(ev); isDecision {
		// The evaluation must be of exactly the history the append lands
		// on: appending with that revision expected makes any event that
		// lands in between a conflict, never an unseen change.
		rev := stored[len(stored)-1].Revision
		expected = eventstore.Exact(rev)
		version, eval, err := r.evaluate(ctx, stream, ev, fact.OccurredOn)
		if err != nil {
			return Recorded{}, err
		}
		dec.RulebookVersion, dec.Evaluation = version, eval
		if dry != nil {
			dry.RulebookVersion, dry.Evaluation = version, eval
		}
	}
	if dry != nil {
		if err := r.sealable(stream, ev); err != nil {
			return Recorded{}, err
		}
		return Recorded{EventID: p.ID, Stream: stream}, nil
	}
	data, version, err := domain.Encode(ev)
	if err != nil {
		return Recorded{}, err
	}
	if data, err = r.seal(stream, p.ID, p.Type, data); err != nil {
		if r.observe != nil && errors.Is(err, eventstore.ErrNoSpace) {
			// The key file's disk is full: an append refused for want of
			// space, logged once as the store's own would be.
			r.observe(p.Type, 0, err)
		}
		return Recorded{}, err
	}
	ed := eventstore.EventData{
		ID: p.ID, Type: p.Type, SchemaVersion: version, OccurredOn: fact.OccurredOn.String(),
		RecordedBy: by.Name, Data: data,
	}
	// The append is not abandoned half-way because the client went away:
	// its result stands, and a retry with the same id finds it.
	actx := context.WithoutCancel(ctx)
	start := time.Now()
	res, err := r.store.Append(actx, stream, expected, ed)
	if r.observe != nil {
		r.observe(p.Type, time.Since(start), err)
	}
	if err != nil {
		var rc *eventstore.RevisionConflictError
		if errors.As(err, &rc) {
			return Recorded{}, fmt.Errorf("%w: %w", domain.Errorf(domain.ECONFLICT, "", "%s moved on while the event was being recorded; read it again and retry", stream), err)
		}
		return Recorded{}, err
	}
	if !known {
		r.exists.add(stream) // a stream just opened; else it was read above
	}
	return Recorded{EventID: p.ID, Stream: stream, Revision: res.LastRevision, Position: res.LastPosition}, nil
}

// notRegistered is the error for a fact proposed to a stream not opened.
func notRegistered(stream string) error {
	return domain.Errorf(domain.ENOTFOUND, "", "%s is not registered", strings.Replace(stream, "-", " ", 1))
}

// check decodes and validates a proposal on its own: the event type and
// its data (strictly), the kind of stream it may go in, and its effective
// date, which must be a real date no later than today.
func (r *Recorder) check(kind domain.StreamKind, p Proposal) (domain.Event, domain.Fact, error) {
	ev, err := domain.DecodeNew(p.Type, p.Data)
	if err != nil {
		return nil, domain.Fact{}, err
	}
	info, _ := domain.Lookup(p.Type)
	if !info.AllowedIn(kind) {
		return nil, domain.Fact{}, invalidf("type", "%s belongs in a %s stream, not a %s stream", p.Type, info.Streams, kind)
	}
	if p.OccurredOn == "" {
		return nil, domain.Fact{}, invalidf("occurred_on", "is required: the date it happened, as YYYY-MM-DD")
	}
	on, err := domain.ParseDate(p.OccurredOn)
	if err != nil {
		return nil, domain.Fact{}, invalidf("occurred_on", "%s", err.Error())
	}
	if today := domain.DateOf(r.now().UTC()); on.After(today) {
		return nil, domain.Fact{}, invalidf("occurred_on", "%s is in the future (today is %s): record facts once they have happened", on, today)
	}
	fact := domain.Fact{ID: p.ID, OccurredOn: on, Event: ev}
	if err := domain.ValidateFact(fact); err != nil {
		return nil, domain.Fact{}, err
	}
	return ev, fact, nil
}

// checkReferences refuses events that name what the ledger does not hold:
// a retraction or review must name an event of its own stream (a review,
// a decision), and an organisation named must be registered. It also
// keeps quality control apart from what it controls: nobody reviews a
// decision they recorded, and only a reviewer retracts a review (or a
// retraction of one), while a reviewer retracts nothing else.
func (r *Recorder) checkReferences(ctx context.Context, by auth.Principal, stream string, stored []eventstore.RecordedEvent, ev domain.Event) error {
	switch e := ev.(type) {
	case *domain.EventRetracted:
		prev, ok := findEvent(stored, e.RetractedEventID)
		if !ok {
			return invalidf("data.retracted_event_id", "%s is not an event of %s", e.RetractedEventID, stream)
		}
		if prev.Type == domain.TypePersonalDataErased {
			return invalidf("data.retracted_event_id", "%s is an erasure: the key is deleted, and no retraction brings the data back", e.RetractedEventID)
		}
		review, err := retractsReview(stored, e.RetractedEventID)
		if err != nil {
			return err
		}
		switch {
		case review && by.Role != auth.RoleReviewer:
			return domain.Errorf(domain.EFORBIDDEN, "data.retracted_event_id", "%s is a review, or the retraction of one: only a reviewer retracts it", e.RetractedEventID)
		case !review && by.Role == auth.RoleReviewer:
			return domain.Errorf(domain.EFORBIDDEN, "data.retracted_event_id", "the reviewer role retracts reviews only, and %s is not one", e.RetractedEventID)
		}
	case *domain.DecisionReviewed:
		prev, ok := findEvent(stored, e.DecisionEventID)
		if !ok {
			return invalidf("data.decision_event_id", "%s is not an event of %s", e.DecisionEventID, stream)
		}
		if info, _ := domain.Lookup(prev.Type); !info.Decision {
			return invalidf("data.decision_event_id", "%s is a %s, not a decision", e.DecisionEventID, prev.Type)
		}
		if prev.RecordedBy == by.Name {
			return domain.Errorf(domain.EFORBIDDEN, "data.decision_event_id", "%s was recorded by %s: nobody reviews a decision they recorded", e.DecisionEventID, by.Name)
		}
	}
	if id, ok := domain.OrganisationNamed(ev); ok {
		const field = "data.organisation_id" // every event that names one names it so
		org := domain.StreamName(domain.OrganisationStream, id)
		if r.exists.has(org) {
			return nil
		}
		_, err := r.store.ReadStream(ctx, org, eventstore.ReadOptions{UpToRevision: new(uint64)})
		switch {
		case errors.Is(err, eventstore.ErrStreamNotFound):
			return invalidf(field, "%s is not a registered organisation", id)
		case err != nil:
			return err
		}
		r.exists.add(org)
	}
	return nil
}

// retractsReview reports whether retracting the event id of stored touches
// a review: id is a DecisionReviewed, or a retraction whose target (or its
// target's target…) is one, so that retracting it would restore a review.
func retractsReview(stored []eventstore.RecordedEvent, id uuid.UUID) (bool, error) {
	// A retraction names an earlier event, so the chain ends within the
	// stream's length.
	for range len(stored) {
		e, ok := findEvent(stored, id)
		if !ok {
			return false, nil
		}
		switch e.Type {
		case domain.TypeDecisionReviewed:
			return true, nil
		case domain.TypeEventRetracted:
			ev, err := domain.DecodeStored(e.Type, e.SchemaVersion, e.Data)
			if err != nil {
				return false, fmt.Errorf("api: decode stored %s: %w", e.ID, err)
			}
			rt, ok := ev.(*domain.EventRetracted)
			if !ok {
				return false, fmt.Errorf("api: stored %s decodes as %T", e.ID, ev)
			}
			id = rt.RetractedEventID
		default:
			return false, nil
		}
	}
	return false, nil
}

// refersWithin reports whether ev names another event of its stream.
func refersWithin(ev domain.Event) bool {
	switch ev.(type) {
	case *domain.EventRetracted, *domain.DecisionReviewed:
		return true
	}
	return false
}

func findEvent(events []eventstore.RecordedEvent, id uuid.UUID) (eventstore.RecordedEvent, bool) {
	for _, e := range events {
		if e.ID == id {
			return e, true
		}
	}
	return eventstore.RecordedEvent{}, false
}

// retried answers a proposal whose id is already stored: the original
// result when it is the same fact recorded by the same principal, a
// conflict otherwise. A decision's stored evaluation is left out of the
// comparison: it is the ledger's, and a retry may come after the history
// moved on.
func retried(keys *keystore.Keys, prev eventstore.RecordedEvent, by auth.Principal, ev domain.Event, p Proposal) (Recorded, error) {
	same := prev.Type == p.Type && prev.OccurredOn == p.OccurredOn && prev.RecordedBy == by.Name
	if same {
		stored, err := decodeStored(keys, prev)
		if err != nil {
			return Recorded{}, fmt.Errorf("api: decode stored %s: %w", prev.ID, err)
		}
		if d, ok := domain.DecisionOf(stored); ok {
			d.RulebookVersion, d.Evaluation = "", nil
		}
		a, _, err1 := domain.Encode(stored)
		b, _, err2 := domain.Encode(ev)
		same = err1 == nil && err2 == nil && bytes.Equal(a, b)
	}
	if !same {
		return Recorded{}, fmt.Errorf("%w: %w", domain.Errorf(domain.ECONFLICT, "id", "event %s is already recorded with a different body", p.ID), eventstore.ErrIdempotencyMismatch)
	}
	return Recorded{EventID: prev.ID, Stream: prev.Stream, Revision: prev.Revision, Position: prev.Position}, nil
}

// conflict is a revision conflict on stream, carrying its current revision.
func conflict(stream, field string, expected eventstore.ExpectedRevision, stored []eventstore.RecordedEvent, msg string) error {
	rc := &eventstore.RevisionConflictError{Stream: stream, Expected: expected}
	if len(stored) > 0 {
		rc.Current, rc.Exists = stored[len(stored)-1].Revision, true
	}
	return fmt.Errorf("%w: %w", domain.Errorf(domain.ECONFLICT, field, "%s", msg), rc)
}

// invalidf returns an invalid-input error naming field.
func invalidf(field, format string, args ...any) error {
	return domain.Errorf(domain.EINVALID, field, format, args...)
}

// Observe makes r tell observe of every append's latency and outcome (the
// server's metrics and disk-full gauge). Call it before r is used.
func (r *Recorder) Observe(observe func(typ string, d time.Duration, err error)) {
	r.observe = observe
}

// UseMembers makes r find an organisation's practitioners with members,
// for the evaluation of the organisation's decisions. Call it before r is
// used.
func (r *Recorder) UseMembers(members MembersFunc) { r.members = members }

// UseLicenceGrants makes r find the grants of a licence_id in other
// streams with grants, for the evaluation of a LicenceGranted. Call it
// before r is used.
func (r *Recorder) UseLicenceGrants(grants LicenceGrantsFunc) { r.licenceGrants = grants }
