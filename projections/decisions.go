package projections

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
)

// Decision queue statuses accepted by Decisions.
const (
	StatusAll        = "all"
	StatusUnreviewed = "unreviewed"
	StatusException  = "exception"
)

// DecisionItem is a decision in the QC queue.
type DecisionItem struct {
	DecisionEventID uuid.UUID   `json:"decision_event_id"`
	Stream          string      `json:"stream"`
	Type            string      `json:"type"`
	DecidedBy       string      `json:"decided_by"`
	Rationale       string      `json:"rationale"`
	Exception       bool        `json:"exception"`
	RulebookVersion string      `json:"rulebook_version"`
	OccurredOn      domain.Date `json:"occurred_on"`
	RecordedAt      string      `json:"recorded_at"`
	RecordedBy      string      `json:"recorded_by"`
	Position        uint64      `json:"position"`
	// Met is whether the evaluation stored with the decision found every
	// requirement met; nil when none was stored.
	Met *bool `json:"met"`
	// RetractedBy is the retraction that removed the decision, if any.
	RetractedBy *uuid.UUID `json:"retracted_by"`
	// Reviews are the reviews that stand; a decision with none is
	// unreviewed.
	Reviews []ReviewItem `json:"reviews"`
	// RetractedReviews are reviews a reviewer took back, each with its
	// retraction: the decision is unreviewed again unless another stands.
	RetractedReviews []ReviewItem `json:"retracted_reviews"`
}

// ReviewItem is one DecisionReviewed event.
type ReviewItem struct {
	EventID    uuid.UUID            `json:"event_id"`
	Outcome    domain.ReviewOutcome `json:"outcome"`
	Notes      string               `json:"notes"`
	ReviewedBy string               `json:"reviewed_by"`
	OccurredOn domain.Date          `json:"occurred_on"`
	RecordedAt string               `json:"recorded_at"`
	// Retraction is set on a retracted review only.
	Retraction *RetractionItem `json:"retraction,omitempty"`
}

// RetractionItem is the EventRetracted that took a review back.
type RetractionItem struct {
	EventID     uuid.UUID `json:"event_id"`
	Reason      string    `json:"reason"`
	RetractedBy string    `json:"retracted_by"`
	RecordedAt  string    `json:"recorded_at"`
}

