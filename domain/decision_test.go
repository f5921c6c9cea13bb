package domain

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// world is the organisations the fictional practitioners work with.
type world struct {
	school *Organisation // a registered school
	unreg  *Organisation // a school not registered as a service
	hub    *Organisation // a community hub
}

func newWorld() *world {
	mk := func(name string, k OrganisationKind, registered bool) *Organisation {
		o := NewOrganisation(nextID())
		if err := o.Apply(Fact{ID: nextID(), OccurredOn: MustDate("2020-01-01"), Event: &OrganisationRegistered{Name: name, Kind: k, RegisteredService: registered}}); err != nil {
			panic(err)
		}
		return o
	}
	return &world{
		school: mk("Fellside Primary", OrgSchool, true),
		unreg:  mk("Beckside Academy", OrgSchool, false),
		hub:    mk("Kentmere Community Hub", OrgCommunityHub, false),
	}
}

func (w *world) orgs() OrganisationSet {
	return OrganisationSet{w.school.ID: w.school, w.unreg.ID: w.unreg, w.hub.ID: w.hub}
}

func (h *history) join(on string, o *Organisation) uuid.UUID {
	return h.add(on, &PractitionerJoinedOrganisation{OrganisationID: o.ID})
}

func (h *history) support(on string, o *Organisation) uuid.UUID {
	return h.add(on, &SeniorLeadershipSupportRecorded{OrganisationID: o.ID, EndorsedBy: "Head Teacher"})
}

// applyFor records an application with two supportive references and a
// passed interview.
func (h *history) applyFor(on, appID string, r ApplicationRole, fast bool) {
	h.add(on, &ApplicationSubmitted{ApplicationID: appID, Role: r, FastTrack: fast})
	h.add(on, &ReferenceReceived{ApplicationID: appID, Supportive: true})
	h.add(on, &ReferenceReceived{ApplicationID: appID, Supportive: true})
	h.add(on, &InterviewHeld{ApplicationID: appID, Outcome: InterviewPassed})
}

func (h *history) accept(on, appID string) uuid.UUID {
	return h.add(on, &ApplicationDecided{ApplicationID: appID, Outcome: ApplicationAccepted, Decision: Decision{DecidedBy: "QC Lead", Rationale: "r"}})
}

var (
	level1Courses = []Course{CourseFoundationAPart1, CourseFoundationAPart2, CourseFoundationB}
	level2Courses = []Course{CourseFoundationAPart1, CourseFoundationAPart2, CourseFoundationB, CourseIntermediateA, CourseIntermediateB}
)

// inSchool registers the practitioner in the registered school with
// senior-leadership support.
func inSchool(h *history, w *world) {
	h.register("2022-01-01")
	h.join("2022-01-02", w.school)
	h.support("2022-01-03", w.school)
}

// certifiableLead builds a trainee ready for Lead Professional
// certification on 2024-03-01: traineeship from 2023-03-01.
func certifiableLead(h *history, w *world) {
	inSchool(h, w)
	h.courses("2022-06-01", level2Courses...)
	h.courses("2022-09-01", CourseFacilitatorMechanics, CourseLeadProfessional)
	h.applyFor("2023-01-10", "APP-1", ApplyTraineeLeadProfessional, false)
	h.accept("2023-02-01", "APP-1")
	h.add("2023-03-01", &TraineeshipStarted{Role: RoleLeadProfessional})
	h.add("2023-05-01", &StudyGroupRun{GroupID: "G1", Course: GroupFoundationA, Registered: true})
	h.add("2023-10-01", &StudyGroupRun{GroupID: "G2", Course: GroupFoundationA, Registered: true})
	h.add("2024-01-15", &ReflectiveUpdateSubmitted{Kind: ReflectiveLogBook})
}

// certifiableLeadPlus builds a Lead Professional ready for Lead Plus on 2025-06-01.
func certifiableLeadPlus(h *history, w *world) {
	certifiableLead(h, w)
	h.award("2023-01-01", RoleInformedPractitioner)
	h.courses("2023-01-05", CourseLinkProfessional)
	h.award("2023-02-01", RoleLinkProfessional)
	h.award("2024-03-01", RoleLeadProfessional)
	h.courses("2024-09-01", CourseLevel3, CourseDeepDive)
	h.add("2024-10-01", &SuitabilityAgreed{OrganisationID: w.school.ID, Role: RoleLeadPlus})
	h.applyFor("2024-10-05", "APP-LP", ApplyLeadPlus, false)
	h.accept("2024-10-20", "APP-LP")
	h.courses("2025-03-01", CourseLeadPlusModules)
	h.cpd("2025-03-10", CPDPeerSupervision)
	h.cpd("2025-04-10", CPDPeerSupervision)
	h.add("2025-04-20", &PracticeSupportEvidenced{Summary: "supported a colleague's first group"})
	h.add("2025-04-21", &TrackerAssessmentRecorded{Summary: "team planning session"})
	h.add("2025-05-01", &ReflectiveUpdateSubmitted{Kind: ReflectiveJournal})
}

