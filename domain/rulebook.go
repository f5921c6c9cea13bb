package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// A rulebook is data: tables of Requirement values, walked by one evaluator
// (evaluate, below). Rulebook v1 is the table in rulebook_v1.go; a v2 is a
// new table, and every decision records the version it was evaluated under.

// RequirementKind says what a Requirement asks for. The kinds are few on
// purpose: every rule of the seeds is one of them or a combination.
type RequirementKind uint8

// Requirement kinds. The fields of Requirement each kind reads are named.
const (
	// RequireAllOf: every requirement in Of.
	RequireAllOf RequirementKind = iota + 1
	// RequireAnyOf: at least one requirement in Of.
	RequireAnyOf
	// RequireRegistered: the practitioner is registered.
	RequireRegistered
	// RequireCourse: Course completed on or before the date.
	RequireCourse
	// RequireCertified: Role certified and active on the date.
	RequireCertified
	// RequireLicenceCurrent: a licence of one of LicenceKinds active on the date.
	RequireLicenceCurrent
	// RequireCount: at least Min facts of Evidence within Window.
	RequireCount
	// RequireMonthly: at least one fact of Evidence in each elapsed whole
	// month of the certification year.
	RequireMonthly
	// RequireDocument: a Document on file and not expired on the date.
	RequireDocument
	// RequireOrganisation: the practitioner is in an organisation of one of
	// OrgKinds (any kind when empty) on the date, one that is a registered
	// service when RegisteredService is set.
	RequireOrganisation
	// RequireLeadershipSupport: senior-leadership support from an
	// organisation the practitioner is still in on the date.
	RequireLeadershipSupport
	// RequireSuitability: suitability agreed for Role.
	RequireSuitability
	// RequireApplicationAccepted: an application for AppRole accepted.
	RequireApplicationAccepted
	// RequireApplicationSubmitted: the application being decided is on file.
	RequireApplicationSubmitted
	// RequireReferences: at least Min supportive references for the
	// application being decided.
	RequireReferences
	// RequireInterviewPassed: the latest interview for the application
	// being decided was passed.
	RequireInterviewPassed
	// RequireFastTrack: the decision being taken is marked fast_track.
	RequireFastTrack
	// RequireTraineeship: a traineeship for Role started at least Years
	// years before the date.
	RequireTraineeship
	// RequireWhenIndependent: Of[0], only when the practitioner works
	// independently or across organisations on the date.
	RequireWhenIndependent
	// RequireLicenceStatus: the licence a decision is about has one of
	// LicenceStatuses on the date.
	RequireLicenceStatus
	// RequireRoleStatus: the role a decision is about has one of
	// RoleStatuses on the date ("" for never awarded).
	RequireRoleStatus
	// RequireNotRecorded: a condition the ledger holds no fact for; never
	// met, so a decision resting on it is taken as an exception with a
	// rationale, and goes to quality control.
	RequireNotRecorded
	// RequireOrganisationIs: the organisation a decision is about is
	// registered, of one of OrgKinds, and a registered service when
	// RegisteredService is set.
	RequireOrganisationIs
	// RequireOrganisationCommitment: the organisation a decision is about
	// has senior-leadership support recorded by a practitioner still in it.
	RequireOrganisationCommitment
	// RequireLicenceIDNew: the licence_id a grant names has never been
	// granted, in the stream or, when the caller looked (see
	// DecisionInputs.LicenceGrants), anywhere else in the ledger (rulebook
	// v1.1: a licence continues by renewal, and comes back by
	// reinstatement, never by a second grant).
	RequireLicenceIDNew
	// RequireStanding: the practitioner's standing on the date is one of
	// Standings.
	RequireStanding
	// RequireOrganisationLicence: an organisation the practitioner is in
	// on the date, registered as a service (registered_service true) on
	// that date, holds a current licence of one of LicenceKinds.
	RequireOrganisationLicence
	// RequireLapsed: the role (or its traineeship) or the licence a
	// decision is about is lapsed on the date.
	RequireLapsed
)

// Window is the span of time a RequireCount counts in.
type Window uint8

// Windows.
const (
	// WindowEver counts everything on or before the date.
	WindowEver Window = iota
	// WindowPeriod counts within the certification year being evaluated;
	// outside a maintenance evaluation it is WindowEver.
	WindowPeriod
	// WindowTraineeship counts from the start of the traineeship for Role.
	WindowTraineeship
)

