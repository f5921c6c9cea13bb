package domain

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Decisions: before a decision event is recorded, the ledger evaluates its
// requirements against the history known at that moment (DOMAIN.md,
// "Decisions and quality control"). The practitioner or organisation passed
// in must not already hold the decision being evaluated: to re-evaluate a
// recorded decision, fold the history that came before it.

// decisionPlan is what a decision is evaluated against.
type decisionPlan struct {
	subject  string
	reqs     [3][]Requirement // concatenated; kept apart so tables are never appended to
	decision Decision
}

func (pl *decisionPlan) requirements() int {
	return len(pl.reqs[0]) + len(pl.reqs[1]) + len(pl.reqs[2])
}

// noRule stands for a decision the rulebook has no table for: it cannot be
// taken except as an exception.
func noRule(rb *Rulebook, what string) []Requirement {
	return []Requirement{{Name: "rule_exists", Description: "the rulebook has requirements for " + what,
		Source: "rulebook " + rb.Version + " has no requirements for " + what + "; such a decision is an exception", Kind: RequireNotRecorded}}
}

// EvaluateDecision evaluates the requirements of decision event e for
// practitioner p on date on. An event that is not a decision has no
// requirements: its evaluation is met and empty.
func (rb *Rulebook) EvaluateDecision(p *Practitioner, orgs Organisations, e Event, on Date) Evaluation {
	ev, _ := rb.evaluateDecision(p, orgs, e, on, nil)
	return ev
}

// Decide evaluates decision event e for practitioner p on date on and
// returns the evaluation to store with it. When a requirement is unmet and
// the decision is not marked as an exception it returns a refused *Error
// (code EREFUSED) carrying the evaluation, and nothing may be recorded. An
// exception is accepted whatever the evaluation says: it is a decision
// taken against the rules or ahead of the evidence, its rationale is
// checked by validation, and it goes to the QC queue. Decide does not
// modify e; the caller stores rb.Version and the evaluation in it.
func (rb *Rulebook) Decide(p *Practitioner, orgs Organisations, e Event, on Date) (Evaluation, error) {
	ev, d := rb.evaluateDecision(p, orgs, e, on, nil)
	return ev, refusal(&ev, d)
}

// elsewhere are the grants of the licence_id a LicenceGranted names in
// other streams (see DecisionInputs.LicenceGrants).
func (rb *Rulebook) evaluateDecision(p *Practitioner, orgs Organisations, e Event, on Date, elsewhere []uuid.UUID) (Evaluation, *Decision) {
	c := evalCtx{rb: rb, p: p, orgs: orgs, on: on, elsewhere: elsewhere}
	pl, ok := rb.planPractitioner(p, e, &c)
	if !ok {
		return Evaluation{Subject: e.EventType(), On: on, Met: true, Requirements: []RequirementResult{}}, nil
	}
	return run(&pl, &c), &pl.decision
}

// EvaluateOrganisationDecision evaluates the requirements of decision
// event e (a licence decision) for organisation o on date on. members are
// the practitioners who work in or with o, whose streams may record the
// senior-leadership commitment an organisational licence needs.
func (rb *Rulebook) EvaluateOrganisationDecision(o *Organisation, members []*Practitioner, e Event, on Date) Evaluation {
	ev, _ := rb.evaluateOrganisationDecision(o, members, e, on, nil)
	return ev
}

// DecideOrganisation is Decide for a decision on an organisation's stream.
func (rb *Rulebook) DecideOrganisation(o *Organisation, members []*Practitioner, e Event, on Date) (Evaluation, error) {
	ev, d := rb.evaluateOrganisationDecision(o, members, e, on, nil)
	return ev, refusal(&ev, d)
}

