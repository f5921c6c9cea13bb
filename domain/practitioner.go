package domain

import (
	"fmt"

	"github.com/google/uuid"
)

// Practitioner is one practitioner's state folded from the facts of their
// stream: every fact the rules need, kept with its event id. Build one with
// NewPractitioner and Apply, or Fold. A Practitioner is not safe for
// concurrent use while facts are applied; once folded, concurrent reads
// (evaluations) are safe.
type Practitioner struct {
	// ID is the practitioner's id, as in the stream name practitioner-<id>.
	ID uuid.UUID

	retractions
	licenceBook

	facts       int
	maxOn       Date
	details     []detailsRec
	members     []memberRec
	support     []supportRec
	suitability []suitabilityRec
	courses     []courseRec
	evidence    [numEvidenceKinds][]meta
	standing    []documentRec // professional standing
	indemnity   []documentRec
	apps        []applicationRec
	references  []referenceRec
	interviews  []interviewRec
	appDecided  []appDecisionRec
	traineeship []traineeshipRec
	certs       []certRec
	directory   []directoryRec
	reviews     []reviewRec
	decisions   []decisionRec

	// backing is the array the evidence slices are cut from, kept empty
	// for FoldReusing's next fold.
	backing []meta
}

// The records a practitioner's fold keeps, one type per kind of fact.
type (
	detailsRec struct {
		meta
		registration bool
		name, email  *string
		profession   *Profession
		independent  *bool
	}
	memberRec struct {
		meta
		org    uuid.UUID
		joined bool
	}
	supportRec struct {
		meta
		org        uuid.UUID
		endorsedBy string
	}
	suitabilityRec struct {
		meta
		org  uuid.UUID
		role Role
	}
	courseRec struct {
		meta
		course Course
	}
	documentRec struct {
		meta
		body       string
		validUntil Date
	}
	applicationRec struct {
		meta
		appID     string
		role      ApplicationRole
		fastTrack bool
	}
	referenceRec struct {
		meta
		appID      string
		supportive bool
	}
	interviewRec struct {
		meta
		appID  string
		passed bool
	}
	appDecisionRec struct {
		meta
		appID     string
		accepted  bool
		fastTrack bool
		exception bool
	}
	traineeshipRec struct {
		meta
		role Role
	}
	certRec struct {
		meta
		role Role
		op   certOp
		// exception is set on a decision recorded as an exception.
		exception bool
	}
	directoryRec struct {
		meta
		directory Directory
		consented bool
	}
	decisionRec struct {
		meta
		typ       string
		exception bool
	}
)

type certOp uint8

const (
	certAwarded certOp = iota + 1
	certSuspended
	certReinstated
	certWithdrawn
)

// NewPractitioner returns the empty state of the practitioner with id.
func NewPractitioner(id uuid.UUID) *Practitioner { return &Practitioner{ID: id} }

// Fold applies facts in stream order to a new Practitioner.
func Fold(id uuid.UUID, facts []Fact) (*Practitioner, error) {
	return fold(NewPractitioner(id), facts)
}

// FoldReusing is Fold into the storage of into, a Practitioner an earlier
// Fold or FoldReusing returned that no one uses any more (nil: a new one).
// The state starts from nothing, as in Fold, and the same facts give the
// same state: only the room of into's largest slices is used again, so
// that a caller folding stream after stream, and keeping nothing of each
// state past its evaluation, does not allocate it anew each time. What
// the evaluations return (levels, roles, licences, standings, next steps)
// never refers to that room; the Practitioner returned does, and is into.
// Not safe for concurrent use with anything reading into.
func FoldReusing(into *Practitioner, id uuid.UUID, facts []Fact) (*Practitioner, error) {
	if into == nil {
		return Fold(id, facts)
	}
	*into = Practitioner{ID: id, details: into.details[:0], members: into.members[:0], courses: into.courses[:0],
		directory: into.directory[:0], certs: into.certs[:0], backing: into.backing[:0]}
	return fold(into, facts)
}

