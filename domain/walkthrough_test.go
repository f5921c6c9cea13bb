package domain

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWalkThrough takes one fictional practitioner, Robin, from Participant
// to Lead Plus Professional, recording every decision through Decide as the
// ledger would, and checks level, roles, standing and next steps at each
// step.
func TestWalkThrough(t *testing.T) {
	rb := RulebookV1()
	w := newWorld()
	h := newHistory(t)
	orgs := w.orgs()
	dec := func(on string) Decision {
		return Decision{DecidedBy: "QC Lead", Rationale: "meets rulebook v1 (" + on + ")"}
	}

	// decide evaluates a decision on everything recorded so far and
	// records it only when Decide accepts it.
	decide := func(on string, e Event) {
		t.Helper()
		ev, err := rb.Decide(h.fold(), orgs, e, MustDate(on))
		require.NoError(t, err, "%s on %s", ev.Subject, on)
		require.True(t, ev.Met, "%s on %s is met, not an exception", ev.Subject, on)
		h.add(on, e)
	}
	type expect struct {
		level    int
		roles    []Role
		standing StandingStatus
		unmet    []string // unmet standing requirements
		next     map[string][]string
	}
	check := func(step, on string, want expect) {
		t.Helper()
		p := h.fold()
		d := MustDate(on)
		assert.Equal(t, want.level, rb.Level(p, d).Level, "%s: level", step)
		assert.Equal(t, want.roles, p.RolesHeld(d), "%s: roles", step)
		s := rb.Standing(p, orgs, d)
		assert.Equal(t, want.standing, s.Status, "%s: standing", step)
		assert.Equal(t, want.unmet, unmetNames(s), "%s: unmet standing requirements", step)
		assert.Equal(t, want.next, stepSummary(rb.NextSteps(p, orgs, d)), "%s: next steps", step)
	}

	// Participant.
	h.register("2022-01-01")
	check("registered", "2022-01-01", expect{level: 0, standing: StandingGood,
		next: map[string][]string{"CertificationAwarded informed_practitioner": {"level_1"}}})

	// Level 1, then Informed Practitioner.
	h.courses("2022-03-01", level1Courses...)
	check("Foundation done", "2022-03-01", expect{level: 1, standing: StandingGood,
		next: map[string][]string{"CertificationAwarded informed_practitioner": nil}})
	decide("2022-03-10", &CertificationAwarded{Role: RoleInformedPractitioner, Decision: dec("2022-03-10")})
	check("Informed Practitioner", "2022-03-10", expect{level: 1, roles: []Role{RoleInformedPractitioner}, standing: StandingGood,
		next: map[string][]string{"CertificationAwarded link_professional": {"link_professional_course"}}})

	// Link Professional.
	h.courses("2022-04-20", CourseLinkProfessional)
	decide("2022-05-01", &CertificationAwarded{Role: RoleLinkProfessional, Decision: dec("2022-05-01")})
	leadCert := []string{"foundation_and_intermediate", "facilitator_mechanics", "lead_professional_course", "trainee_application_accepted", "trainee_year_completed", "two_groups_run", "learning_log_book"}
	check("Link Professional", "2022-05-01", expect{level: 1, roles: []Role{RoleInformedPractitioner, RoleLinkProfessional}, standing: StandingGood,
		next: map[string][]string{
			"ApplicationDecided trainee_lead_professional accepted": {"application_submitted", "supportive_references", "interview_passed", "senior_leadership_support", "advanced_programme_entry"},
			"CertificationAwarded lead_professional":                leadCert,
		}})

	// Level 2 at a registered school with leadership support; applies and is accepted as a trainee.
	h.join("2022-08-01", w.school)
	h.support("2022-08-15", w.school)
	h.courses("2022-09-01", CourseIntermediateA, CourseIntermediateB)
	h.applyFor("2022-10-01", "APP-TLP", ApplyTraineeLeadProfessional, false)
	decide("2022-11-01", &ApplicationDecided{ApplicationID: "APP-TLP", Outcome: ApplicationAccepted, Decision: dec("2022-11-01")})
	check("accepted as a trainee", "2022-11-01", expect{level: 2, roles: []Role{RoleInformedPractitioner, RoleLinkProfessional}, standing: StandingGood,
		next: map[string][]string{"CertificationAwarded lead_professional": {"facilitator_mechanics", "lead_professional_course", "trainee_year_completed", "two_groups_run", "learning_log_book"}}})

	// Trainee with a Level 3 A licence: level 3, and a trainee's standing.
	h.courses("2022-12-01", CourseStudySupporterPreparation)
	h.add("2023-01-09", &TraineeshipStarted{Role: RoleLeadProfessional})
	decide("2023-01-09", &LicenceGranted{LicenceID: "L-3A", Kind: LicenceLevel3A, Scope: ScopeEverydayParenting, ValidUntil: MustDate("2024-01-08"), Decision: dec("2023-01-09")})
	check("trainee, licensed", "2023-01-09", expect{level: 3, roles: []Role{RoleInformedPractitioner, RoleLinkProfessional}, standing: StandingGood,
		unmet: []string{"trainee_lead_professional.participant_feedback", "trainee_lead_professional.log_book", "trainee_lead_professional.annual_action_plan",
			"trainee_lead_professional.foundation_a_supported", "trainee_lead_professional.linked_cpd", "licence.L-3A.linked_cpd"},
		next: map[string][]string{"CertificationAwarded lead_professional": {"facilitator_mechanics", "lead_professional_course", "trainee_year_completed", "two_groups_run", "learning_log_book"}}})

	// The training year, kept up; the facilitator courses; the licence renewed.
	keepUp(h, "2023-01-09", "2024-01-08")
	h.courses("2023-02-01", CourseFacilitatorMechanics, CourseLeadProfessional)
	check("mid training year", "2023-07-01", expect{level: 3, roles: []Role{RoleInformedPractitioner, RoleLinkProfessional}, standing: StandingGood,
		next: map[string][]string{"CertificationAwarded lead_professional": {"trainee_year_completed"}}})
	decide("2024-01-02", &LicenceRenewed{LicenceID: "L-3A", ValidUntil: MustDate("2025-01-08"), Decision: dec("2024-01-02")})

	// Lead Professional after the training year.
	decide("2024-01-09", &CertificationAwarded{Role: RoleLeadProfessional, Decision: dec("2024-01-09")})
	check("Lead Professional", "2024-01-09", expect{level: 3, roles: []Role{RoleInformedPractitioner, RoleLinkProfessional, RoleLeadProfessional}, standing: StandingGood,
		unmet: []string{"lead_professional.participant_feedback", "lead_professional.log_book", "lead_professional.annual_action_plan",
			"lead_professional.foundation_a_supported", "lead_professional.linked_cpd", "licence.L-3A.linked_cpd"},
		next: map[string][]string{
			"ApplicationDecided lead_plus accepted": {"application_submitted", "level3", "deep_dive", "suitability_agreed"},
			"CertificationAwarded lead_plus":        {"level3", "deep_dive", "suitability_agreed", "lead_plus_modules", "peer_supervision", "practice_support", "tracker_assessment", "reflective_journal", "application_accepted"},
		}})

	// The implementation year: one Foundation A course short near its end.
	keepUp(h, "2024-01-09", "2025-01-08", "one_group")
	check("Lead Professional near year end", "2024-11-20", expect{level: 3, roles: []Role{RoleInformedPractitioner, RoleLinkProfessional, RoleLeadProfessional}, standing: StandingAtRisk,
		unmet: []string{"lead_professional.foundation_a_supported"},
		next: map[string][]string{
			"ApplicationDecided lead_plus accepted": {"application_submitted", "level3", "deep_dive", "suitability_agreed"},
			"CertificationAwarded lead_plus":        {"level3", "deep_dive", "suitability_agreed", "lead_plus_modules", "peer_supervision", "practice_support", "tracker_assessment", "reflective_journal", "application_accepted"},
		}})
	h.add("2024-11-25", &StudyGroupRun{GroupID: "FA-NOV", Course: GroupFoundationA, Audience: AudienceParents, Participants: 9, Registered: true})
	decide("2025-01-02", &LicenceRenewed{LicenceID: "L-3A", ValidUntil: MustDate("2026-01-08"), Decision: dec("2025-01-02")})

	// Towards Lead Plus.
	h.courses("2025-02-01", CourseLevel3, CourseDeepDive)
	h.add("2025-02-10", &SuitabilityAgreed{OrganisationID: w.school.ID, Role: RoleLeadPlus})
	h.applyFor("2025-02-15", "APP-LP", ApplyLeadPlus, false)
	decide("2025-03-01", &ApplicationDecided{ApplicationID: "APP-LP", Outcome: ApplicationAccepted, Decision: dec("2025-03-01")})
	keepUp(h, "2025-01-09", "2026-01-08")
	h.courses("2025-04-01", CourseLeadPlusModules)
	h.cpd("2025-04-10", CPDPeerSupervision)
	h.cpd("2025-05-10", CPDPeerSupervision)
	h.add("2025-05-20", &PracticeSupportEvidenced{Summary: "supported a new trainee's first group"})
	h.add("2025-05-21", &TrackerAssessmentRecorded{Summary: "team case-planning session"})
	h.add("2025-06-01", &ReflectiveUpdateSubmitted{Kind: ReflectiveJournal})
	h.add("2025-06-02", &ProfessionalStandingEvidenced{Body: "Teaching Regulation Agency", ValidUntil: MustDate("2026-06-01")})
	check("ready for Lead Plus", "2025-06-10", expect{level: 3, roles: []Role{RoleInformedPractitioner, RoleLinkProfessional, RoleLeadProfessional}, standing: StandingGood,
		next: map[string][]string{"CertificationAwarded lead_plus": nil}})

	// Lead Plus Professional.
	decide("2025-06-10", &CertificationAwarded{Role: RoleLeadPlus, Decision: dec("2025-06-10")})
	check("Lead Plus", "2025-06-10", expect{level: 3, roles: []Role{RoleInformedPractitioner, RoleLinkProfessional, RoleLeadProfessional, RoleLeadPlus}, standing: StandingGood,
		unmet: []string{"lead_plus.network_engagements", "lead_plus.practice_support", "lead_plus.periodic_reflective_updates"},
		next: map[string][]string{
			"ApplicationDecided senior_link accepted": {"application_submitted", "suitability_agreed"},
			"CertificationAwarded senior_link":        {"application_accepted"},
		}})

	// A year on without network engagements: Lead Plus lapses, the rest holds.
	keepUp(h, "2026-01-09", "2026-07-08")
	h.add("2025-09-01", &PracticeSupportEvidenced{Summary: "co-facilitated a team reflection"})
	h.add("2025-10-01", &ReflectiveUpdateSubmitted{Kind: ReflectivePeriodicUpdate})
	h.add("2026-03-01", &ReflectiveUpdateSubmitted{Kind: ReflectivePeriodicUpdate})
	h.cpd("2026-01-10", CPDLinkedCPD)
	decide("2026-01-05", &LicenceRenewed{LicenceID: "L-3A", ValidUntil: MustDate("2027-01-08"), Decision: dec("2026-01-05")})
	h.add("2026-05-20", &ProfessionalStandingEvidenced{Body: "Teaching Regulation Agency", ValidUntil: MustDate("2027-06-01")})
	check("Lead Plus a year on", "2026-06-10", expect{level: 3, roles: []Role{RoleInformedPractitioner, RoleLinkProfessional, RoleLeadProfessional, RoleLeadPlus}, standing: StandingLapsed,
		unmet: []string{"lead_plus.network_engagements", "lead_plus.practice_support", "lead_plus.periodic_reflective_updates", "lead_plus.previous_year.network_engagements"},
		next: map[string][]string{
			"ApplicationDecided senior_link accepted": {"application_submitted", "suitability_agreed"},
			"CertificationAwarded senior_link":        {"application_accepted"},
		}})
}