// DocumentKind is a kind of document with a validity.
type DocumentKind uint8

// Documents.
const (
	DocumentProfessionalStanding DocumentKind = iota + 1
	DocumentIndemnity
)

// Requirement is one rule as a value. Name, Description and Source explain
// it; Kind and the fields it names say what is checked.
type Requirement struct {
	// Name is stable within a rulebook, e.g. "foundation_a_supported".
	Name string
	// Description says what is asked, for a person to read.
	Description string
	// Source cites the seed sentence (or DOMAIN.md's v1 reading) it comes from.
	Source string

	Kind              RequirementKind
	Course            Course
	Role              Role
	AppRole           ApplicationRole
	LicenceKinds      []LicenceKind
	Evidence          EvidenceKind
	Min               int
	Window            Window
	Years             int
	Document          DocumentKind
	OrgKinds          []OrganisationKind
	RegisteredService bool
	LicenceStatuses   []LicenceStatus
	RoleStatuses      []RoleStatus
	Standings         []StandingStatus
	Of                []Requirement
}

// sticky reports whether a lapse on r, under a rulebook with StickyLapses,
// clears only by a decision: r is a standing fact, or monthly training (a
// month gone by cannot be made up).
func (r *Requirement) sticky() bool {
	if r.Kind == RequireMonthly {
		return true
	}
	if r.continuous() {
		return true
	}
	for i := range r.Of {
		if r.Of[i].sticky() {
			return true
		}
	}
	return false
}

// continuous reports whether r is a standing fact (it must hold on the date,
// whatever the period) rather than yearly evidence that accrues.
func (r *Requirement) continuous() bool {
	switch r.Kind {
	case RequireLicenceCurrent, RequireDocument, RequireOrganisation, RequireLeadershipSupport, RequireCertified, RequireWhenIndependent, RequireOrganisationLicence:
		return true
	case RequireAllOf, RequireAnyOf:
		for i := range r.Of {
			if r.Of[i].continuous() {
				return true
			}
		}
	}
	return false
}

// evalCtx is what an evaluation is about: a practitioner (or organisation)
// on a date, and for maintenance the certification year, for a decision
// the thing decided.
type evalCtx struct {
	// rb is the rulebook evaluating, for requirements that ask for a
	// standing (RequireStanding, RequireLapsed).
	rb   *Rulebook
	p    *Practitioner
	orgs Organisations
	on   Date
	// from and to bound the certification year; zero outside maintenance.
	from, to Date
	// closed is set when evaluating a year that has ended: every month of
	// it has elapsed, and the evaluation says "in the year …".
	closed bool
	// quiet skips gathering the evidence of counts and monthly training,
	// for a check whose evidence nobody reads (is a past year met?).
	quiet bool
	// terse leaves missing empty where the requirements a level rests on
	// would spell it out, for a caller that reads only met and evidence
	// (Level): met, evidence and final are as they would be.
	terse bool
	// phrase, when set, names the span from and to bound in messages.
	phrase string

	app       *applicationRec
	fastTrack bool
	licence   *Licence
	role      Role
	// book and licenceID are the licences of the stream a grant is for and
	// the id it names.
	book      *licenceBook
	licenceID string
	// elsewhere are the grants of licenceID in other streams of the
	// ledger, as the caller read them (DecisionInputs.LicenceGrants).
	elsewhere []uuid.UUID

	org     *Organisation
	members []*Practitioner
}

// outcome is one requirement's result before it is named.
type outcome struct {
	met      bool
	evidence []uuid.UUID
	missing  string
	// final is set when an unmet requirement can no longer be met in the
	// period being evaluated (a month gone by without its training).
	final bool
}

