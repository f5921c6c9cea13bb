package projections

import (
	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
)

// rules holds the rulebooks the projections evaluate with: the current one
// for standing, level and next steps (and the version the models and their
// snapshot are folded under), every version for re-evaluating a decision
// under the one it was taken with. It is the one place where projections
// call the domain's fold and rules.
type rules struct {
	rbs     *domain.Rulebooks
	rb      *domain.Rulebook
	version string
}

// newRules uses rbs, or when nil every rulebook with the domain's current
// one.
func newRules(rbs *domain.Rulebooks) *rules {
	if rbs == nil {
		rbs = domain.NewRulebooks()
	}
	rb := rbs.Current()
	return &rules{rbs: rbs, rb: rb, version: rb.Version}
}

// assessment is what one fold of a practitioner's qualifying facts gives on
// a date: what the practitioner view shows and what the list models keep.
type assessment struct {
	Name        string
	Independent bool
	Level       domain.LevelResult
	Roles       []domain.Role
	Trainee     []domain.Role
	Licences    []domain.Licence
	Standing    domain.Standing
	NextSteps   []domain.NextStep // only when asked for: the lists do not need them
	// Orgs are the organisations the practitioner is in on the date; Refs
	// every organisation the facts name.
	Orgs     []uuid.UUID
	Refs     []uuid.UUID
	Listings []domain.Directory
}

// foldScratch is the storage of a practitioner's folded state that one
// goroutine folds stream after stream into (domain.FoldReusing), for
// assessments of which nothing is kept but what they return: a summary
// re-folded after each append then allocates no new state. With kept set,
// it also keeps recent streams' states so that the next re-fold of one
// applies only its new facts (see foldStream). The zero value is ready; a
// nil *foldScratch folds into new state each time. Not safe for
// concurrent use.
type foldScratch struct {
	p    *domain.Practitioner
	kept *keptFolds // nil: none kept
}

// keptFolds are practitioners' folded states, by stream, each the fold of
// the first n facts of its stream as decoded then, all of which qualified
// on the date on. Bounded by the facts the states hold (each state counts
// keptFoldCost more for itself): when full, states are dropped at random.
type keptFolds struct {
	max, n int
	states map[string]*keptFold
	hits   int // states brought forward: for tests
}

type keptFold struct {
	p  *domain.Practitioner
	on domain.Date
	n  int
	// first and last are the events of facts 0 and n-1 as decoded when
	// folded, compared by identity: a stream decoded anew (after an
	// erasure, say) has new events, and its state is folded afresh.
	first, last domain.Event
}

// keptFoldCost is what a kept state counts for itself, in facts: the
// Practitioner is about 900 bytes, a fact's records some 40 to 60.
const keptFoldCost = 16

// keptFoldFacts bounds the facts of the states a Projector keeps folded
// for its subscription (see foldStream): some 3 MiB of records, plus up to
// 4,096 states of about 900 bytes; about 70 bytes per practitioner at
// 100,000.
const keptFoldFacts = 1 << 16

func newKeptFolds(max int) *keptFolds {
	return &keptFolds{max: max, states: make(map[string]*keptFold)}
}

// put keeps k for stream, dropping states at random while over the bound,
// and returns a state no longer kept (one dropped, or k itself when it is
// too large to keep), whose storage the caller may fold into again.
func (c *keptFolds) put(stream string, k *keptFold) (free *domain.Practitioner) {
	c.drop(stream)
	if k.n+keptFoldCost > c.max/4 {
		return k.p
	}
	for name, o := range c.states {
		if c.n+k.n+keptFoldCost <= c.max {
			break
		}
		c.n -= o.n + keptFoldCost
		delete(c.states, name)
		free = o.p
	}
	c.states[stream] = k
	c.n += k.n + keptFoldCost
	return free
}

// drop forgets stream's state.
func (c *keptFolds) drop(stream string) {
	if o := c.states[stream]; o != nil {
		c.n -= o.n + keptFoldCost
		delete(c.states, stream)
	}
}