type decisionCase struct {
	name  string
	seed  string
	build func(h *history, w *world)
	event Event
	on    string
	// unmet names the requirements expected unmet; none means met.
	unmet []string
}

func runDecisionCases(t *testing.T, cases []decisionCase) {
	t.Helper()
	runDecisionCasesWith(t, RulebookV1(), cases)
}

func runDecisionCasesWith(t *testing.T, rb *Rulebook, cases []decisionCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			h := newHistory(t)
			tt.build(h, w)
			ev := rb.EvaluateDecision(h.fold(), w.orgs(), tt.event, MustDate(tt.on))
			var unmet []string
			for _, r := range ev.Requirements {
				assert.NotEmpty(t, r.Source, "%s cites no source", r.Name)
				assert.NotNil(t, r.Evidence)
				if !r.Met {
					unmet = append(unmet, r.Name)
					assert.NotEmpty(t, r.Missing, "%s says nothing of what is missing", r.Name)
				} else {
					assert.Empty(t, r.Missing)
				}
			}
			assert.Equal(t, tt.unmet, unmet, tt.seed)
			assert.Equal(t, len(tt.unmet) == 0, ev.Met)
			assert.NotEmpty(t, ev.Requirements)
			assert.Equal(t, MustDate(tt.on), ev.On)
		})
	}
}

func grant(id string, k LicenceKind, scope LicenceScope) *LicenceGranted {
	return &LicenceGranted{LicenceID: id, Kind: k, Scope: scope, ValidUntil: MustDate("2026-01-31"), Decision: Decision{DecidedBy: "QC Lead", Rationale: "r"}}
}