// evaluate walks one requirement. It is the only evaluator: decisions,
// levels, maintenance and next steps all come through here.
func evaluate(r *Requirement, c *evalCtx) outcome {
	switch r.Kind {
	case RequireAllOf:
		var o outcome
		o.met = true
		var missing []string
		for i := range r.Of {
			s := evaluate(&r.Of[i], c)
			o.evidence = append(o.evidence, s.evidence...)
			if !s.met {
				o.met = false
				o.final = o.final || s.final
				if !c.terse {
					missing = append(missing, s.missing)
				}
			}
		}
		if !c.terse {
			o.missing = strings.Join(missing, "; ")
		}
		return o
	case RequireAnyOf:
		var missing []string
		var partial []uuid.UUID
		final := true
		for i := range r.Of {
			s := evaluate(&r.Of[i], c)
			if s.met {
				return s
			}
			partial = append(partial, s.evidence...)
			final = final && s.final
			if !c.terse {
				missing = append(missing, s.missing)
			}
		}
		o := outcome{evidence: partial, final: final && len(r.Of) > 0}
		if !c.terse {
			o.missing = "one of: " + strings.Join(missing, "; or ")
		}
		return o
	case RequireRegistered:
		if id, ok := c.p.registeredOn(c.on); ok {
			return met(id)
		}
		return unmet("not registered")
	case RequireCourse:
		if id, ok := c.p.courseDone(r.Course, c.on); ok {
			return met(id)
		}
		if c.terse {
			return outcome{}
		}
		return unmet(courseNames[r.Course] + " not completed")
	case RequireCertified:
		st, _, award, _ := c.p.roleState(r.Role, c.on)
		switch st {
		case RoleActive:
			return met(award)
		case "":
			if c.terse {
				return outcome{}
			}
			return unmet(roleNames[r.Role] + " certification not held")
		default:
			o := outcome{evidence: []uuid.UUID{award}}
			if !c.terse {
				o.missing = roleNames[r.Role] + " certification " + string(st)
			}
			return o
		}
	case RequireLicenceCurrent:
		if l, ok := c.p.currentOfKinds(r.LicenceKinds, c.on); ok {
			return outcome{met: true, evidence: l.Evidence}
		}
		if c.terse {
			return outcome{}
		}
		return unmet("no current " + kindList(r.LicenceKinds) + " licence")
	case RequireCount:
		return evaluateCount(r, c)
	case RequireMonthly:
		return evaluateMonthly(r, c)
	case RequireDocument:
		return evaluateDocument(r, c)
	case RequireOrganisation:
		return evaluateOrganisation(r, c)
	case RequireLeadershipSupport:
		for i := range c.p.support {
			s := &c.p.support[i]
			if !s.counts(c.on) {
				continue
			}
			// "while the practitioner is still in that organisation": the
			// support was given during the membership that holds today.
			if since, join, in := c.p.memberSince(s.org, c.on); in && !s.On.Before(since) {
				return met(s.ID, join)
			}
		}
		return unmet("no senior-leadership support from an organisation the practitioner is in")
	case RequireSuitability:
		for i := range c.p.suitability {
			s := &c.p.suitability[i]
			if s.role == r.Role && s.counts(c.on) {
				return met(s.ID)
			}
		}
		return unmet("suitability for " + roleNames[r.Role] + " not agreed by an organisation or network")
	case RequireApplicationAccepted:
		for i := len(c.p.apps) - 1; i >= 0; i-- {
			a := &c.p.apps[i]
			if a.role != r.AppRole || !a.counts(c.on) {
				continue
			}
			if d := c.p.applicationOutcome(a.appID, c.on); d != nil && d.accepted {
				return met(a.ID, d.ID)
			}
		}
		return unmet("no accepted " + appRoleNames[r.AppRole] + " application")
	case RequireApplicationSubmitted:
		if c.app != nil && c.app.counts(c.on) {
			return met(c.app.ID)
		}
		return unmet("no application on file")
	case RequireReferences:
		return evaluateReferences(r, c)
	case RequireInterviewPassed:
		if c.app == nil {
			return unmet("no application on file")
		}
		var last *interviewRec
		for i := range c.p.interviews {
			if iv := &c.p.interviews[i]; iv.appID == c.app.appID && iv.counts(c.on) {
				last = iv
			}
		}
		switch {
		case last == nil:
			return unmet("no interview held")
		case !last.passed:
			return outcome{evidence: []uuid.UUID{last.ID}, missing: "interview not passed"}
		}
		return met(last.ID)
	case RequireFastTrack:
		if c.fastTrack {
			return outcome{met: true}
		}
		return unmet("not a fast-track decision")
	case RequireTraineeship:
		start, id, ok := c.p.traineeshipStart(r.Role, c.on)
		if !ok {
			return unmet("no " + roleNames[r.Role] + " traineeship started")
		}
		if r.Years > 0 && start.AddYears(r.Years).After(c.on) {
			return outcome{evidence: []uuid.UUID{id}, missing: fmt.Sprintf("traineeship started %s; %d year(s) of training complete on %s", start, r.Years, start.AddYears(r.Years))}
		}
		return met(id)
	case RequireWhenIndependent:
		ind, id := c.p.independentOn(c.on)
		var buf [4]Membership
		across := len(c.p.membershipsOn(c.on, buf[:0])) >= 2
		if !ind && !across {
			return outcome{met: true}
		}
		o := evaluate(&r.Of[0], c)
		if ind && id != uuid.Nil {
			o.evidence = append(o.evidence, id)
		}
		if !o.met {
			why := "working independently"
			if !ind {
				why = "working across organisations"
			}
			o.missing += " (" + why + ")"
		}
		return o
	case RequireLicenceStatus:
		if c.licence == nil {
			return unmet("no such licence granted")
		}
		for _, s := range r.LicenceStatuses {
			if c.licence.Status == s {
				return outcome{met: true, evidence: c.licence.Evidence}
			}
		}
		missing := "licence " + c.licence.LicenceID + " is " + string(c.licence.Status)
		if c.licence.Status == LicenceStatusRevoked && slices.Contains(r.LicenceStatuses, LicenceStatusSuspended) {
			missing += onlyByException
		}
		return outcome{evidence: c.licence.Evidence, missing: missing}
	case RequireRoleStatus:
		st, _, award, last := c.p.roleState(c.role, c.on)
		for _, s := range r.RoleStatuses {
			if st == s {
				if st == "" {
					return outcome{met: true}
				}
				return met(award, last)
			}
		}
		if st == "" {
			return unmet(roleNames[c.role] + " was never certified")
		}
		if len(r.RoleStatuses) == 1 && r.RoleStatuses[0] == "" {
			return outcome{evidence: []uuid.UUID{award, last}, missing: roleNames[c.role] + " already certified (" + string(st) + "): a suspended role comes back by reinstatement, never by a second award"}
		}
		missing := roleNames[c.role] + " certification is " + string(st)
		if st == RoleWithdrawn && slices.Contains(r.RoleStatuses, RoleSuspended) {
			missing += onlyByException
		}
		ev := []uuid.UUID{award}
		if last != award {
			ev = append(ev, last)
		}
		return outcome{evidence: ev, missing: missing}
	case RequireNotRecorded:
		return unmet(r.Description + ": the ledger records no fact for this")
	case RequireOrganisationIs:
		o := c.org
		if o == nil || !o.Registered {
			return unmet("organisation not registered")
		}
		if len(r.OrgKinds) > 0 && !containsOrgKind(r.OrgKinds, o.Kind) {
			return outcome{evidence: []uuid.UUID{o.RegisteredEventID}, missing: "organisation is a " + string(o.Kind) + ", not a " + orgKindList(r.OrgKinds)}
		}
		if r.RegisteredService && !o.RegisteredService {
			return outcome{evidence: []uuid.UUID{o.RegisteredEventID}, missing: "organisation is not a registered service"}
		}
		return met(o.RegisteredEventID)
	case RequireOrganisationCommitment:
		if c.org == nil {
			return unmet("organisation not registered")
		}
		for _, p := range c.members {
			if p == nil {
				continue
			}
			for i := range p.support {
				s := &p.support[i]
				if s.org != c.org.ID || !s.counts(c.on) {
					continue
				}
				if since, _, in := p.memberSince(s.org, c.on); in && !s.On.Before(since) {
					return met(s.ID)
				}
			}
		}
		return unmet("no senior-leadership commitment recorded by a member of the organisation")
	case RequireLicenceIDNew:
		if c.book != nil {
			if id, ok := c.book.grantOf(c.licenceID); ok {
				return outcome{evidence: []uuid.UUID{id}, missing: "licence " + c.licenceID + " was already granted: a licence continues by renewal and comes back by reinstatement"}
			}
		}
		if len(c.elsewhere) > 0 {
			return outcome{evidence: c.elsewhere, missing: "licence " + c.licenceID + " was already granted to another practitioner or organisation: a licence_id names one licence in the whole ledger"}
		}
		return outcome{met: true}
	case RequireStanding:
		if c.rb == nil {
			return unmet("rulebook error: no rulebook to evaluate standing with")
		}
		st := c.rb.Standing(c.p, c.orgs, c.on)
		for _, s := range r.Standings {
			if st.Status == s {
				return outcome{met: true}
			}
		}
		return unmet("standing is " + string(st.Status) + " on " + c.on.String())
	case RequireOrganisationLicence:
		return evaluateOrganisationLicence(r, c)
	case RequireLapsed:
		if c.rb == nil {
			return unmet("rulebook error: no rulebook to evaluate standing with")
		}
		items := []string{string(c.role), "trainee_" + string(c.role)}
		if c.licence != nil {
			items = []string{"licence." + c.licence.LicenceID}
		}
		st := c.rb.Standing(c.p, c.orgs, c.on)
		for _, h := range st.Held {
			if h.Status == StandingLapsed && slices.Contains(items, h.Item) {
				return outcome{met: true}
			}
		}
		return unmet(items[0] + " is not lapsed")
	}
	return unmet(fmt.Sprintf("rulebook error: requirement %q has no kind", r.Name))
}