// Decisions returns the QC queue, oldest first: every decision ("all" or
// ""), those with no review yet ("unreviewed"), or those taken as exceptions
// ("exception", reviewed or not).
func (p *Projector) Decisions(ctx context.Context, status string) ([]DecisionItem, error) {
	switch status {
	case "", StatusAll, StatusUnreviewed, StatusException:
	default:
		return nil, invalid("status", "%q is not one of all, unreviewed, exception", status)
	}
	m := p.cur.Load()
	if m == nil {
		return nil, ErrNotReady
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := []DecisionItem{}
	for _, d := range m.decisions {
		reviews := m.reviews[d.EventID]
		switch {
		case status == StatusUnreviewed && (standing(reviews) || d.RetractedBy != nil):
			continue
		case status == StatusException && !d.Exception:
			continue
		}
		out = append(out, decisionItem(d, reviews))
	}
	slices.SortFunc(out, func(a, b DecisionItem) int { return cmpUint(a.Position, b.Position) })
	return out, nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func decisionItem(d *decisionRec, reviews []reviewRec) DecisionItem {
	it := DecisionItem{
		DecisionEventID: d.EventID, Stream: d.Stream, Type: d.Type, DecidedBy: d.DecidedBy,
		Rationale: d.Rationale, Exception: d.Exception, RulebookVersion: d.RulebookVersion,
		OccurredOn: d.OccurredOn.date(), RecordedAt: d.RecordedAt.UTC().Format(timeFormat),
		RecordedBy: d.RecordedBy, Position: uint64(d.Position), Met: d.Met, RetractedBy: d.RetractedBy,
		Reviews: make([]ReviewItem, 0, len(reviews)), RetractedReviews: []ReviewItem{},
	}
	for _, r := range reviews {
		ri := ReviewItem{
			EventID: r.EventID, Outcome: r.Outcome, Notes: r.Notes, ReviewedBy: r.RecordedBy,
			OccurredOn: r.OccurredOn.date(), RecordedAt: r.RecordedAt.UTC().Format(timeFormat),
		}
		if rt := r.Retraction; rt != nil {
			ri.Retraction = &RetractionItem{
				EventID: rt.EventID, Reason: rt.Reason, RetractedBy: rt.RecordedBy,
				RecordedAt: rt.RecordedAt.UTC().Format(timeFormat),
			}
			it.RetractedReviews = append(it.RetractedReviews, ri)
			continue
		}
		it.Reviews = append(it.Reviews, ri)
	}
	byTime := func(a, b ReviewItem) int { return strings.Compare(a.RecordedAt, b.RecordedAt) }
	slices.SortFunc(it.Reviews, byTime)
	slices.SortFunc(it.RetractedReviews, byTime)
	return it
}

// standing reports whether any of reviews stands (is not retracted).
func standing(reviews []reviewRec) bool {
	return slices.ContainsFunc(reviews, func(r reviewRec) bool { return r.Retraction == nil })
}

// DecisionView is one decision with three evaluations of its requirements:
// as stored when it was taken, as re-computed now on the history known at
// that moment (which should agree with the stored one: a check on the
// ledger), and as re-computed on everything known now (which differs when
// evidence was retracted or recorded late).
type DecisionView struct {
	DecisionItem
	// Evaluation is the evaluation stored with the decision.
	Evaluation *domain.Evaluation `json:"evaluation"`
	// EvaluationThen is the decision evaluated again on the history as
	// known when it was recorded, without the decision itself.
	EvaluationThen *domain.Evaluation `json:"evaluation_then"`
	// Reevaluation is the decision evaluated on everything known now about
	// the history up to its effective date, without the decision itself.
	Reevaluation *domain.Evaluation `json:"reevaluation"`
	// EvaluationThenRulebook is the rulebook version EvaluationThen used:
	// the one the decision was taken under (the current one when the
	// ledger does not know it). ReevaluationRulebook is the current one.
	EvaluationThenRulebook string `json:"evaluation_then_rulebook_version"`
	ReevaluationRulebook   string `json:"reevaluation_rulebook_version"`

	readTo eventstore.Position
}

// ReadTo is the highest global position among the events the view read
// from the store itself (the decision's stream, organisations, members,
// licence grants elsewhere): beyond the models' checkpoint when the store
// had events the models had not taken in yet.
func (v DecisionView) ReadTo() eventstore.Position { return v.readTo }

// Decision returns one decision of the queue with its evaluations and
// reviews; an unknown decision gives ErrNotFound.
func (p *Projector) Decision(ctx context.Context, eventID uuid.UUID) (DecisionView, error) {
	ctx, mark := withReadMark(ctx)
	m := p.cur.Load()
	if m == nil {
		return DecisionView{}, ErrNotReady
	}
	m.mu.RLock()
	d, ok := m.decisions[eventID]
	var item DecisionItem
	if ok {
		item = decisionItem(d, m.reviews[eventID])
	}
	m.mu.RUnlock()
	if !ok {
		return DecisionView{}, notFound("decision "+eventID.String(), time.Time{})
	}
	events, err := p.store.ReadStream(ctx, item.Stream, eventstore.ReadOptions{})
	if err != nil {
		return DecisionView{}, fmt.Errorf("projections: read %s: %w", item.Stream, err)
	}
	noteRead(ctx, events)
	sf, err := decodeStream(events, p.keys)
	if err != nil {
		return DecisionView{}, fmt.Errorf("projections: %s: %w", item.Stream, err)
	}
	i := slices.IndexFunc(sf.facts, func(f domain.Fact) bool { return f.ID == eventID })
	if i < 0 {
		return DecisionView{}, notFound("decision "+eventID.String(), time.Time{})
	}
	decision := sf.facts[i]
	view := DecisionView{DecisionItem: item}
	if dec, ok := domain.DecisionOf(decision.Event); ok {
		view.Evaluation = dec.Evaluation
	}
	// Then: what the stream held when the decision was appended (its
	// earlier revisions, all recorded at or before it), the decision left
	// out; organisations as known at its recorded time.
	// Then is evaluated under the rulebook the decision was taken with; now
	// under the current one.
	then := settle(sf.facts[:i], sf.positions[:i], 0)
	thenRB, _ := p.rules.rbs.Version(item.RulebookVersion)
	if view.EvaluationThen, err = p.evaluateDecision(ctx, thenRB, item.Stream, then, decision, decision.RecordedAt); err != nil {
		return DecisionView{}, err
	}
	if view.Reevaluation, err = p.evaluateDecision(ctx, p.rules.rb, item.Stream, sf, decision, time.Time{}); err != nil {
		return DecisionView{}, err
	}
	view.EvaluationThenRulebook, view.ReevaluationRulebook = thenRB.Version, p.rules.rb.Version
	view.readTo = mark.position()
	return view, nil
}

// evaluateDecision evaluates decision again under rb on sf's facts as of the
// decision's effective date, the decision itself left out, with the
// organisations (and, for an organisation's decision, its members) folded,
// and the grants of a licence_id in other streams read, as known at knownAt
// (zero: now).
func (p *Projector) evaluateDecision(ctx context.Context, rb *domain.Rulebook, stream string, sf *streamFacts, decision domain.Fact, knownAt time.Time) (*domain.Evaluation, error) {
	on := decision.OccurredOn
	facts, _ := sf.qualifying(on, decision.ID)
	in := domain.DecisionInputs{
		Organisation: func(org uuid.UUID) (*domain.Organisation, error) {
			orgs, err := p.organisationsOf(ctx, []uuid.UUID{org}, on, knownAt)
			if err != nil {
				return nil, err
			}
			return orgs[org], nil
		},
		Members: func(org uuid.UUID) ([]*domain.Practitioner, error) { return p.membersOf(ctx, org, on, knownAt) },
		LicenceGrants: func(licenceID string) ([]uuid.UUID, error) {
			return p.LicenceGrants(ctx, licenceID, stream, on, knownAt)
		},
	}
	ev, err := rb.EvaluateInStream(stream, facts, decision.Event, on, in)
	if err != nil {
		return nil, fmt.Errorf("projections: %s: %w", stream, err)
	}
	return &ev, nil
}

// membersOf folds, as of on and as known at knownAt, the practitioners who
// work in or with organisation org on that date.
func (p *Projector) membersOf(ctx context.Context, org uuid.UUID, on domain.Date, knownAt time.Time) ([]*domain.Practitioner, error) {
	m := p.cur.Load()
	m.mu.RLock()
	ids := make([]uuid.UUID, 0, len(m.refs[org]))
	for id := range m.refs[org] {
		ids = append(ids, id)
	}
	m.mu.RUnlock()
	slices.SortFunc(ids, lessID)
	var out []*domain.Practitioner
	for _, id := range ids {
		facts, found, err := p.factsAsOf(ctx, PractitionerStream(id), on, knownAt)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		pr, err := domain.Fold(id, facts)
		if err != nil {
			return nil, fmt.Errorf("projections: %s: %w", PractitionerStream(id), err)
		}
		if slices.ContainsFunc(pr.Memberships(on), func(ms domain.Membership) bool { return ms.OrganisationID == org }) {
			out = append(out, pr)
		}
	}
	return out, nil
}