func TestLicenceGrantRequirements(t *testing.T) {
	qualified3A := func(h *history, w *world) {
		inSchool(h, w)
		h.courses("2023-01-01", CourseFoundationAPart1, CourseFoundationAPart2, CourseFoundationB, CourseIntermediateA, CourseStudySupporterPreparation)
	}
	const seedA = `older seed: "A licenses are generally offered to professionals who are salaried professionals who have completed Foundation A&B and Intermeidate A plus our study supporters preparation course"`
	runDecisionCases(t, []decisionCase{
		{"Level 3 A: everything in place", seedA, qualified3A, grant("L1", LicenceLevel3A, ""), "2024-02-01", nil},
		{"Level 3 A: the course on the decision day counts", seedA, func(h *history, w *world) {
			qualified3A(h, w)
			h.facts[len(h.facts)-1].OccurredOn = MustDate("2024-02-01")
		}, grant("L1", LicenceLevel3A, ""), "2024-02-01", nil},
		{"Level 3 A: the day before the preparation course", seedA, func(h *history, w *world) {
			qualified3A(h, w)
			h.facts[len(h.facts)-1].OccurredOn = MustDate("2024-02-01")
		}, grant("L1", LicenceLevel3A, ""), "2024-01-31", []string{"study_supporter_preparation"}},
		{"Level 3 A: a retracted Intermediate A", seedA, func(h *history, w *world) {
			qualified3A(h, w)
			h.retract("2023-06-01", h.facts[len(h.facts)-2].ID)
		}, grant("L1", LicenceLevel3A, ""), "2024-02-01", []string{"intermediate_a"}},
		{"Level 3 A: without senior-leadership support", `older seed: "We offer Level 3 A licences to professionals who have the support of their senior leadership teams."`,
			func(h *history, w *world) {
				h.register("2022-01-01")
				h.join("2022-01-02", w.school)
				h.courses("2023-01-01", CourseFoundationAPart1, CourseFoundationAPart2, CourseFoundationB, CourseIntermediateA, CourseStudySupporterPreparation)
			}, grant("L1", LicenceLevel3A, ""), "2024-02-01", []string{"senior_leadership_support"}},
		{"Level 3 A: support from a school since left no longer counts", `DOMAIN.md: "leadership support while the practitioner is still in that organisation"`,
			func(h *history, w *world) {
				qualified3A(h, w)
				h.add("2023-09-01", &PractitionerLeftOrganisation{OrganisationID: w.school.ID})
				h.join("2023-09-02", w.school)
			}, grant("L1", LicenceLevel3A, ""), "2024-02-01", []string{"senior_leadership_support"}},
		{"Level 3 A: working only with a school that is not a registered service", `older seed: "we have made a current decision to only licence professionals as Lead Practitioners if they are working with a registered school or service"`,
			func(h *history, w *world) {
				h.register("2022-01-01")
				h.join("2022-01-02", w.unreg)
				h.support("2022-01-03", w.unreg)
				h.courses("2023-01-01", CourseFoundationAPart1, CourseFoundationAPart2, CourseFoundationB, CourseIntermediateA, CourseStudySupporterPreparation)
			}, grant("L1", LicenceLevel3A, ""), "2024-02-01", []string{"registered_school_or_service"}},
		{"Level 3 A for Increased Pressure Parenting needs that course", `older seed: "additional experience and competencies will be required to offer I Matter Training for Increased Pressure Parenting."`,
			qualified3A, grant("L1", LicenceLevel3A, ScopeIncreasedPressureParenting), "2024-02-01", []string{"increased_pressure_parenting"}},
		{"Level 3 A for Increased Pressure Parenting with the course", `older seed: "additional experience and competencies will be required to offer I Matter Training for Increased Pressure Parenting."`,
			func(h *history, w *world) {
				qualified3A(h, w)
				h.courses("2023-06-01", CourseIncreasedPressureParenting)
			}, grant("L1", LicenceLevel3A, ScopeIncreasedPressureParenting), "2024-02-01", nil},
		{"Level 3 B: central team membership is not recorded, so always an exception", `older seed: "At present, all B licensees work on our team in a freelance or employed capacity."`,
			qualified3A, grant("L1", LicenceLevel3B, ""), "2024-02-01", []string{"central_team"}},
		{"Level 4: a Lead Professional at a registered school", `older seed: "Level 4 Embedding developmental thinking delivery into inhouse practice licences"`,
			func(h *history, w *world) {
				inSchool(h, w)
				h.courses("2022-06-01", level2Courses...)
				h.award("2023-03-01", RoleLeadProfessional)
			}, grant("L4", LicenceLevel4, ""), "2024-02-01", nil},
		{"Level 4: without Level 3", `older seed: "Level 4 Embedding developmental thinking delivery into inhouse practice licences"`,
			func(h *history, w *world) {
				inSchool(h, w)
				h.courses("2022-06-01", level2Courses...)
			}, grant("L4", LicenceLevel4, ""), "2024-02-01", []string{"level3"}},
		{"Level 5: needs a current Level 4", `older seed: "Our Level 5 trainers are selected from professionals who have worked up through their own organisational structures."`,
			func(h *history, w *world) {
				inSchool(h, w)
				h.licence("2023-01-01", "L4", LicenceLevel4, "2023-12-31")
			}, grant("L5", LicenceLevel5, ""), "2024-02-01", []string{"level4_licence"}},
		{"Level 5: with a current Level 4", `older seed: "Our Level 5 trainers are selected from professionals who have worked up through their own organisational structures."`,
			func(h *history, w *world) {
				inSchool(h, w)
				h.licence("2023-01-01", "L4", LicenceLevel4, "2024-12-31")
			}, grant("L5", LicenceLevel5, ""), "2024-02-01", nil},
		{"community wheel: in a community hub", `older seed: "The wheel is offered as part of an I Matter community hub development process"`,
			func(h *history, w *world) {
				h.register("2022-01-01")
				h.join("2022-01-02", w.hub)
			}, grant("W1", LicenceCommunityWheel, ""), "2024-02-01", nil},
		{"community wheel: in a school only", `older seed: "commuity wheel licences are more often held by GP's and community leaders"`,
			inSchool, grant("W1", LicenceCommunityWheel, ""), "2024-02-01", []string{"community_hub_or_gp"}},
		{"specialist: Level 3 and a registered service", `older seed: "Our core certification prepares professionals to work with adults, more specialist licnces are neeeded for other applications"`,
			func(h *history, w *world) {
				inSchool(h, w)
				h.award("2023-03-01", RoleLeadProfessional)
			}, grant("S1", LicenceSpecialist, ""), "2024-02-01", nil},
		{"informal use: after any Level 1 course", `older seed: "A professional or parent who accesses our Level 1 Foundation or Level 2 Intermediate training" and "has a licence to use the resources"`,
			func(h *history, w *world) { h.courses("2023-01-01", CourseFoundationB) }, grant("I1", LicenceInformalUse, ""), "2024-02-01", nil},
		{"informal use: with no training recorded", `older seed: "A professional or parent who accesses our Level 1 Foundation or Level 2 Intermediate training" and "has a licence to use the resources"`,
			func(h *history, w *world) { h.register("2023-01-01") }, grant("I1", LicenceInformalUse, ""), "2024-02-01", []string{"level_1_or_2_training"}},
		{"organisational licence on a practitioner's stream", `older seed: "an organisational licence to a school or service requires a commitment to the thinking involved from senior leadership teams"`,
			inSchool, grant("O1", LicenceOrganisational, ""), "2024-02-01", []string{"held_by_organisation"}},
	})
}

