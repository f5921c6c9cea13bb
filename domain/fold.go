package domain

import "github.com/google/uuid"

// The fold: a practitioner's (or an organisation's) facts, kept with their
// event ids so that every evaluation can cite its evidence. The fold keeps
// facts rather than conclusions: a licence's status, a role's status or a
// level is worked out on the date asked, so that facts dated in the future,
// facts recorded out of date order and retractions arriving late all give
// the same answer as a fold of the history in any stream order would.

// meta is what the fold keeps of every fact: its id, its effective date and
// whether an EventRetracted has removed it from every evaluation.
type meta struct {
	ID        uuid.UUID
	On        Date
	Retracted bool
}

func (m *meta) getMeta() *meta { return m }

// counts reports whether the fact counts in an evaluation on date on.
func (m *meta) counts(on Date) bool { return !m.Retracted && !m.On.After(on) }

// metaPtr is a pointer to a record type that embeds meta.
type metaPtr[T any] interface {
	*T
	getMeta() *meta
}

// insertByDate adds r to s keeping s ordered by effective date, and by
// stream order among facts of the same date. History usually arrives in
// date order, so this is an append.
func insertByDate[T any, P metaPtr[T]](s []T, r T) []T {
	// r's date is read from its copy in s: taking r's own address would
	// move every record inserted to the heap.
	s = append(s, r)
	on := P(&s[len(s)-1]).getMeta().On
	i := len(s) - 1
	for i > 0 && P(&s[i-1]).getMeta().On.After(on) {
		i--
	}
	if i < len(s)-1 {
		copy(s[i+1:], s[i:len(s)-1])
		s[i] = r
	}
	return s
}

// markRetracted sets each record's Retracted flag from the set of
// effectively retracted ids.
func markRetracted[T any, P metaPtr[T]](s []T, retracted map[uuid.UUID]bool) {
	for i := range s {
		m := P(&s[i]).getMeta()
		m.Retracted = retracted[m.ID]
	}
}

// visit calls fn for the meta of every record in s.
func visit[T any, P metaPtr[T]](s []T, fn func(*meta)) {
	for i := range s {
		fn(P(&s[i]).getMeta())
	}
}

// sized returns an empty s with room for n: s itself (nil, or emptied by
// FoldReusing) when it has the room. Storage being reused that is short
// gets an eighth more, so that folding stream after stream of about one
// length into it does not allocate every other time.
func sized[T any](s []T, n int) []T {
	switch {
	case cap(s) >= n:
		return s
	case s != nil:
		return make([]T, 0, n+n/8)
	}
	return make([]T, 0, n)
}

// The records both folds keep.
type (
	retractionRec struct {
		meta
		target uuid.UUID
	}
	reviewRec struct {
		meta
		decision uuid.UUID
		outcome  ReviewOutcome
	}
)

// retractions is the part of a fold that handles EventRetracted, shared by
// practitioners and organisations.
type retractions struct {
	list []retractionRec
	// retracted holds the ids effectively retracted; nil until the first
	// retraction, so folding a history without one costs nothing.
	retracted map[uuid.UUID]bool
}

// newMeta returns the meta of a new fact, already retracted when a
// retraction naming it was folded before it (a fold as of a date may see a
// retraction whose target is dated later).
func (r *retractions) newMeta(f Fact) meta {
	m := meta{ID: f.ID, On: f.OccurredOn}
	if r.retracted != nil && r.retracted[f.ID] {
		m.Retracted = true
	}
	return m
}

// add records a retraction and recomputes the set of retracted ids. A
// retraction may itself be retracted, which restores its target; which
// retractions count is EffectiveRetractions' rule.
//
// It reports whether the change was simple: the target is not itself a
// retraction, so the only id newly retracted is the target's.
func (r *retractions) add(f Fact, target uuid.UUID) (simple bool) {
	m := r.newMeta(f)
	r.list = append(r.list, retractionRec{meta: m, target: target})
	simple = !m.Retracted
	for i := range r.list {
		if r.list[i].ID == target {
			simple = false
		}
	}
	if simple {
		if r.retracted == nil {
			r.retracted = map[uuid.UUID]bool{}
		}
		r.retracted[target] = true
		return true
	}
	by := effective(len(r.list), func(i int) (uuid.UUID, uuid.UUID) { return r.list[i].ID, r.list[i].target })
	set := make(map[uuid.UUID]bool, len(by))
	for target := range by {
		set[target] = true
	}
	r.retracted = set
	markRetracted(r.list, set)
	return false
}

// EffectiveRetractions returns, for facts in stream order, which event each
// effective retraction removes: target id -> the EventRetracted that counts.
// A retraction that is itself retracted does not count, so its target
// stands again. It is the one rule for retractions: the fold applies it
// (Practitioner.Apply, Organisation.Apply), and the audit trail and the
// decision queue name the retraction it finds. Facts that are not
// retractions are ignored, and may be left out.
func EffectiveRetractions(facts []Fact) map[uuid.UUID]uuid.UUID {
	var idx []int
	var targets []uuid.UUID
	for i := range facts {
		if r, ok := facts[i].Event.(*EventRetracted); ok && r != nil {
			idx = append(idx, i)
			targets = append(targets, r.RetractedEventID)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	return effective(len(idx), func(i int) (uuid.UUID, uuid.UUID) { return facts[idx[i]].ID, targets[i] })
}

// effective walks n retractions (id, target, in stream order) newest first:
// a retraction names an earlier event, so whether one is itself retracted is
// settled before it is reached; one that is retracted is skipped.
func effective(n int, at func(i int) (id, target uuid.UUID)) map[uuid.UUID]uuid.UUID {
	out := make(map[uuid.UUID]uuid.UUID, n)
	for i := n - 1; i >= 0; i-- {
		id, target := at(i)
		if _, gone := out[id]; gone {
			continue
		}
		out[target] = id
	}
	return out
}

// IsRetracted reports whether the event with id has been retracted.
func (r *retractions) IsRetracted(id uuid.UUID) bool { return r.retracted[id] }

// Review is a quality-control review folded from DecisionReviewed.
type Review struct {
	EventID         uuid.UUID
	On              Date
	DecisionEventID uuid.UUID
	Outcome         ReviewOutcome
}

// reviewsOf returns the unretracted reviews in rs.
func reviewsOf(rs []reviewRec) []Review {
	var out []Review
	for _, r := range rs {
		if !r.Retracted {
			out = append(out, Review{EventID: r.ID, On: r.On, DecisionEventID: r.decision, Outcome: r.outcome})
		}
	}
	return out
}