// onlyByException ends the refusal of a reinstatement of something withdrawn
// or revoked: within the rules only a suspension (or a lapse) is undone by
// reinstatement, and DOMAIN.md lets "A decision may go against the rules
// (exceptional circumstances) only with a rationale".
const onlyByException = ": within the rules only a suspended (or lapsed) one is reinstated; a reinstatement recorded as an exception, with a rationale, restores it"

// evaluateOrganisationLicence looks for a current licence of r's kinds held
// by a registered organisation the practitioner is in on the date.
// "Registered" is read as registered_service true on that date, after the
// seed's "only licence professionals as Lead Practitioners if they are
// working with a registered school or service": a licence held by a school
// that is not a registered service does not count.
func evaluateOrganisationLicence(r *Requirement, c *evalCtx) outcome {
	var buf [4]Membership
	var near []uuid.UUID
	var notService []string
	for _, m := range c.p.membershipsOn(c.on, buf[:0]) {
		o := lookupOrg(c.orgs, m.OrganisationID)
		if o == nil {
			continue
		}
		l, ok := o.currentOfKinds(r.LicenceKinds, c.on)
		if !ok {
			continue
		}
		reg, service := o.registeredServiceOn(c.on)
		if !service {
			near = append(near, m.EventID)
			near = append(near, l.Evidence...)
			notService = append(notService, "licence "+l.LicenceID)
			continue
		}
		return outcome{met: true, evidence: append([]uuid.UUID{m.EventID, reg}, l.Evidence...)}
	}
	missing := "no current " + kindList(r.LicenceKinds) + " licence held by a registered school or service the practitioner is in"
	switch len(notService) {
	case 0:
	case 1:
		missing += " (" + notService[0] + " is held by an organisation that is not a registered service on " + c.on.String() + ")"
	default:
		missing += " (" + strings.Join(notService, ", ") + " are held by organisations that are not registered services on " + c.on.String() + ")"
	}
	return outcome{evidence: near, missing: missing}
}

