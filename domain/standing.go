package domain

import (
	"slices"

	"github.com/google/uuid"
)

// Standing (DOMAIN.md "Standing", rulebook v1) is derived, never stored: a
// function of the history and a date. Each held role, traineeship and
// licence has a certification year, from its start (the certification, the
// traineeship start, the licence grant) to the day before its anniversary,
// and so on; yearly evidence counts in the year it occurred.
//
// Rulebook v1 reads the statuses as follows, worst first:
//   - withdrawn: a held role's latest certification decision withdrew it;
//   - suspended: a held role or licence is suspended;
//   - lapsed: a year ended with a requirement unmet, and that requirement is
//     not yet met in the current year, nor has a later decision (a
//     reinstatement, or a renewal of the licence) said otherwise;
//   - at_risk: a requirement is unmet and either the year ends within
//     AtRiskDays days (the last AtRiskDays days of the year, inclusive:
//     day 60 before the end is at risk, day 61 is not), or it can no longer
//     be met this year (a month gone by without its training), or it is a
//     standing fact (a current licence, a document, leadership support, an
//     organisation) that does not hold on the date: such a fact counts
//     only while it holds, and the youth of the year does not excuse it;
//   - good: everything else, including yearly evidence still to come in a
//     young year.
//
// A practitioner who holds no role, traineeship or licence with
// maintenance requirements is in good standing with no requirements.
//
// Rulebook v1.1 (Rulebook.StickyLapses, AnyHeldSuspends) reads two of these
// differently: a lapse on a missed month or a standing fact not holding on
// a year's last day stands, whatever later years hold, until a
// reinstatement dated after that year; and any suspended or withdrawn role
// and any suspended or revoked licence sets the standing, maintenance or
// not.

// StandingStatus is a practitioner's standing on a date.
type StandingStatus string

// Standing statuses.
const (
	StandingGood      StandingStatus = "good"
	StandingAtRisk    StandingStatus = "at_risk"
	StandingLapsed    StandingStatus = "lapsed"
	StandingSuspended StandingStatus = "suspended"
	StandingWithdrawn StandingStatus = "withdrawn"
)

// severity orders the statuses; the worst held item sets the standing.
func (s StandingStatus) severity() int {
	switch s {
	case StandingAtRisk:
		return 1
	case StandingLapsed:
		return 2
	case StandingSuspended:
		return 3
	case StandingWithdrawn:
		return 4
	}
	return 0
}

// Standing is a practitioner's standing on a date, with its reasons.
type Standing struct {
	Status StandingStatus
	On     Date
	// Requirements are every maintenance requirement of every held item for
	// the current year, named "<item>.<requirement>", then, for a lapse, the
	// previous year's unmet ones, named "<item>.previous_year.<requirement>".
	Requirements []RequirementResult
	// NextChange is the earliest date after On on which the standing could
	// change with no new facts recorded: a year's end, the start of the
	// at-risk window, a month's end for monthly training, a licence's or
	// document's expiry, a fact already recorded with a later date. Zero
	// when nothing is due.
	NextChange Date
	// Held lists each role, traineeship and licence the standing covers.
	Held []HeldStanding
}

// HeldStanding is the standing of one held role, traineeship or licence.
type HeldStanding struct {
	// Item is the requirement name prefix: "lead_professional",
	// "trainee_lead_professional", "licence.<licence_id>".
	Item        string
	Status      StandingStatus
	PeriodStart Date
	PeriodEnd   Date
}

// standingRun carries one Standing computation.
type standingRun struct {
	rb   *Rulebook
	p    *Practitioner
	orgs Organisations
	on   Date
	out  *Standing
}

func (s *standingRun) consider(d Date) {
	if d.After(s.on) && (s.out.NextChange.IsZero() || d.Before(s.out.NextChange)) {
		s.out.NextChange = d
	}
}

func (s *standingRun) worst(st StandingStatus) {
	if st.severity() > s.out.Status.severity() {
		s.out.Status = st
	}
}