func TestLicenceChangeRequirements(t *testing.T) {
	dec := Decision{DecidedBy: "QC Lead", Rationale: "r"}
	held := func(h *history, w *world) {
		inSchool(h, w)
		h.licence("2023-02-01", "L1", LicenceLevel3A, "2024-01-31")
		h.cpd("2023-09-01", CPDLinkedCPD)
	}
	const seedCPD = `older seed: "+ must take part in some linked CPD to maintain their licence"`
	runDecisionCases(t, []decisionCase{
		{"renewal with linked CPD in the year before", seedCPD, held, &LicenceRenewed{LicenceID: "L1", ValidUntil: MustDate("2025-01-31"), Decision: dec}, "2024-01-20", nil},
		{"renewal of an expired licence", seedCPD, held, &LicenceRenewed{LicenceID: "L1", ValidUntil: MustDate("2025-01-31"), Decision: dec}, "2024-03-01", nil},
		{"renewal with the CPD more than a year back", seedCPD, held, &LicenceRenewed{LicenceID: "L1", ValidUntil: MustDate("2025-01-31"), Decision: dec}, "2024-09-01", []string{"linked_cpd"}},
		{"renewal with the CPD exactly a year back (the day after is outside)", seedCPD, held, &LicenceRenewed{LicenceID: "L1", ValidUntil: MustDate("2025-01-31"), Decision: dec}, "2024-08-31", nil},
		{"renewal of a revoked licence", `DOMAIN.md: "Licences are by subscription: they have a validity period and are renewed."`, func(h *history, w *world) {
			held(h, w)
			h.add("2023-10-01", &LicenceRevoked{LicenceID: "L1", Reason: "r", Decision: dec})
		}, &LicenceRenewed{LicenceID: "L1", ValidUntil: MustDate("2025-01-31"), Decision: dec}, "2024-01-20", []string{"licence_status"}},
		{"renewal of a licence never granted", `DOMAIN.md: "Licences are by subscription"`, inSchool,
			&LicenceRenewed{LicenceID: "NOPE", ValidUntil: MustDate("2025-01-31"), Decision: dec}, "2024-01-20", []string{"licence_status"}},
		{"suspending an active licence", `DOMAIN.md: "A decision is an event that grants, refuses, suspends, reinstates or withdraws something"`, held,
			&LicenceSuspended{LicenceID: "L1", Reason: "r", Decision: dec}, "2023-06-01", nil},
		{"suspending a suspended licence", `DOMAIN.md: "A decision is an event that grants, refuses, suspends, reinstates or withdraws something"`, func(h *history, w *world) {
			held(h, w)
			h.add("2023-05-01", &LicenceSuspended{LicenceID: "L1", Reason: "r", Decision: dec})
		}, &LicenceSuspended{LicenceID: "L1", Reason: "r", Decision: dec}, "2023-06-01", []string{"licence_status"}},
		{"reinstating a suspended licence", `DOMAIN.md: "A decision is an event that grants, refuses, suspends, reinstates or withdraws something"`, func(h *history, w *world) {
			held(h, w)
			h.add("2023-05-01", &LicenceSuspended{LicenceID: "L1", Reason: "r", Decision: dec})
		}, &LicenceReinstated{LicenceID: "L1", Reason: "r", Decision: dec}, "2023-06-01", nil},
		{"reinstating an active licence", `DOMAIN.md: "A decision is an event that grants, refuses, suspends, reinstates or withdraws something"`, held,
			&LicenceReinstated{LicenceID: "L1", Reason: "r", Decision: dec}, "2023-06-01", []string{"licence_status"}},
		{"revoking a revoked licence", `DOMAIN.md: "A decision is an event that grants, refuses, suspends, reinstates or withdraws something"`, func(h *history, w *world) {
			held(h, w)
			h.add("2023-05-01", &LicenceRevoked{LicenceID: "L1", Reason: "r", Decision: dec})
		}, &LicenceRevoked{LicenceID: "L1", Reason: "r", Decision: dec}, "2023-06-01", []string{"licence_status"}},
	})
}

func decided(appID string, fast bool) *ApplicationDecided {
	return &ApplicationDecided{ApplicationID: appID, Outcome: ApplicationAccepted, FastTrack: fast, Decision: Decision{DecidedBy: "QC Lead", Rationale: "r"}}
}