// registeredServiceOn reports whether o is a registered service on date on:
// its latest registration that counts on that date says registered_service
// true. It returns that registration's id.
func (o *Organisation) registeredServiceOn(on Date) (uuid.UUID, bool) {
	id, service := uuid.Nil, false
	for i := range o.registrations {
		if r := &o.registrations[i]; r.counts(on) {
			id, service = r.ID, r.OrganisationRegistered.RegisteredService
		}
	}
	return id, service
}

func met(ids ...uuid.UUID) outcome { return outcome{met: true, evidence: ids} }
func unmet(missing string) outcome { return outcome{missing: missing} }

// window returns the span a count looks at, and a phrase for messages.
func (c *evalCtx) window(r *Requirement) (from, to Date, phrase string, ok bool) {
	to = c.on
	switch r.Window {
	case WindowPeriod:
		if c.from.IsZero() {
			return Date{}, to, "", true
		}
		if c.to.Before(to) {
			to = c.to
		}
		if c.phrase != "" {
			return c.from, to, c.phrase, true
		}
		if c.closed {
			return c.from, to, fmt.Sprintf(" in the certification year %s to %s", c.from, c.to), true
		}
		return c.from, to, " this certification year", true
	case WindowTraineeship:
		start, _, ok := c.p.traineeshipStart(r.Role, c.on)
		if !ok {
			return Date{}, to, "", false
		}
		return start, to, " since the " + roleNames[r.Role] + " traineeship began", true
	}
	return Date{}, to, "", true
}