// foldStream folds facts, the facts of stream that qualify on date on (all
// of the stream's when all is set), for practitioner id. When sc keeps
// states and holds one of stream folded on the same date from the same
// decoded facts, which facts continue, the state is brought forward by
// applying only the facts that follow (domain: a fold is its facts applied
// in stream order, so the state is the fold of all of them); any other
// case folds afresh. Only a fold of the whole stream is kept, so that a
// kept state always begins with the stream's first fact. A state handed
// out is changed by the next call: what is evaluated from it must not
// refer to it (the domain's evaluations never do).
func (sc *foldScratch) foldStream(id uuid.UUID, stream string, facts []domain.Fact, all bool, on domain.Date) (*domain.Practitioner, error) {
	if sc == nil || sc.kept == nil {
		return sc.fold(id, facts)
	}
	k := sc.kept.states[stream]
	if !all || len(facts) == 0 {
		sc.kept.drop(stream)
		return sc.fold(id, facts)
	}
	if k != nil && k.on == on && k.n <= len(facts) && facts[0].Event == k.first && facts[k.n-1].Event == k.last && noErasure(facts[k.n:]) {
		sc.kept.drop(stream)
		sc.kept.hits++
		for _, f := range facts[k.n:] {
			if err := k.p.Apply(f); err != nil {
				return nil, err
			}
		}
		k.n, k.last = len(facts), facts[len(facts)-1].Event
		sc.kept.put(stream, k)
		return k.p, nil
	}
	// Afresh, into the storage of the stream's old state, or else the
	// scratch's, which a state dropped to make room replaces: when the
	// streams re-folded outnumber what is kept, nothing is allocated.
	into := sc.p
	if k != nil {
		into = k.p
		sc.kept.drop(stream)
	} else {
		sc.p = nil
	}
	p, err := domain.FoldReusing(into, id, facts)
	if err != nil {
		if k == nil {
			sc.p = into
		}
		return nil, err
	}
	if free := sc.kept.put(stream, &keptFold{p: p, on: on, n: len(facts), first: facts[0].Event, last: facts[len(facts)-1].Event}); sc.p == nil {
		sc.p = free
	}
	return p, nil
}

// noErasure reports whether facts hold no erasure: one changes how the
// facts before it decode (the name reads as erased), so a state folded
// from them before it is not brought forward.
func noErasure(facts []domain.Fact) bool {
	for i := range facts {
		if _, ok := facts[i].Event.(*domain.PersonalDataErased); ok {
			return false
		}
	}
	return true
}

// fold folds facts for id into sc's storage, or into new state when sc is
// nil.
func (sc *foldScratch) fold(id uuid.UUID, facts []domain.Fact) (*domain.Practitioner, error) {
	if sc == nil {
		return domain.Fold(id, facts)
	}
	p, err := domain.FoldReusing(sc.p, id, facts)
	if err == nil {
		sc.p = p
	}
	return p, err
}

// assess folds facts (qualifying, stream order) for practitioner id and
// evaluates them on date on.
func (r *rules) assess(id uuid.UUID, facts []domain.Fact, orgs domain.Organisations, on domain.Date, nextSteps bool) (assessment, error) {
	return r.assessIn(nil, id, facts, orgs, on, nextSteps)
}

// assessIn is assess folding in sc (see foldScratch). What it returns
// refers to none of sc's storage.
func (r *rules) assessIn(sc *foldScratch, id uuid.UUID, facts []domain.Fact, orgs domain.Organisations, on domain.Date, nextSteps bool) (assessment, error) {
	p, err := sc.fold(id, facts)
	if err != nil {
		return assessment{}, err
	}
	return r.evaluated(p, facts, orgs, on, nextSteps), nil
}

// evaluated is what assess gives for p, folded from facts.
func (r *rules) evaluated(p *domain.Practitioner, facts []domain.Fact, orgs domain.Organisations, on domain.Date, nextSteps bool) assessment {
	d := p.DetailsOn(on)
	a := assessment{
		Name: d.Name, Independent: d.Independent,
		Level:    r.rb.Level(p, on),
		Roles:    p.RolesHeld(on),
		Trainee:  p.Traineeships(on),
		Licences: p.Licences(on),
		Standing: r.rb.Standing(p, orgs, on),
		Refs:     domain.OrganisationsNamed(facts),
	}
	for _, m := range p.Memberships(on) {
		a.Orgs = append(a.Orgs, m.OrganisationID)
	}
	if nextSteps {
		a.NextSteps = r.rb.NextSteps(p, orgs, on)
	}
	a.Listings = r.rb.Listings(p, a.Standing.Status, on)
	return a
}