func TestApplicationRequirements(t *testing.T) {
	const seedApp = `older seed: "Volunteer places and Advanced Practitioner Trainee licences are offered on the basis of application, references and interview."`
	const seedEntry = `older seed: "We generally take people into the advanced programme on completion of Intermediate A or B."`
	const seedFast = `older seed: "we sometimes offer a fast track on completion of Foundation A and B on an understanding that the required course work will be prioritised and completed."`
	trainee := func(courses ...Course) func(h *history, w *world) {
		return func(h *history, w *world) {
			inSchool(h, w)
			h.courses("2023-01-01", courses...)
			h.applyFor("2023-02-01", "APP-1", ApplyTraineeLeadProfessional, false)
		}
	}
	runDecisionCases(t, []decisionCase{
		{"trainee Lead Professional after Intermediate A", seedEntry, trainee(append(level1Courses, CourseIntermediateA)...), decided("APP-1", false), "2023-03-01", nil},
		{"trainee Lead Professional after Intermediate B only", seedEntry, trainee(CourseIntermediateB), decided("APP-1", false), "2023-03-01", nil},
		{"trainee Lead Professional after Foundation only, not fast track", seedEntry, trainee(level1Courses...), decided("APP-1", false), "2023-03-01", []string{"advanced_programme_entry"}},
		{"fast track after Foundation A and B", seedFast, trainee(level1Courses...), decided("APP-1", true), "2023-03-01", nil},
		{"fast track without Foundation B", seedFast, trainee(CourseFoundationAPart1, CourseFoundationAPart2), decided("APP-1", true), "2023-03-01", []string{"advanced_programme_entry"}},
		{"one supportive and one unsupportive reference", seedApp, func(h *history, w *world) {
			inSchool(h, w)
			h.courses("2023-01-01", CourseIntermediateA)
			h.add("2023-02-01", &ApplicationSubmitted{ApplicationID: "APP-1", Role: ApplyTraineeLeadProfessional})
			h.add("2023-02-01", &ReferenceReceived{ApplicationID: "APP-1", Supportive: true})
			h.add("2023-02-01", &ReferenceReceived{ApplicationID: "APP-1", Supportive: false})
			h.add("2023-02-01", &ReferenceReceived{ApplicationID: "OTHER", Supportive: true})
			h.add("2023-02-01", &InterviewHeld{ApplicationID: "APP-1", Outcome: InterviewPassed})
		}, decided("APP-1", false), "2023-03-01", []string{"supportive_references"}},
		{"interview not passed", seedApp, func(h *history, w *world) {
			trainee(CourseIntermediateA)(h, w)
			h.add("2023-02-15", &InterviewHeld{ApplicationID: "APP-1", Outcome: InterviewNotPassed})
		}, decided("APP-1", false), "2023-03-01", []string{"interview_passed"}},
		{"a later interview passed", seedApp, func(h *history, w *world) {
			trainee(CourseIntermediateA)(h, w)
			h.add("2023-01-15", &InterviewHeld{ApplicationID: "APP-1", Outcome: InterviewNotPassed})
		}, decided("APP-1", false), "2023-03-01", nil},
		{"without senior-leadership support", `older seed: "You must have the confidence of your senior leadership team"`, func(h *history, w *world) {
			h.register("2022-01-01")
			h.courses("2023-01-01", CourseIntermediateA)
			h.applyFor("2023-02-01", "APP-1", ApplyTraineeLeadProfessional, false)
		}, decided("APP-1", false), "2023-03-01", []string{"senior_leadership_support"}},
		{"deciding an application never submitted", seedApp, inSchool, decided("NOPE", false), "2023-03-01", []string{"application_submitted"}},
		{"declining needs only the application", seedApp, trainee(), &ApplicationDecided{ApplicationID: "APP-1", Outcome: ApplicationDeclined}, "2023-03-01", nil},
		{"volunteer study supporter after the courses", `older seed: "Professionals and parents who have completed the courses can apply to join our team of volunteer study supporters."`, func(h *history, w *world) {
			h.register("2022-01-01")
			h.courses("2023-01-01", level1Courses...)
			h.applyFor("2023-02-01", "SS-1", ApplyStudySupporter, false)
		}, decided("SS-1", false), "2023-03-01", nil},
		{"advanced practitioner as the advanced programme", seedApp, func(h *history, w *world) {
			inSchool(h, w)
			h.courses("2023-01-01", CourseIntermediateB)
			h.applyFor("2023-02-01", "AP-1", ApplyAdvancedPractitioner, false)
		}, decided("AP-1", false), "2023-03-01", nil},
		{"parent mentor without Intermediate", `older seed: "We are able to offer some experienced parents positions as Level 3 advanced level Parent Mentor"`, func(h *history, w *world) {
			h.register("2022-01-01")
			h.courses("2023-01-01", level1Courses...)
			h.applyFor("2023-02-01", "PM-1", ApplyParentMentor, false)
		}, decided("PM-1", false), "2023-03-01", []string{"advanced_programme_entry"}},
		{"Lead Plus entry met", `newer seed: "have completed Link and Lead Professional certification"`, func(h *history, w *world) {
			certifiableLeadPlus(h, w)
		}, decided("APP-LP", false), "2024-10-20", nil},
		{"Lead Plus entry without suitability agreed", `newer seed: "have agreed suitability for this role within your organisation or network"`, func(h *history, w *world) {
			certifiableLeadPlus(h, w)
		}, decided("APP-LP", false), "2024-09-30", []string{"application_submitted", "suitability_agreed"}},
		{"Senior Link after Lead Plus", `newer seed: "Senior Link Professional – supports organisational alignment and programme oversight"`, func(h *history, w *world) {
			inSchool(h, w)
			h.award("2024-01-01", RoleLeadPlus)
			h.add("2024-06-01", &SuitabilityAgreed{OrganisationID: w.school.ID, Role: RoleSeniorLink})
			h.add("2024-06-02", &ApplicationSubmitted{ApplicationID: "SL-1", Role: ApplySeniorLink})
		}, decided("SL-1", false), "2024-07-01", nil},
	})
}