func (rb *Rulebook) evaluateOrganisationDecision(o *Organisation, members []*Practitioner, e Event, on Date, elsewhere []uuid.UUID) (Evaluation, *Decision) {
	c := evalCtx{rb: rb, p: &Practitioner{}, on: on, org: o, members: members, elsewhere: elsewhere}
	var pl decisionPlan
	if missing(e) {
		return Evaluation{Subject: e.EventType(), On: on, Met: true, Requirements: []RequirementResult{}}, nil
	}
	switch v := e.(type) {
	case *LicenceGranted:
		pl.subject, pl.decision = "LicenceGranted "+string(v.Kind)+" to an organisation", v.Decision
		if reqs, ok := rb.OrganisationLicenceGrants[v.Kind]; ok {
			pl.reqs[0] = reqs
		} else {
			pl.reqs[0] = noRule(rb, "an organisation holding a "+string(v.Kind)+" licence")
		}
		pl.reqs[1] = rb.LicenceIDNew
		c.book, c.licenceID = &o.licenceBook, v.LicenceID
		return run(&pl, &c), &pl.decision
	case *LicenceRenewed, *LicenceSuspended, *LicenceReinstated, *LicenceRevoked:
		if pl, ok := rb.planLicenceChange(&o.licenceBook, e, &c, false); ok {
			return run(&pl, &c), &pl.decision
		}
	}
	return Evaluation{Subject: e.EventType(), On: on, Met: true, Requirements: []RequirementResult{}}, nil
}

// refusal returns the refused error for an unmet decision that is not an
// exception, or nil.
func refusal(ev *Evaluation, d *Decision) error {
	if d == nil || ev.Met || d.Exception {
		return nil
	}
	var missing []string
	for _, r := range ev.Requirements {
		if !r.Met {
			missing = append(missing, r.Name+" ("+r.Missing+")")
		}
	}
	err := Errorf(EREFUSED, "", "%s is refused under rulebook requirements: %s unmet; record it as an exception with a rationale to take it against the rules",
		ev.Subject, strings.Join(missing, ", "))
	cp := *ev
	err.Evaluation = &cp
	return err
}

func run(pl *decisionPlan, c *evalCtx) Evaluation {
	ev := Evaluation{Subject: pl.subject, On: c.on, Met: true, Requirements: make([]RequirementResult, 0, pl.requirements())}
	for _, reqs := range pl.reqs {
		var ok bool
		ev.Requirements, ok = evaluateAll(reqs, c, "", ev.Requirements)
		ev.Met = ev.Met && ok
	}
	return ev
}

// planPractitioner picks the requirements of a decision on a
// practitioner's stream and sets up the context; ok is false for an event
// that is not a decision.
func (rb *Rulebook) planPractitioner(p *Practitioner, e Event, c *evalCtx) (pl decisionPlan, ok bool) {
	if missing(e) {
		return pl, false
	}
	switch v := e.(type) {
	case *ApplicationDecided:
		pl.decision = v.Decision
		c.fastTrack = v.FastTrack
		c.app = p.application(v.ApplicationID)
		switch {
		case v.Outcome == ApplicationDeclined:
			pl.subject = "ApplicationDecided " + v.ApplicationID + " declined"
			pl.reqs[0] = rb.ApplicationDeclined
		case c.app == nil:
			pl.subject = "ApplicationDecided " + v.ApplicationID + " accepted"
			pl.reqs[0] = rb.ApplicationDeclined // only "the application is on file", which is unmet
		default:
			pl.subject = "ApplicationDecided " + string(c.app.role) + " accepted"
			if v.FastTrack {
				pl.subject += " (fast track)"
			}
			if reqs, ok := rb.Applications[c.app.role]; ok {
				pl.reqs[0] = reqs
			} else {
				pl.reqs[0] = noRule(rb, "accepting a "+string(c.app.role)+" application")
			}
		}
		return pl, true
	case *CertificationAwarded:
		pl.subject, pl.decision, c.role = "CertificationAwarded "+string(v.Role), v.Decision, v.Role
		if reqs, ok := rb.Certifications[v.Role]; ok {
			pl.reqs[0] = reqs
		} else {
			pl.reqs[0] = noRule(rb, "certifying "+string(v.Role))
		}
		return pl, true
	case *CertificationSuspended:
		return rb.planCertificationChange(e, v.Role, v.Decision, c), true
	case *CertificationReinstated:
		return rb.planCertificationChange(e, v.Role, v.Decision, c), true
	case *CertificationWithdrawn:
		return rb.planCertificationChange(e, v.Role, v.Decision, c), true
	case *LicenceGranted:
		pl.subject, pl.decision = "LicenceGranted "+string(v.Kind), v.Decision
		if v.Scope != "" {
			pl.subject += " (" + string(v.Scope) + ")"
		}
		if reqs, ok := rb.LicenceGrants[v.Kind]; ok {
			pl.reqs[0] = reqs
		} else {
			pl.reqs[0] = noRule(rb, "granting a "+string(v.Kind)+" licence")
		}
		pl.reqs[1] = rb.ScopeRequirements[v.Scope]
		pl.reqs[2] = rb.LicenceIDNew
		c.book, c.licenceID = &p.licenceBook, v.LicenceID
		return pl, true
	case *LicenceRenewed, *LicenceSuspended, *LicenceReinstated, *LicenceRevoked:
		return rb.planLicenceChange(&p.licenceBook, e, c, true)
	}
	return pl, false
}

