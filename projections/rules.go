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
// re-folded after each append then allocates no new state. The zero value
// is ready; a nil *foldScratch folds into new state each time. Not safe
// for concurrent use.
type foldScratch struct{ p *domain.Practitioner }

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
	return a, nil
}