func TestCertificationRequirements(t *testing.T) {
	const seedTrainee = `older seed: "You then apply to become a trainee and set up and run two groups including the completion of a learning log book."`
	const seedYear = `older seed: "The Lead Professional Certtification process is 1 year training followed by a 1 year implementation practice period."`
	award := func(r Role) *CertificationAwarded {
		return &CertificationAwarded{Role: r, Decision: Decision{DecidedBy: "QC Lead", Rationale: "r"}}
	}
	runDecisionCases(t, []decisionCase{
		{"Informed Practitioner after Level 1", `newer seed: "I Matter Informed Practitioner – understands and applies the framework"`,
			func(h *history, w *world) { h.courses("2023-01-01", level1Courses...) }, award(RoleInformedPractitioner), "2023-02-01", nil},
		{"Informed Practitioner before Foundation B", `newer seed: "I Matter Informed Practitioner – understands and applies the framework"`,
			func(h *history, w *world) { h.courses("2023-01-01", CourseFoundationAPart1, CourseFoundationAPart2) }, award(RoleInformedPractitioner), "2023-02-01", []string{"level_1"}},
		{"Link Professional after Informed Practitioner and the course", `newer seed: "Link Professional – supports access and engagement"`,
			func(h *history, w *world) {
				h.award("2023-01-01", RoleInformedPractitioner)
				h.courses("2023-01-05", CourseLinkProfessional)
			}, award(RoleLinkProfessional), "2023-02-01", nil},
		{"Link Professional with Informed Practitioner suspended", `newer seed: "Link Professional – supports access and engagement"`,
			func(h *history, w *world) {
				h.award("2023-01-01", RoleInformedPractitioner)
				h.add("2023-01-03", &CertificationSuspended{Role: RoleInformedPractitioner, Reason: "r"})
				h.courses("2023-01-05", CourseLinkProfessional)
			}, award(RoleLinkProfessional), "2023-02-01", []string{"informed_practitioner"}},
		{"Lead Professional after the training year", seedTrainee, certifiableLead, award(RoleLeadProfessional), "2024-03-01", nil},
		{"Lead Professional the day before the training year ends", seedYear, certifiableLead, award(RoleLeadProfessional), "2024-02-29", []string{"trainee_year_completed"}},
		{"Lead Professional with one group run", seedTrainee, func(h *history, w *world) {
			certifiableLead(h, w)
			for _, f := range h.facts {
				if g, ok := f.Event.(*StudyGroupRun); ok && g.GroupID == "G2" {
					h.retract("2024-02-01", f.ID)
				}
			}
		}, award(RoleLeadProfessional), "2024-03-01", []string{"two_groups_run"}},
		{"Lead Professional: groups run before the traineeship do not count", seedTrainee, func(h *history, w *world) {
			inSchool(h, w)
			h.courses("2022-06-01", level2Courses...)
			h.courses("2022-09-01", CourseFacilitatorMechanics, CourseLeadProfessional)
			h.add("2022-10-01", &StudyGroupRun{GroupID: "G0", Course: GroupFoundationA})
			h.applyFor("2023-01-10", "APP-1", ApplyTraineeLeadProfessional, false)
			h.accept("2023-02-01", "APP-1")
			h.add("2023-03-01", &TraineeshipStarted{Role: RoleLeadProfessional})
			h.add("2023-05-01", &StudyGroupRun{GroupID: "G1", Course: GroupFoundationB})
			h.add("2024-01-15", &ReflectiveUpdateSubmitted{Kind: ReflectiveLogBook})
		}, award(RoleLeadProfessional), "2024-03-01", []string{"two_groups_run"}},
		{"Lead Professional fast-tracked with the course work still owed", `older seed: "on an understanding that the required course work will be prioritised and completed"`, func(h *history, w *world) {
			certifiableLead(h, w)
			for _, f := range h.facts {
				if c, ok := f.Event.(*CourseCompleted); ok && c.Course == CourseIntermediateB {
					h.retract("2024-02-01", f.ID)
				}
			}
		}, award(RoleLeadProfessional), "2024-03-01", []string{"foundation_and_intermediate"}},
		{"Lead Professional without the facilitator course", `older seed: "a short course on the mechnanics of running a successful Foundation A study support group"`, func(h *history, w *world) {
			certifiableLead(h, w)
			for _, f := range h.facts {
				if c, ok := f.Event.(*CourseCompleted); ok && c.Course == CourseFacilitatorMechanics {
					h.retract("2024-02-01", f.ID)
				}
			}
		}, award(RoleLeadProfessional), "2024-03-01", []string{"facilitator_mechanics"}},
		{"Lead Plus with every entry, learning and application requirement", `newer seed: "To become a certified Lead Plus Professional, you must meet the following requirements"`,
			certifiableLeadPlus, award(RoleLeadPlus), "2025-06-01", nil},
		{"Lead Plus without the Tracker", `newer seed: "demonstrate use of structured assessment approaches (including the I Matter Tracker where appropriate)"`, func(h *history, w *world) {
			certifiableLeadPlus(h, w)
			for _, f := range h.facts {
				if _, ok := f.Event.(*TrackerAssessmentRecorded); ok {
					h.retract("2025-05-02", f.ID)
				}
			}
		}, award(RoleLeadPlus), "2025-06-01", []string{"tracker_assessment"}},
		{"Lead Plus with one peer session", `newer seed: "participate in Lead Plus peer or supervision sessions"`,
			certifiableLeadPlus, award(RoleLeadPlus), "2025-04-01", []string{"peer_supervision", "practice_support", "tracker_assessment", "reflective_journal"}},
		{"Senior Link with Lead Plus and an accepted application", `newer seed: "Senior Link Professional – supports organisational alignment and programme oversight"`, func(h *history, w *world) {
			h.award("2024-01-01", RoleLeadPlus)
			h.add("2024-06-02", &ApplicationSubmitted{ApplicationID: "SL-1", Role: ApplySeniorLink})
			h.accept("2024-06-10", "SL-1")
		}, award(RoleSeniorLink), "2024-07-01", nil},
	})
}