// Standing returns the practitioner's standing on date on.
func (rb *Rulebook) Standing(p *Practitioner, orgs Organisations, on Date) Standing {
	// Requirements grow per held item (most practitioners hold one or two
	// items, many none), but are never nil.
	out := Standing{Status: StandingGood, On: on, Requirements: []RequirementResult{}}
	s := standingRun{rb: rb, p: p, orgs: orgs, on: on, out: &out}

	var lbuf [8]licenceState
	lics := p.states(on, lbuf[:0])
	for i := range lics {
		if lics[i].Status == LicenceStatusActive {
			s.consider(lics[i].ValidUntil.AddDays(1))
		}
	}
	// A school's licence may meet a member's current-licence duty (v1.1):
	// its expiry, and a registration as a service dated later, change the
	// standing with no event of the practitioner's.
	var mbuf [4]Membership
	for _, m := range p.membershipsOn(on, mbuf[:0]) {
		if o := lookupOrg(orgs, m.OrganisationID); o != nil {
			var obuf [4]licenceState
			for _, l := range o.states(on, obuf[:0]) {
				if l.Status == LicenceStatusActive {
					s.consider(l.ValidUntil.AddDays(1))
				}
			}
			for i := range o.registrations {
				if r := &o.registrations[i]; !r.Retracted {
					s.consider(r.On)
				}
			}
		}
	}
	for _, docs := range [2][]documentRec{p.standing, p.indemnity} {
		for i := range docs {
			if d := &docs[i]; d.counts(on) {
				s.consider(documentValidUntil(d).AddDays(1))
			}
		}
	}

	for i := range rb.Maintenance {
		mr := &rb.Maintenance[i]
		switch {
		case mr.Role != "":
			st, since, _, _ := p.roleState(mr.Role, on)
			switch st {
			case "":
				continue
			case RoleWithdrawn:
				out.Held = append(out.Held, HeldStanding{Item: string(mr.Role), Status: StandingWithdrawn})
				s.worst(StandingWithdrawn)
				continue
			}
			role := mr.Role
			s.item(string(mr.Role), since, mr.Requirements, st == RoleSuspended, func(after Date, _ bool) bool {
				return p.certDecisionBetween(role, certReinstated, after, on)
			})
		case mr.Trainee != "":
			start, _, ok := p.Traineeship(mr.Trainee, on)
			if !ok {
				continue
			}
			var cleared func(Date, bool) bool
			if rb.StickyLapses {
				// v1.1: a trainee's lapse on a missed month or a standing
				// fact clears by a CertificationReinstated for the role
				// trained for.
				role := mr.Trainee
				cleared = func(after Date, _ bool) bool { return p.certDecisionBetween(role, certReinstated, after, on) }
			}
			s.item("trainee_"+string(mr.Trainee), start, mr.Requirements, false, cleared)
		default:
			for j := range lics {
				l := &lics[j]
				if !containsKind(mr.LicenceKinds, l.Kind) || (l.Status != LicenceStatusActive && l.Status != LicenceStatusSuspended) {
					continue
				}
				id := l.LicenceID
				s.item("licence."+id, l.GrantedOn, mr.Requirements, l.Status == LicenceStatusSuspended, func(after Date, sticky bool) bool {
					return p.licenceDecisionBetween(id, after, on, sticky)
				})
			}
		}
	}
	if rb.AnyHeldSuspends {
		s.heldDecisions(lics)
	}
	if p.maxOn.After(on) {
		s.consider(p.nextFactAfter(on))
	}
	return out
}

// item evaluates one held item whose certification years start on start.
// cleared reports whether a decision after a given date says a lapse no
// longer stands; sticky says the lapse is on a missed month or a standing
// fact (under StickyLapses such a lapse clears only by reinstatement).
func (s *standingRun) item(name string, start Date, reqs []Requirement, suspended bool, cleared func(after Date, sticky bool) bool) {
	on := s.on
	k := yearsBetween(start, on)
	from, to := start.AddYears(k), start.AddYears(k+1).AddDays(-1)
	prefix := name + "."
	c := evalCtx{rb: s.rb, p: s.p, orgs: s.orgs, on: on, from: from, to: to}
	first := len(s.out.Requirements)
	s.out.Requirements = slices.Grow(s.out.Requirements, len(reqs))
	daysLeft := on.DaysUntil(to)
	status := StandingGood
	unmet, monthly := false, false
	for i := range reqs {
		r := &reqs[i]
		o := evaluate(r, &c)
		s.out.Requirements = append(s.out.Requirements, result(r, prefix, o))
		monthly = monthly || r.Kind == RequireMonthly
		if !o.met {
			unmet = true
			if o.final || r.continuous() || daysLeft <= s.rb.AtRiskDays {
				status = StandingAtRisk
			}
		}
	}
	isCleared := func(after Date, sticky bool) bool { return cleared != nil && cleared(after, sticky) }
	for i := 0; k > 0 && i < len(reqs); i++ {
		r := &reqs[i]
		sticky := s.rb.StickyLapses && r.sticky()
		if !sticky && s.out.Requirements[first+i].Met {
			continue // met again this year: "until it is met"
		}
		// The latest ended year in which r was unmet and no decision has
		// cleared since: the previous year, or under StickyLapses, for a
		// missed month or a standing fact, any year before.
		for j := k - 1; j >= 0; j-- {
			end := start.AddYears(j + 1).AddDays(-1)
			if isCleared(end, sticky) {
				break // a decision after this year's end clears it and every year before
			}
			pc := evalCtx{rb: s.rb, p: s.p, orgs: s.orgs, on: end, from: start.AddYears(j), to: end, closed: true, quiet: true}
			if o := evaluate(r, &pc); !o.met {
				pc.quiet = false
				o = evaluate(r, &pc)
				status = StandingLapsed
				which := "previous_year."
				if j < k-1 {
					which = "earlier_year."
				}
				s.out.Requirements = append(s.out.Requirements, result(r, prefix+which, o))
				break
			}
			if !sticky {
				break
			}
		}
	}
	if suspended {
		status = StandingSuspended
	}
	s.out.Held = append(s.out.Held, HeldStanding{Item: name, Status: status, PeriodStart: from, PeriodEnd: to})
	s.worst(status)

	s.consider(to.AddDays(1))
	if unmet {
		s.consider(to.AddDays(-s.rb.AtRiskDays))
	}
	if monthly {
		for i := 1; i < 12; i++ {
			if b := addMonths(from, i); b.After(on) {
				s.consider(b)
				break
			}
		}
	}
}