func evaluateCount(r *Requirement, c *evalCtx) outcome {
	from, to, phrase, ok := c.window(r)
	if !ok {
		return unmet(fmt.Sprintf("0 of %d %s: no %s traineeship started", r.Min, noun(r.Evidence, r.Min), roleNames[r.Role]))
	}
	var o outcome
	n := 0
	for _, m := range c.p.evidence[r.Evidence] {
		if m.Retracted || m.On.After(to) || m.On.Before(from) {
			continue
		}
		n++
		if !c.quiet {
			o.evidence = append(o.evidence, m.ID)
		}
	}
	if n >= r.Min {
		o.met = true
		return o
	}
	o.missing = fmt.Sprintf("%d of %d %s%s", n, r.Min, noun(r.Evidence, r.Min), phrase)
	o.final = c.closed
	return o
}

func noun(k EvidenceKind, n int) string {
	if n == 1 {
		return evidenceNouns[k][0]
	}
	return evidenceNouns[k][1]
}

// evaluateMonthly reads "monthly" (rulebook v1) as: at least one fact of
// the kind in each whole month of the certification year that has elapsed
// by the date, months counted from the year's start day. A month without
// one cannot be made up later in the year.
func evaluateMonthly(r *Requirement, c *evalCtx) outcome {
	if c.from.IsZero() {
		return unmet("monthly requirements are evaluated within a certification year")
	}
	var starts [13]Date
	for i := range starts {
		starts[i] = addMonths(c.from, i)
	}
	starts[12] = c.to.AddDays(1)
	elapsed := 0
	for elapsed < 12 && (c.closed || starts[elapsed+1].AddDays(-1).Before(c.on)) {
		elapsed++
	}
	var seen uint16
	var o outcome
	for _, m := range c.p.evidence[r.Evidence] {
		if m.Retracted || m.On.Before(c.from) || m.On.After(c.to) || m.On.After(c.on) {
			continue
		}
		if !c.quiet {
			o.evidence = append(o.evidence, m.ID)
		}
		for i := 0; i < 12; i++ {
			if m.On.Before(starts[i+1]) {
				seen |= 1 << i
				break
			}
		}
	}
	var gaps []string
	for i := 0; i < elapsed; i++ {
		if seen&(1<<i) == 0 {
			gaps = append(gaps, starts[i].String())
		}
	}
	if len(gaps) == 0 {
		o.met = true
		return o
	}
	o.final = true
	o.missing = fmt.Sprintf("no %s in %d of %d elapsed months of the certification year (months from %s)",
		evidenceNouns[r.Evidence][0], len(gaps), elapsed, strings.Join(gaps, ", "))
	return o
}

// addMonths moves d by n calendar months, keeping the day of the month or
// the last day of a shorter month, as Date.AddYears does for 29 February.
func addMonths(d Date, n int) Date {
	y, m, day := d.Time().Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	if day > last {
		day = last
	}
	return NewDate(first.Year(), first.Month(), day)
}

// documentsFor returns the records of a document kind.
func (p *Practitioner) documentsFor(k DocumentKind) []documentRec {
	if k == DocumentIndemnity {
		return p.indemnity
	}
	return p.standing
}

// documentValidUntil is the last day a document counts. Professional
// standing may be evidenced without a valid_until; rulebook v1 lets such
// evidence count for one year, the day before its anniversary included,
// since the seed asks for standing to be maintained, not shown once.
func documentValidUntil(d *documentRec) Date {
	if d.validUntil.IsZero() {
		return d.On.AddYears(1).AddDays(-1)
	}
	return d.validUntil
}

func evaluateDocument(r *Requirement, c *evalCtx) outcome {
	docs := c.p.documentsFor(r.Document)
	name := documentNames[r.Document]
	var expired *documentRec
	for i := range docs {
		d := &docs[i]
		if !d.counts(c.on) {
			continue
		}
		if !c.on.After(documentValidUntil(d)) {
			return met(d.ID)
		}
		expired = d
	}
	if expired != nil {
		return outcome{evidence: []uuid.UUID{expired.ID}, missing: fmt.Sprintf("%s expired on %s", name, documentValidUntil(expired))}
	}
	return unmet("no " + name + " on file")
}

var documentNames = map[DocumentKind]string{
	DocumentProfessionalStanding: "evidence of professional standing",
	DocumentIndemnity:            "professional indemnity insurance",
}

