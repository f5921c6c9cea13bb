package domain

// Rulebooks are the rulebook versions the ledger knows, each built once,
// and the current one: new decisions are evaluated and recorded under it,
// and standing and level are always computed with it. A recorded decision
// keeps the version it was taken under, and its evaluation as of then is
// worked out again under that version (Version). This is the one place the
// current rulebook is chosen; everything else is handed a *Rulebooks (or
// its Current) rather than reaching for a package variable. Safe for
// concurrent use.
type Rulebooks struct {
	current   *Rulebook
	byVersion map[string]*Rulebook
}

// CurrentRulebookVersion is the version NewRulebooks makes current.
const CurrentRulebookVersion = "v1.1"

// NewRulebooks returns every rulebook version, with
// CurrentRulebookVersion current.
func NewRulebooks() *Rulebooks {
	rbs, _ := RulebooksWithCurrent(CurrentRulebookVersion)
	return rbs
}

// RulebooksWithCurrent returns every rulebook version with version current
// (a test, or a ledger pinned to an older version); ok is false for an
// unknown version.
func RulebooksWithCurrent(version string) (*Rulebooks, bool) {
	r := &Rulebooks{byVersion: map[string]*Rulebook{}}
	for _, build := range []func() *Rulebook{RulebookV1, RulebookV1_1} {
		rb := build()
		r.byVersion[rb.Version] = rb
	}
	r.current = r.byVersion[version]
	return r, r.current != nil
}

// Current returns the rulebook in force.
func (r *Rulebooks) Current() *Rulebook { return r.current }

// Version returns the rulebook of version v; a decision recorded under a
// version this ledger does not know (or with none) is evaluated under the
// current one, and ok is false.
func (r *Rulebooks) Version(v string) (rb *Rulebook, ok bool) {
	if rb, ok := r.byVersion[v]; ok {
		return rb, true
	}
	return r.current, false
}