func TestCertificationChangeRequirements(t *testing.T) {
	const seed = `DOMAIN.md: "an explicit decision says so"`
	dec := Decision{DecidedBy: "QC Lead", Rationale: "r"}
	lead := func(h *history, w *world) { h.award("2024-01-01", RoleLeadProfessional) }
	suspended := func(h *history, w *world) {
		lead(h, w)
		h.add("2024-02-01", &CertificationSuspended{Role: RoleLeadProfessional, Reason: "r", Decision: dec})
	}
	runDecisionCases(t, []decisionCase{
		{"suspending an active role", seed, lead, &CertificationSuspended{Role: RoleLeadProfessional, Reason: "r", Decision: dec}, "2024-03-01", nil},
		{"suspending a role never awarded", seed, lead, &CertificationSuspended{Role: RoleLeadPlus, Reason: "r", Decision: dec}, "2024-03-01", []string{"role_status"}},
		{"reinstating a suspended role", seed, suspended, &CertificationReinstated{Role: RoleLeadProfessional, Reason: "r", Decision: dec}, "2024-03-01", nil},
		{"reinstating an active role", seed, lead, &CertificationReinstated{Role: RoleLeadProfessional, Reason: "r", Decision: dec}, "2024-03-01", []string{"role_status"}},
		{"withdrawing a suspended role", seed, suspended, &CertificationWithdrawn{Role: RoleLeadProfessional, Reason: "r", Decision: dec}, "2024-03-01", nil},
	})
}

func TestDecide(t *testing.T) {
	rb := RulebookV1()
	w := newWorld()
	h := newHistory(t)
	inSchool(h, w)
	h.courses("2023-01-01", CourseFoundationAPart1, CourseFoundationAPart2)
	h.applyFor("2023-02-01", "APP-1", ApplyTraineeLeadProfessional, true)
	p := h.fold()
	on := MustDate("2023-03-01")
	const seed = `older seed: "we sometimes offer a fast track on completion of Foundation A and B"; DOMAIN.md: "is accepted whatever the evaluation says (a decision taken ahead of the evidence), and always lands in the queue."`

	t.Run("a fast track ahead of Foundation B is refused, with the evaluation", func(t *testing.T) {
		ev, err := rb.Decide(p, w.orgs(), decided("APP-1", true), on)
		require.Error(t, err, seed)
		assert.Equal(t, EREFUSED, ErrorCode(err))
		assert.Contains(t, ErrorMessage(err), "advanced_programme_entry")
		got := ErrorEvaluation(err)
		require.NotNil(t, got)
		assert.False(t, got.Met)
		assert.Equal(t, ev, *got)
	})
	t.Run("the same fast track as an exception is accepted", func(t *testing.T) {
		e := decided("APP-1", true)
		e.Exception, e.Rationale = true, "the school needs a lead this term; Foundation B booked"
		ev, err := rb.Decide(p, w.orgs(), e, on)
		require.NoError(t, err, seed)
		assert.False(t, ev.Met, "an exception keeps the evaluation that says what is missing")
		assert.Equal(t, "ApplicationDecided trainee_lead_professional accepted (fast track)", ev.Subject)
	})
	t.Run("a met decision is accepted", func(t *testing.T) {
		q := newHistory(t)
		certifiableLead(q, w)
		ev, err := rb.Decide(q.fold(), w.orgs(), &CertificationAwarded{Role: RoleLeadProfessional}, MustDate("2024-03-01"))
		require.NoError(t, err)
		assert.True(t, ev.Met)
	})
	t.Run("a nil pointer is no decision and is not read", func(t *testing.T) {
		ev, err := rb.Decide(p, w.orgs(), (*ApplicationDecided)(nil), on)
		require.NoError(t, err)
		assert.True(t, ev.Met)
		assert.Empty(t, ev.Requirements)
	})
	t.Run("an event that is not a decision has nothing to meet", func(t *testing.T) {
		ev, err := rb.Decide(p, w.orgs(), &CourseCompleted{Course: CourseFoundationB}, on)
		require.NoError(t, err)
		assert.True(t, ev.Met)
		assert.Empty(t, ev.Requirements)
	})
	t.Run("a role the rulebook has no table for is an exception", func(t *testing.T) {
		_, err := rb.Decide(p, w.orgs(), &CertificationAwarded{Role: "astronaut"}, on)
		assert.Equal(t, EREFUSED, ErrorCode(err))
	})
}