func evaluateOrganisation(r *Requirement, c *evalCtx) outcome {
	var buf [4]Membership
	ms := c.p.membershipsOn(c.on, buf[:0])
	if len(ms) == 0 {
		return unmet("not working with any organisation")
	}
	var near []uuid.UUID
	for _, m := range ms {
		o := lookupOrg(c.orgs, m.OrganisationID)
		if o == nil || !o.Registered {
			continue
		}
		if len(r.OrgKinds) > 0 && !containsOrgKind(r.OrgKinds, o.Kind) {
			continue
		}
		if r.RegisteredService && !o.RegisteredService {
			near = append(near, m.EventID)
			continue
		}
		return met(m.EventID, o.RegisteredEventID)
	}
	what := "an organisation"
	if len(r.OrgKinds) > 0 {
		what = "a " + orgKindList(r.OrgKinds)
	}
	if r.RegisteredService {
		what = "a registered school or service"
		if len(r.OrgKinds) > 0 {
			what = "a registered " + orgKindList(r.OrgKinds)
		}
	}
	return outcome{evidence: near, missing: "not working with " + what}
}

func evaluateReferences(r *Requirement, c *evalCtx) outcome {
	if c.app == nil {
		return unmet("no application on file")
	}
	var o outcome
	n := 0
	for i := range c.p.references {
		ref := &c.p.references[i]
		if ref.appID == c.app.appID && ref.supportive && ref.counts(c.on) {
			n++
			o.evidence = append(o.evidence, ref.ID)
		}
	}
	if n >= r.Min {
		o.met = true
		return o
	}
	o.missing = fmt.Sprintf("%d of %d supportive references", n, r.Min)
	return o
}

func containsOrgKind(kinds []OrganisationKind, k OrganisationKind) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

func orgKindList(kinds []OrganisationKind) string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = strings.ReplaceAll(string(k), "_", " ")
	}
	return strings.Join(s, " or ")
}

func kindList(kinds []LicenceKind) string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = licenceNames[k]
	}
	return strings.Join(s, " or ")
}

// result names an outcome after its requirement.
func result(r *Requirement, prefix string, o outcome) RequirementResult {
	name := r.Name
	if prefix != "" {
		name = prefix + r.Name
	}
	res := RequirementResult{Name: name, Description: r.Description, Met: o.met, Evidence: o.evidence, Source: r.Source}
	if res.Evidence == nil {
		res.Evidence = []uuid.UUID{}
	}
	if !o.met {
		res.Missing = o.missing
	}
	return res
}

// evaluateAll walks reqs and appends one result each to out; it reports
// whether all were met.
func evaluateAll(reqs []Requirement, c *evalCtx, prefix string, out []RequirementResult) ([]RequirementResult, bool) {
	all := true
	for i := range reqs {
		o := evaluate(&reqs[i], c)
		all = all && o.met
		out = append(out, result(&reqs[i], prefix, o))
	}
	return out, all
}

// Names used in messages.
var (
	courseNames = map[Course]string{
		CourseAwareness:                  "Awareness course",
		CourseFoundationAPart1:           "Foundation A part 1",
		CourseFoundationAPart2:           "Foundation A part 2",
		CourseFoundationB:                "Foundation B",
		CourseIntermediateA:              "Intermediate A",
		CourseIntermediateB:              "Intermediate B",
		CourseStudySupporterPreparation:  "study supporters' preparation course",
		CourseFacilitatorMechanics:       "course on running a Foundation A study support group",
		CourseLevel3:                     "I Matter Level 3",
		CourseDeepDive:                   "Deep Dive (Extended Learning)",
		CourseLinkProfessional:           "Link Professional course",
		CourseLeadProfessional:           "Trainee Lead Professional Certification course",
		CourseLeadPlusModules:            "Lead Plus training modules",
		CourseIncreasedPressureParenting: "Increased Pressure Parenting course",
	}
	roleNames = map[Role]string{
		RoleInformedPractitioner: "I Matter Informed Practitioner",
		RoleLinkProfessional:     "Link Professional",
		RoleLeadProfessional:     "Lead Professional",
		RoleLeadPlus:             "Lead Plus Professional",
		RoleSeniorLink:           "Senior Link Professional",
	}
	appRoleNames = map[ApplicationRole]string{
		ApplyStudySupporter:          "volunteer study supporter",
		ApplyTraineeLeadProfessional: "trainee Lead Professional",
		ApplyLeadPlus:                "Lead Plus Professional",
		ApplyParentMentor:            "Parent Mentor",
		ApplyAdvancedPractitioner:    "Advanced Practitioner",
		ApplySeniorLink:              "Senior Link Professional",
	}
	licenceNames = map[LicenceKind]string{
		LicenceInformalUse:    "informal use",
		LicenceLevel3A:        "Level 3 A",
		LicenceLevel3B:        "Level 3 B",
		LicenceLevel4:         "Level 4",
		LicenceLevel5:         "Level 5",
		LicenceCommunityWheel: "community wheel",
		LicenceOrganisational: "organisational",
		LicenceSpecialist:     "specialist",
	}
)