// fold applies facts to p, new or reset by FoldReusing.
func fold(p *Practitioner, facts []Fact) (*Practitioner, error) {
	// Sizing the evidence slices first saves most of the fold's time,
	// which otherwise goes on growing them.
	var n [numEvidenceKinds + 1]int32 // the last counts events that are evidence of nothing
	var details, members, courses, directory, certs int
	for i := range facts {
		if facts[i].Event != nil {
			k1, k2, k3 := evidenceKinds(facts[i].Event)
			n[k1]++
			n[k2]++
			n[k3]++
			switch facts[i].Event.(type) {
			case *PractitionerRegistered, *PractitionerDetailsChanged:
				details++
			case *PractitionerJoinedOrganisation, *PractitionerLeftOrganisation:
				members++
			case *CourseCompleted:
				courses++
			case *DirectoryListingConsented, *DirectoryListingWithdrawn:
				directory++
			case *CertificationAwarded, *CertificationSuspended, *CertificationReinstated, *CertificationWithdrawn:
				certs++
			}
		}
	}
	// So are the commonest kinds of record (an upper bound: a fact of
	// the wrong shape is refused, not recorded).
	p.details = sized(p.details, details)
	p.members = sized(p.members, members)
	p.courses = sized(p.courses, courses)
	p.directory = sized(p.directory, directory)
	p.certs = sized(p.certs, certs)
	total := 0
	for k := 0; k < int(numEvidenceKinds); k++ {
		total += int(n[k])
	}
	backing := sized(p.backing, total)
	p.backing = backing
	for k := 0; k < int(numEvidenceKinds); k++ {
		p.evidence[k] = backing[len(backing) : len(backing) : len(backing)+int(n[k])]
		backing = backing[:len(backing)+int(n[k])]
	}
	for i := range facts {
		if err := p.Apply(facts[i]); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Apply folds one fact of the practitioner's stream into p. Facts are
// applied in stream order, which need not be date order. An event type
// this fold does not know, or one that belongs in an organisation's stream,
// is an error: a fold never skips what it does not understand.
func (p *Practitioner) Apply(f Fact) error {
	if f.Event == nil {
		return fmt.Errorf("domain: fact %s has no event", f.ID)
	}
	ok := p.apply(f)
	if !ok {
		return fmt.Errorf("domain: practitioner %s: cannot apply %s (%T) to a practitioner's state", p.ID, f.Event.EventType(), f.Event)
	}
	p.facts++
	if f.OccurredOn.After(p.maxOn) {
		p.maxOn = f.OccurredOn
	}
	return nil
}

func (p *Practitioner) apply(f Fact) bool {
	m := p.newMeta(f)
	switch e := f.Event.(type) {
	case *PractitionerRegistered:
		// One copy of the event holds all four, so that the fold never
		// shares memory with an event its caller still holds.
		c := *e
		p.details = insertByDate(p.details, detailsRec{meta: m, registration: true, name: &c.Name, email: &c.Email, profession: &c.Profession, independent: &c.Independent})
	case *PractitionerDetailsChanged:
		p.details = insertByDate(p.details, detailsRec{meta: m, name: e.Name, email: e.Email, profession: e.Profession, independent: e.Independent})
	case *PractitionerJoinedOrganisation:
		p.members = insertByDate(p.members, memberRec{meta: m, org: e.OrganisationID, joined: true})
	case *PractitionerLeftOrganisation:
		p.members = insertByDate(p.members, memberRec{meta: m, org: e.OrganisationID})
	case *SeniorLeadershipSupportRecorded:
		p.support = append(p.support, supportRec{meta: m, org: e.OrganisationID, endorsedBy: e.EndorsedBy})
	case *SuitabilityAgreed:
		p.suitability = append(p.suitability, suitabilityRec{meta: m, org: e.OrganisationID, role: e.Role})
	case *CourseCompleted:
		p.courses = append(p.courses, courseRec{meta: m, course: e.Course})
	case *CPDEngagementRecorded, *ReflectiveUpdateSubmitted, *ParticipantFeedbackGathered, *ActionPlanSubmitted,
		*StudyGroupRun, *TrackerAssessmentRecorded, *PracticeSupportEvidenced:
		k1, k2, k3 := evidenceKinds(e)
		p.addEvidence(k1, m)
		p.addEvidence(k2, m)
		p.addEvidence(k3, m)
	case *ProfessionalStandingEvidenced:
		p.standing = append(p.standing, documentRec{meta: m, body: e.Body, validUntil: e.ValidUntil})
	case *IndemnityInsuranceRecorded:
		p.indemnity = append(p.indemnity, documentRec{meta: m, body: e.Provider, validUntil: e.ValidUntil})
	case *ApplicationSubmitted:
		p.apps = append(p.apps, applicationRec{meta: m, appID: e.ApplicationID, role: e.Role, fastTrack: e.FastTrack})
	case *ReferenceReceived:
		p.references = append(p.references, referenceRec{meta: m, appID: e.ApplicationID, supportive: e.Supportive})
	case *InterviewHeld:
		p.interviews = insertByDate(p.interviews, interviewRec{meta: m, appID: e.ApplicationID, passed: e.Outcome == InterviewPassed})
	case *ApplicationDecided:
		p.appDecided = insertByDate(p.appDecided, appDecisionRec{meta: m, appID: e.ApplicationID, accepted: e.Outcome == ApplicationAccepted, fastTrack: e.FastTrack, exception: e.Exception})
		p.noteDecision(m, TypeApplicationDecided, e.Exception)
	case *TraineeshipStarted:
		p.traineeship = insertByDate(p.traineeship, traineeshipRec{meta: m, role: e.Role})
	case *CertificationAwarded:
		p.certify(m, TypeCertificationAwarded, e.Role, certAwarded, e.Exception)
	case *CertificationSuspended:
		p.certify(m, TypeCertificationSuspended, e.Role, certSuspended, e.Exception)
	case *CertificationReinstated:
		p.certify(m, TypeCertificationReinstated, e.Role, certReinstated, e.Exception)
	case *CertificationWithdrawn:
		p.certify(m, TypeCertificationWithdrawn, e.Role, certWithdrawn, e.Exception)
	case *LicenceGranted, *LicenceRenewed, *LicenceSuspended, *LicenceReinstated, *LicenceRevoked:
		d, ok := p.licenceBook.apply(m, e)
		if !ok {
			return false
		}
		p.noteDecision(m, e.EventType(), d.Exception)
	case *DirectoryListingConsented:
		p.directory = insertByDate(p.directory, directoryRec{meta: m, directory: e.Directory, consented: true})
	case *DirectoryListingWithdrawn:
		p.directory = insertByDate(p.directory, directoryRec{meta: m, directory: e.Directory})
	case *DecisionReviewed:
		p.reviews = append(p.reviews, reviewRec{meta: m, decision: e.DecisionEventID, outcome: e.Outcome})
	case *EventRetracted:
		if p.retractions.add(f, e.RetractedEventID) {
			target := e.RetractedEventID
			eachMeta(p, func(m *meta) {
				if m.ID == target {
					m.Retracted = true
				}
			})
		} else {
			p.markAll()
		}
	case *PersonalDataErased:
		// Erasure makes the name and email unreadable where they are
		// decoded (the key is gone); the training record it leaves alone.
	default:
		return false
	}
	return true
}

// certify folds a certification decision.
func (p *Practitioner) certify(m meta, typ string, role Role, op certOp, exception bool) {
	p.certs = insertByDate(p.certs, certRec{meta: m, role: role, op: op, exception: exception})
	p.noteDecision(m, typ, exception)
}

func (p *Practitioner) addEvidence(k EvidenceKind, m meta) {
	if k >= numEvidenceKinds {
		return
	}
	p.evidence[k] = append(p.evidence[k], m)
}

func (p *Practitioner) noteDecision(m meta, typ string, exception bool) {
	p.decisions = append(p.decisions, decisionRec{meta: m, typ: typ, exception: exception})
}

// markAll applies the set of retracted ids to every record. Retractions are
// rare, so walking the whole state on each one is cheaper than keeping an
// index from id to record on every fact.
func (p *Practitioner) markAll() {
	r := p.retracted
	eachMeta(p, func(m *meta) { m.Retracted = r[m.ID] })
}

// eachMeta calls fn for every fact the practitioner's state holds.
func eachMeta(p *Practitioner, fn func(*meta)) {
	visit(p.details, fn)
	visit(p.members, fn)
	visit(p.support, fn)
	visit(p.suitability, fn)
	visit(p.courses, fn)
	for k := range p.evidence {
		for i := range p.evidence[k] {
			fn(&p.evidence[k][i])
		}
	}
	visit(p.standing, fn)
	visit(p.indemnity, fn)
	visit(p.apps, fn)
	visit(p.references, fn)
	visit(p.interviews, fn)
	visit(p.appDecided, fn)
	visit(p.traineeship, fn)
	visit(p.certs, fn)
	visit(p.licenceBook.events, fn)
	visit(p.directory, fn)
	visit(p.reviews, fn)
	visit(p.decisions, fn)
	visit(p.retractions.list, fn)
}

// EvidenceKind is a kind of yearly evidence a maintenance requirement counts
// (CPD engagements by kind, reflective updates by kind, feedback, action
// plans, groups run, tracker assessments, practice support).
type EvidenceKind uint8

// Evidence kinds. One fact may be evidence of several kinds: an action plan
// with a budget is also an action plan; a Foundation A group is also a group
// run, and a registered one is also a registered Foundation A group.
const (
	EvidencePractitionerDevelopment EvidenceKind = iota
	EvidenceNetworkEngagement
	EvidencePeerSupervision
	EvidenceLinkedCPD
	EvidenceLogBook
	EvidenceReflectiveJournal
	EvidencePeriodicUpdate
	EvidenceParticipantFeedback
	EvidenceActionPlan
	EvidenceActionPlanWithBudget
	EvidenceGroupRun
	EvidenceFoundationAGroup
	EvidenceTrackerAssessment
	EvidencePracticeSupport
	// EvidenceRegisteredFoundationAGroup is a StudyGroupRun with course
	// foundation_a and registered true (rulebook v1.1 counts only these).
	EvidenceRegisteredFoundationAGroup
	numEvidenceKinds
)

// evidenceNouns names each kind in "1 of 2 …" messages: singular, plural.
var evidenceNouns = [numEvidenceKinds][2]string{
	EvidencePractitionerDevelopment:    {"practitioner development training session", "practitioner development training sessions"},
	EvidenceNetworkEngagement:          {"network engagement", "network engagements"},
	EvidencePeerSupervision:            {"peer or supervision session", "peer or supervision sessions"},
	EvidenceLinkedCPD:                  {"linked CPD engagement", "linked CPD engagements"},
	EvidenceLogBook:                    {"log book update", "log book updates"},
	EvidenceReflectiveJournal:          {"reflective practice journal", "reflective practice journals"},
	EvidencePeriodicUpdate:             {"periodic reflective update", "periodic reflective updates"},
	EvidenceParticipantFeedback:        {"participant feedback gathering", "participant feedback gatherings"},
	EvidenceActionPlan:                 {"action plan", "action plans"},
	EvidenceActionPlanWithBudget:       {"annual action plan with a budget plan", "annual action plans with a budget plan"},
	EvidenceGroupRun:                   {"group run", "groups run"},
	EvidenceFoundationAGroup:           {"Foundation A course supported", "Foundation A courses supported"},
	EvidenceTrackerAssessment:          {"I Matter Tracker assessment", "I Matter Tracker assessments"},
	EvidencePracticeSupport:            {"piece of practice support evidenced", "pieces of practice support evidenced"},
	EvidenceRegisteredFoundationAGroup: {"registered Foundation A group", "registered Foundation A groups"},
}

// evidenceKinds returns the (at most three) evidence kinds an event is
// evidence of, numEvidenceKinds standing for none. It reads only what Apply
// reads, to size the fold's slices.
func evidenceKinds(e Event) (EvidenceKind, EvidenceKind, EvidenceKind) {
	none := numEvidenceKinds
	switch v := e.(type) {
	case *CPDEngagementRecorded:
		return cpdEvidence(v.Kind), none, none
	case *ReflectiveUpdateSubmitted:
		return reflectiveEvidence(v.Kind), none, none
	case *ParticipantFeedbackGathered:
		return EvidenceParticipantFeedback, none, none
	case *ActionPlanSubmitted:
		if v.BudgetIncluded {
			return EvidenceActionPlan, EvidenceActionPlanWithBudget, none
		}
		return EvidenceActionPlan, none, none
	case *StudyGroupRun:
		switch {
		case v.Course == GroupFoundationA && v.Registered:
			return EvidenceGroupRun, EvidenceFoundationAGroup, EvidenceRegisteredFoundationAGroup
		case v.Course == GroupFoundationA:
			return EvidenceGroupRun, EvidenceFoundationAGroup, none
		}
		return EvidenceGroupRun, none, none
	case *TrackerAssessmentRecorded:
		return EvidenceTrackerAssessment, none, none
	case *PracticeSupportEvidenced:
		return EvidencePracticeSupport, none, none
	}
	return none, none, none
}

func cpdEvidence(k CPDKind) EvidenceKind {
	switch k {
	case CPDPractitionerDevelopment:
		return EvidencePractitionerDevelopment
	case CPDNetworkEngagement:
		return EvidenceNetworkEngagement
	case CPDPeerSupervision:
		return EvidencePeerSupervision
	case CPDLinkedCPD:
		return EvidenceLinkedCPD
	}
	return numEvidenceKinds
}

func reflectiveEvidence(k ReflectiveKind) EvidenceKind {
	switch k {
	case ReflectiveLogBook:
		return EvidenceLogBook
	case ReflectiveJournal:
		return EvidenceReflectiveJournal
	case ReflectivePeriodicUpdate:
		return EvidencePeriodicUpdate
	}
	return numEvidenceKinds
}

// Facts returns how many facts have been applied, retracted ones included.
func (p *Practitioner) Facts() int { return p.facts }

// Details are a practitioner's own details as last recorded.
type Details struct {
	Registered   bool
	RegisteredOn Date
	Name         string
	Email        string
	Profession   Profession
	Independent  bool
}

// Details returns the practitioner's details from every unretracted
// PractitionerRegistered and PractitionerDetailsChanged, in date order.
func (p *Practitioner) Details() Details { return p.DetailsOn(Date{n: 1<<31 - 1}) }

// DetailsOn returns the practitioner's details as they stood on date on.
func (p *Practitioner) DetailsOn(on Date) Details {
	var d Details
	for i := range p.details {
		r := &p.details[i]
		if !r.counts(on) {
			continue
		}
		if r.registration && !d.Registered {
			d.Registered, d.RegisteredOn = true, r.On
		}
		if r.name != nil {
			d.Name = *r.name
		}
		if r.email != nil {
			d.Email = *r.email
		}
		if r.profession != nil {
			d.Profession = *r.profession
		}
		if r.independent != nil {
			d.Independent = *r.independent
		}
	}
	return d
}

// registeredOn returns the id of the registration that counts on date on.
func (p *Practitioner) registeredOn(on Date) (uuid.UUID, bool) {
	for i := range p.details {
		r := &p.details[i]
		if r.registration && r.counts(on) {
			return r.ID, true
		}
	}
	return uuid.Nil, false
}

// independentOn reports whether the practitioner works independently on
// date on, with the event that says so.
func (p *Practitioner) independentOn(on Date) (bool, uuid.UUID) {
	ind, id := false, uuid.Nil
	for i := range p.details {
		r := &p.details[i]
		if r.counts(on) && r.independent != nil {
			ind, id = *r.independent, r.ID
		}
	}
	return ind, id
}

// Membership is an organisation a practitioner works in or with on a date.
type Membership struct {
	OrganisationID uuid.UUID
	Since          Date
	// EventID is the PractitionerJoinedOrganisation that began it.
	EventID uuid.UUID
}

// Memberships returns the organisations the practitioner is in on date on,
// in the order they were joined.
func (p *Practitioner) Memberships(on Date) []Membership {
	return p.membershipsOn(on, nil)
}

func (p *Practitioner) membershipsOn(on Date, buf []Membership) []Membership {
	out := buf[:0]
	for i := range p.members {
		r := &p.members[i]
		if !r.counts(on) {
			continue
		}
		j := 0
		for j < len(out) && out[j].OrganisationID != r.org {
			j++
		}
		switch {
		case r.joined && j == len(out):
			out = append(out, Membership{OrganisationID: r.org, Since: r.On, EventID: r.ID})
		case !r.joined && j < len(out):
			out = append(out[:j], out[j+1:]...)
		}
	}
	return out
}

// memberSince returns when the practitioner's current membership of org
// began, if they are in it on date on.
func (p *Practitioner) memberSince(org uuid.UUID, on Date) (Date, uuid.UUID, bool) {
	var since Date
	var id uuid.UUID
	in := false
	for i := range p.members {
		r := &p.members[i]
		if r.org != org || !r.counts(on) {
			continue
		}
		if r.joined && !in {
			in, since, id = true, r.On, r.ID
		} else if !r.joined {
			in = false
		}
	}
	return since, id, in
}

// courseDone returns the id of the first unretracted completion of c on or
// before on.
func (p *Practitioner) courseDone(c Course, on Date) (uuid.UUID, bool) {
	for i := range p.courses {
		r := &p.courses[i]
		if r.course == c && r.counts(on) {
			return r.ID, true
		}
	}
	return uuid.Nil, false
}

// RoleStatus is the status of a certified role on a date.
type RoleStatus string

// Role statuses.
const (
	RoleActive    RoleStatus = "active"
	RoleSuspended RoleStatus = "suspended"
	RoleWithdrawn RoleStatus = "withdrawn"
)

// RoleHeld is a certified role and its status on a date.
type RoleHeld struct {
	Role   Role
	Status RoleStatus
	// Since is the date of the award the role rests on.
	Since Date
	// Evidence holds the award and, when not active, the decision that
	// suspended or withdrew it.
	Evidence []uuid.UUID
}

// roleState walks the certification decisions for role up to on.
func (p *Practitioner) roleState(role Role, on Date) (st RoleStatus, since Date, award, last uuid.UUID) {
	for i := range p.certs {
		r := &p.certs[i]
		if r.role != role || !r.counts(on) {
			continue
		}
		switch r.op {
		case certAwarded:
			st, since, award, last = RoleActive, r.On, r.ID, r.ID
		case certSuspended:
			if st == RoleActive {
				st, last = RoleSuspended, r.ID
			}
		case certReinstated:
			// Within the rules only a suspended role is reinstated; one
			// recorded as an exception also restores a withdrawn role
			// (DOMAIN.md: "A decision may go against the rules
			// (exceptional circumstances) only with a rationale").
			if st == RoleSuspended || st == RoleWithdrawn && r.exception {
				st, last = RoleActive, r.ID
			}
		case certWithdrawn:
			if st != "" {
				st, last = RoleWithdrawn, r.ID
			}
		}
	}
	return st, since, award, last
}

// Role returns the status of role on date on; ok is false when it was
// never awarded.
func (p *Practitioner) Role(role Role, on Date) (RoleHeld, bool) {
	st, since, award, last := p.roleState(role, on)
	if st == "" {
		return RoleHeld{}, false
	}
	h := RoleHeld{Role: role, Status: st, Since: since, Evidence: []uuid.UUID{award}}
	if last != award {
		h.Evidence = append(h.Evidence, last)
	}
	return h, true
}

// Roles returns every role ever awarded, with its status on date on, in
// pathway order. Only active roles are held; see RolesHeld.
func (p *Practitioner) Roles(on Date) []RoleHeld {
	var out []RoleHeld
	for _, r := range roles {
		if h, ok := p.Role(r, on); ok {
			out = append(out, h)
		}
	}
	return out
}

// Traineeships returns the roles the practitioner is training for on date
// on (see Traineeship), in pathway order.
func (p *Practitioner) Traineeships(on Date) []Role {
	var out []Role
	for _, r := range roles {
		if _, _, ok := p.Traineeship(r, on); ok {
			out = append(out, r)
		}
	}
	return out
}

// RolesHeld returns the certified roles active on date on (neither
// suspended nor withdrawn), in pathway order.
func (p *Practitioner) RolesHeld(on Date) []Role {
	var out []Role
	for _, r := range roles {
		if st, _, _, _ := p.roleState(r, on); st == RoleActive {
			out = append(out, r)
		}
	}
	return out
}

// Traineeship returns the start of the practitioner's traineeship for role
// on date on: the latest TraineeshipStarted for role, provided no award of
// role followed it. A trainee stops being one when certified.
func (p *Practitioner) Traineeship(role Role, on Date) (start Date, id uuid.UUID, ok bool) {
	start, id, ok = p.traineeshipStart(role, on)
	if !ok {
		return
	}
	for i := range p.certs {
		r := &p.certs[i]
		if r.role == role && r.op == certAwarded && r.counts(on) && !r.On.Before(start) {
			return Date{}, uuid.Nil, false
		}
	}
	return start, id, true
}

// traineeshipStart returns the latest traineeship start for role on or
// before on, certified since or not.
func (p *Practitioner) traineeshipStart(role Role, on Date) (Date, uuid.UUID, bool) {
	for i := len(p.traineeship) - 1; i >= 0; i-- {
		r := &p.traineeship[i]
		if r.role == role && r.counts(on) {
			return r.On, r.ID, true
		}
	}
	return Date{}, uuid.Nil, false
}

// application returns the unretracted application with id appID.
func (p *Practitioner) application(appID string) *applicationRec {
	for i := range p.apps {
		if a := &p.apps[i]; a.appID == appID && !a.Retracted {
			return a
		}
	}
	return nil
}

// latestApplication returns the latest application for role on or before on.
func (p *Practitioner) latestApplication(role ApplicationRole, on Date) *applicationRec {
	var out *applicationRec
	for i := range p.apps {
		if a := &p.apps[i]; a.role == role && a.counts(on) && (out == nil || !a.On.Before(out.On)) {
			out = a
		}
	}
	return out
}

// applicationOutcome returns the latest decision on appID up to on.
func (p *Practitioner) applicationOutcome(appID string, on Date) *appDecisionRec {
	var out *appDecisionRec
	for i := range p.appDecided {
		if d := &p.appDecided[i]; d.appID == appID && d.counts(on) {
			out = d
		}
	}
	return out
}

// DirectoryConsents returns the directories the practitioner consents to be
// listed in on date on.
func (p *Practitioner) DirectoryConsents(on Date) []Directory {
	var out []Directory
	for _, d := range directories {
		consented := false
		for i := range p.directory {
			r := &p.directory[i]
			if r.directory == d && r.counts(on) {
				consented = r.consented
			}
		}
		if consented {
			out = append(out, d)
		}
	}
	return out
}

// Reviews returns the unretracted reviews of decisions in this stream. In
// rulebook v1 a review changes no status: an overturned decision is undone
// by a later decision (a suspension, withdrawal or revocation), which
// itself stays on record.
func (p *Practitioner) Reviews() []Review { return reviewsOf(p.reviews) }
