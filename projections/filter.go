package projections

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/keystore"
)

// retractions returns, for events in revision order, which event retracts
// which: target id -> the id of the retraction that counts, by the domain's
// rule (domain.EffectiveRetractions). Only the retractions are decoded.
// Retractions whose data cannot be decoded are an error: history that was
// accepted must decode.
func retractions(events []eventstore.RecordedEvent) (map[uuid.UUID]uuid.UUID, error) {
	var facts []domain.Fact
	for _, e := range events {
		if e.Type != domain.TypeEventRetracted {
			continue
		}
		ev, err := domain.DecodeStored(e.Type, e.SchemaVersion, e.Data)
		if err != nil {
			return nil, err
		}
		facts = append(facts, domain.Fact{ID: e.ID, Event: ev})
	}
	return domain.EffectiveRetractions(facts), nil
}

// streamFacts is one stream decoded once: facts in revision order
// (retractions included), the global position of each, the revision of the
// last, and retractedBy mapping each effectively retracted event to the
// retraction that counts.
type streamFacts struct {
	facts       []domain.Fact
	positions   []eventstore.Position
	revision    uint64
	retractedBy map[uuid.UUID]uuid.UUID
}

// decodeStream decodes a stream's events (revision order, at least one) and
// settles its retractions.
func decodeStream(events []eventstore.RecordedEvent, keys *keystore.Keys) (*streamFacts, error) {
	return decodeStreamAsOf(events, domain.Date{}, keys)
}

// notYetOccurred returns, for an event that occurred after asOf (not zero),
// the fact that stands in for it undecoded: its id and dates only. A
// retraction is always decoded, whatever its date.
func notYetOccurred(e *eventstore.RecordedEvent, asOf domain.Date) (domain.Fact, bool, error) {
	if asOf.IsZero() || e.Type == domain.TypeEventRetracted {
		return domain.Fact{}, false, nil
	}
	on, err := domain.ParseDate(e.OccurredOn)
	if err != nil {
		return domain.Fact{}, false, fmt.Errorf("projections: event %s (%s revision %d): occurred_on: %w", e.ID, e.Stream, e.Revision, err)
	}
	if !on.After(asOf) {
		return domain.Fact{}, false, nil
	}
	return domain.Fact{ID: e.ID, OccurredOn: on, RecordedAt: e.RecordedAt, RecordedBy: e.RecordedBy}, true, nil
}

// decodeStreamAsOf is decodeStream for a fold as of asOf (zero: every
// date): events that occurred after asOf are left undecoded (their Event
// nil), since they will not be folded, except retractions, which apply
// whatever their own date. Decoding is most of a view's cost.
func decodeStreamAsOf(events []eventstore.RecordedEvent, asOf domain.Date, keys *keystore.Keys) (*streamFacts, error) {
	facts := make([]domain.Fact, len(events))
	positions := make([]eventstore.Position, len(events))
	for i, e := range events {
		positions[i] = e.Position
		if later, ok, err := notYetOccurred(&e, asOf); err != nil {
			return nil, err
		} else if ok {
			facts[i] = later
			continue
		}
		f, err := factOf(e, nil, keys)
		if err != nil {
			return nil, err
		}
		facts[i] = f
	}
	return settle(facts, positions, events[len(events)-1].Revision), nil
}

// settle makes a streamFacts of decoded facts and works out which
// retractions count (domain.EffectiveRetractions), for the audit trail and
// the decision queue; the fold applies the same rule to the facts itself.
func settle(facts []domain.Fact, positions []eventstore.Position, revision uint64) *streamFacts {
	s := &streamFacts{facts: facts, positions: positions, revision: revision}
	if by := domain.EffectiveRetractions(facts); len(by) > 0 {
		s.retractedBy = by
	}
	return s
}

// qualifying returns the facts to fold as of asOf: those that occurred on
// or before asOf, and every retraction whatever its date, minus skip (a
// decision re-evaluated without itself). Retracted facts and their
// retractions are kept: the domain's fold applies them (one rule for
// retractions, domain.EffectiveRetractions).
//
// Rulebook v1 reading: a retraction corrects a mistake in the record, not a
// change in the world, so it applies whenever it is known, whatever its own
// occurred_on. The known_at cut (done by the store read) is what hides a
// retraction recorded later.
//
// A zero asOf keeps every occurrence date. later is the earliest occurred_on
// after asOf among the facts left out (zero when none): a date on which the
// answer can change with no new event.
func (s *streamFacts) qualifying(asOf domain.Date, skip uuid.UUID) (facts []domain.Fact, later domain.Date) {
	if s.allQualify(asOf, skip) {
		return s.facts, domain.Date{} // the common case in a rebuild: no copy
	}
	facts = make([]domain.Fact, 0, len(s.facts))
	for _, f := range s.facts {
		if f.ID == skip {
			continue
		}
		if f.Event == nil || !asOf.IsZero() && f.OccurredOn.After(asOf) && f.Event.EventType() != domain.TypeEventRetracted {
			if _, gone := s.retractedBy[f.ID]; !gone && (later.IsZero() || f.OccurredOn.Before(later)) {
				later = f.OccurredOn
			}
			continue
		}
		facts = append(facts, f)
	}
	return facts, later
}

// allQualify reports whether qualifying would keep every fact.
func (s *streamFacts) allQualify(asOf domain.Date, skip uuid.UUID) bool {
	for _, f := range s.facts {
		if f.Event == nil || f.ID == skip || !asOf.IsZero() && f.OccurredOn.After(asOf) {
			return false
		}
	}
	return true
}