// planCertificationChange plans a suspension, reinstatement or withdrawal
// of role.
func (rb *Rulebook) planCertificationChange(e Event, role Role, d Decision, c *evalCtx) (pl decisionPlan) {
	pl.subject, pl.decision, c.role = e.EventType()+" "+string(role), d, role
	pl.reqs[0] = rb.CertificationChanges[e.EventType()]
	return pl
}

// licenceYear is the licence year that ends on validUntil: from the start
// of the year since the grant (its anniversaries) in which the year up to
// validUntil begins, to validUntil. For a licence valid to the day before an
// anniversary that is exactly that licence year; for one valid to the
// anniversary itself the year also takes in the grant's day.
func licenceYear(granted, validUntil Date) (from, to Date) {
	begin := validUntil.AddYears(-1).AddDays(1)
	if begin.Before(granted) {
		return granted, validUntil
	}
	return granted.AddYears(yearsBetween(granted, begin)), validUntil
}

// planLicenceChange plans a renewal, suspension, reinstatement or
// revocation of a licence in book. A practitioner's renewal also needs
// what the licence's kind asks for in the year up to the renewal.
func (rb *Rulebook) planLicenceChange(book *licenceBook, e Event, c *evalCtx, practitioner bool) (pl decisionPlan, ok bool) {
	var id string
	switch v := e.(type) {
	case *LicenceRenewed:
		id, pl.decision = v.LicenceID, v.Decision
	case *LicenceSuspended:
		id, pl.decision = v.LicenceID, v.Decision
	case *LicenceReinstated:
		id, pl.decision = v.LicenceID, v.Decision
	case *LicenceRevoked:
		id, pl.decision = v.LicenceID, v.Decision
	default:
		return pl, false
	}
	pl.subject = e.EventType() + " " + id
	pl.reqs[0] = rb.LicenceChanges[e.EventType()]
	if l, found := book.Licence(id, c.on); found {
		c.licence = &l
		pl.subject = fmt.Sprintf("%s %s (%s)", e.EventType(), id, l.Kind)
		if practitioner && e.EventType() == TypeLicenceRenewed {
			pl.reqs[1] = rb.LicenceRenewals[l.Kind]
			if rb.RenewalOnLicenceYear {
				// v1.1: the licence year that ends on the current
				// valid_until, whenever the renewal is dated.
				c.from, c.to = licenceYear(l.GrantedOn, l.ValidUntil)
				c.phrase = fmt.Sprintf(" in the licence year %s to %s", c.from, c.to)
			} else {
				c.from, c.to, c.phrase = c.on.AddYears(-1).AddDays(1), c.on, " in the year up to the renewal"
			}
		}
	}
	return pl, true
}