// Rulebook is a version of the rules as data: what each decision needs,
// what each level rests on, what each role and licence must keep up each
// certification year, and the pathway. A Rulebook is read-only once built
// and safe for concurrent use.
type Rulebook struct {
	// Version is recorded with every decision evaluated under this rulebook.
	Version string
	// Levels are the levels, highest first; a practitioner is at the first
	// whose requirement is met, else at Levels' last.
	Levels []LevelRule
	// LicenceGrants are the requirements for granting a practitioner a
	// licence of each kind.
	LicenceGrants map[LicenceKind][]Requirement
	// OrganisationLicenceGrants are the requirements for granting an
	// organisation a licence of each kind; a kind not listed cannot be
	// held by an organisation without an exception.
	OrganisationLicenceGrants map[LicenceKind][]Requirement
	// ScopeRequirements are added to a grant of a licence with that scope.
	ScopeRequirements map[LicenceScope][]Requirement
	// LicenceChanges are the requirements for renewing, suspending,
	// reinstating and revoking a licence, by event type.
	LicenceChanges map[string][]Requirement
	// LicenceRenewals are added to a renewal of a practitioner's licence of
	// each kind.
	LicenceRenewals map[LicenceKind][]Requirement
	// Applications are the requirements for accepting an application for
	// each role; ApplicationDeclined for declining any.
	Applications        map[ApplicationRole][]Requirement
	ApplicationDeclined []Requirement
	// Certifications are the requirements for awarding each role.
	Certifications map[Role][]Requirement
	// CertificationChanges are the requirements for suspending, reinstating
	// and withdrawing a role, by event type.
	CertificationChanges map[string][]Requirement
	// Maintenance lists what each held role, traineeship and licence must
	// keep up in each certification year.
	Maintenance []MaintenanceRule
	// AtRiskDays is how near a period's end an unmet requirement makes the
	// standing at_risk (inclusive).
	AtRiskDays int
	// LicenceIDNew is added to every licence grant, a practitioner's or an
	// organisation's (v1.1: no re-grant of a licence_id).
	LicenceIDNew []Requirement
	// StickyLapses: a year that ended with a standing fact not holding, or
	// a month without its monthly training, lapses until a reinstatement
	// (CertificationReinstated for the role or its traineeship,
	// LicenceReinstated), whatever later years hold; a count short lapses
	// until the current year meets it (v1.1). Without it every lapse is of
	// the previous year only and clears once the current year meets it.
	StickyLapses bool
	// AnyHeldSuspends: a suspended or withdrawn certified role, and a
	// suspended or revoked practitioner-held licence, make standing
	// suspended or withdrawn whether or not it has maintenance duties
	// (v1.1). Without it only roles and licences with maintenance rules
	// count.
	AnyHeldSuspends bool
	// RenewalOnLicenceYear: a renewal's yearly requirements are judged on
	// the licence year that ends on the licence's current valid_until (v1.1),
	// rather than the year up to the renewal's date.
	RenewalOnLicenceYear bool
	// Pathway is the certified roles in order, each with the application
	// that leads to it when there is one.
	Pathway []PathwayStep
}

// MaintenanceRule is what one held role, traineeship or licence must keep up.
// Exactly one of Role, Trainee and LicenceKinds is set.
type MaintenanceRule struct {
	// Role: held while certified (active or suspended).
	Role Role
	// Trainee: held while in a traineeship for this role, not yet certified.
	Trainee Role
	// LicenceKinds: each licence of these kinds, held while active or
	// suspended.
	LicenceKinds []LicenceKind
	Requirements []Requirement
}

// PathwayStep is one role on the pathway.
type PathwayStep struct {
	Role Role
	// Application is the role applied for on the way to Role, if any.
	Application ApplicationRole
}