// heldDecisions (rulebook v1.1, "Suspension and withdrawal are of anything
// held") adds every suspended or withdrawn certified role and every
// suspended or revoked licence that no maintenance rule already covered.
func (s *standingRun) heldDecisions(lics []licenceState) {
	held := func(item string) bool {
		return slices.ContainsFunc(s.out.Held, func(h HeldStanding) bool { return h.Item == item })
	}
	add := func(item string, st StandingStatus, desc, missing string, ev ...uuid.UUID) {
		s.out.Held = append(s.out.Held, HeldStanding{Item: item, Status: st})
		s.out.Requirements = append(s.out.Requirements, RequirementResult{Name: item + ".not_suspended_or_withdrawn", Description: desc,
			Evidence: ev, Missing: missing, Source: srcAnyHeld})
		s.worst(st)
	}
	for _, role := range roles {
		if held(string(role)) {
			continue
		}
		st, _, award, last := s.p.roleState(role, s.on)
		switch st {
		case RoleSuspended:
			add(string(role), StandingSuspended, roleNames[role]+" certification neither suspended nor withdrawn", roleNames[role]+" certification suspended", award, last)
		case RoleWithdrawn:
			add(string(role), StandingWithdrawn, roleNames[role]+" certification neither suspended nor withdrawn", roleNames[role]+" certification withdrawn", award, last)
		}
	}
	for i := range lics {
		l := &lics[i]
		item := "licence." + l.LicenceID
		if held(item) {
			continue
		}
		switch l.Status {
		case LicenceStatusSuspended:
			add(item, StandingSuspended, "licence "+l.LicenceID+" neither suspended nor revoked", "licence "+l.LicenceID+" suspended", l.Evidence...)
		case LicenceStatusRevoked:
			add(item, StandingWithdrawn, "licence "+l.LicenceID+" neither suspended nor revoked", "licence "+l.LicenceID+" revoked", l.Evidence...)
		}
	}
}

// yearsBetween returns how many whole years from start to on.
func yearsBetween(start, on Date) int {
	if on.Before(start) {
		return 0
	}
	k := start.DaysUntil(on) / 366
	for !start.AddYears(k + 1).After(on) {
		k++
	}
	return k
}

// certDecisionBetween reports whether a certification decision op for role
// is dated after after and on or before on.
func (p *Practitioner) certDecisionBetween(role Role, op certOp, after, on Date) bool {
	for i := range p.certs {
		r := &p.certs[i]
		if r.role == role && r.op == op && r.counts(on) && r.On.After(after) {
			return true
		}
	}
	return false
}

// licenceDecisionBetween reports whether licence id was renewed or
// reinstated (only reinstated, when reinstatedOnly) after after and on or
// before on.
func (p *Practitioner) licenceDecisionBetween(id string, after, on Date, reinstatedOnly bool) bool {
	for i := range p.events {
		r := &p.events[i]
		if r.licenceID == id && (r.op == licenceReinstate || r.op == licenceRenew && !reinstatedOnly) && r.counts(on) && r.On.After(after) {
			return true
		}
	}
	return false
}

// nextFactAfter returns the earliest date after on of an unretracted fact.
func (p *Practitioner) nextFactAfter(on Date) Date {
	var next Date
	see := func(m *meta) {
		if !m.Retracted && m.On.After(on) && (next.IsZero() || m.On.Before(next)) {
			next = m.On
		}
	}
	eachMeta(p, see)
	return next
}