func TestOrganisationDecisions(t *testing.T) {
	rb := RulebookV1()
	const seed = `older seed: "an organisational licence to a school or service requires a commitment to the thinking involved from senior leadership teams"`
	tests := []struct {
		name    string
		org     func(w *world) *Organisation
		members func(t *testing.T, w *world) []*Practitioner
		ev      Event
		unmet   []string
	}{
		{"organisational licence to a school with a member's leadership support", func(w *world) *Organisation { return w.school },
			func(t *testing.T, w *world) []*Practitioner {
				h := newHistory(t)
				inSchool(h, w)
				return []*Practitioner{h.fold()}
			}, grant("O1", LicenceOrganisational, ""), nil},
		{"organisational licence with support recorded by someone who left", func(w *world) *Organisation { return w.school },
			func(t *testing.T, w *world) []*Practitioner {
				h := newHistory(t)
				inSchool(h, w)
				h.add("2023-01-01", &PractitionerLeftOrganisation{OrganisationID: w.school.ID})
				return []*Practitioner{h.fold()}
			}, grant("O1", LicenceOrganisational, ""), []string{"senior_leadership_commitment"}},
		{"organisational licence to a community hub", func(w *world) *Organisation { return w.hub },
			func(t *testing.T, w *world) []*Practitioner { return nil }, grant("O1", LicenceOrganisational, ""), []string{"school_or_service", "senior_leadership_commitment"}},
		{"Level 3 A to a school that is not a registered service", func(w *world) *Organisation { return w.unreg },
			func(t *testing.T, w *world) []*Practitioner { return nil }, grant("O1", LicenceLevel3A, ""), []string{"registered_school_or_service", "senior_leadership_commitment"}},
		{"community wheel to a community hub", func(w *world) *Organisation { return w.hub },
			func(t *testing.T, w *world) []*Practitioner { return nil }, grant("W1", LicenceCommunityWheel, ""), nil},
		{"a specialist licence is not an organisation's", func(w *world) *Organisation { return w.school },
			func(t *testing.T, w *world) []*Practitioner { return nil }, grant("S1", LicenceSpecialist, ""), []string{"rule_exists"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			ev := rb.EvaluateOrganisationDecision(tt.org(w), tt.members(t, w), tt.ev, MustDate("2024-02-01"))
			var unmet []string
			for _, r := range ev.Requirements {
				if !r.Met {
					unmet = append(unmet, r.Name)
				}
			}
			assert.Equal(t, tt.unmet, unmet, seed)
			_, err := rb.DecideOrganisation(tt.org(w), tt.members(t, w), tt.ev, MustDate("2024-02-01"))
			assert.Equal(t, len(tt.unmet) > 0, err != nil)
		})
	}

	t.Run("renewing an organisation's licence", func(t *testing.T) {
		w := newWorld()
		o := w.school
		require.NoError(t, o.Apply(Fact{ID: nextID(), OccurredOn: MustDate("2023-01-01"), Event: grant("O1", LicenceOrganisational, "")}))
		ev := rb.EvaluateOrganisationDecision(o, nil, &LicenceRenewed{LicenceID: "O1", ValidUntil: MustDate("2027-01-01")}, MustDate("2024-02-01"))
		assert.True(t, ev.Met)
		ev = rb.EvaluateOrganisationDecision(o, nil, &LicenceReinstated{LicenceID: "O1"}, MustDate("2024-02-01"))
		assert.False(t, ev.Met)
	})
}
