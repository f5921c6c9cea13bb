package domain

import (
	"math"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateRefuses(t *testing.T) {
	dec := catDecision()
	until := MustDate("2026-03-09")
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name    string
		ev      Event
		field   string
		message string // a substring of the message
	}{
		// PractitionerRegistered: name and profession required; the
		// practitioner's own name and email are not scanned for personal data.
		{"registered without name", &PractitionerRegistered{Profession: ProfessionHealth}, "data.name", "is required"},
		{"registered with blank name", &PractitionerRegistered{Name: "  ", Profession: ProfessionHealth}, "data.name", "is required"},
		{"registered without profession", &PractitionerRegistered{Name: "Ada Example"}, "data.profession", "is required; one of health, education, community, parent, other"},
		{"registered with unknown profession", &PractitionerRegistered{Name: "Ada Example", Profession: "law"}, "data.profession", `"law" is not one of health, education`},
		{"registered with bad email", &PractitionerRegistered{Name: "Ada Example", Email: "ada.example.org", Profession: ProfessionHealth}, "data.email", "is not an email address"},
		{"registered with email with spaces", &PractitionerRegistered{Name: "Ada Example", Email: "ada @example.org", Profession: ProfessionHealth}, "data.email", "is not an email address"},
		{"registered with long name", &PractitionerRegistered{Name: long(201), Profession: ProfessionHealth}, "data.name", "is 201 characters long; at most 200"},
		{"registered with newline in name", &PractitionerRegistered{Name: "Ada\nExample", Profession: ProfessionHealth}, "data.name", "control character (U+000A)"},

		// PractitionerDetailsChanged.
		{"details change nothing", &PractitionerDetailsChanged{}, "data", "changes nothing"},
		{"details blank name", &PractitionerDetailsChanged{Name: catPtr("")}, "data.name", "is required"},
		{"details bad email", &PractitionerDetailsChanged{Email: catPtr("nobody")}, "data.email", "is not an email address"},
		{"details bad profession", &PractitionerDetailsChanged{Profession: catPtr(Profession("pilot"))}, "data.profession", `"pilot" is not one of`},

		// OrganisationRegistered.
		{"organisation without name", &OrganisationRegistered{Kind: OrgSchool}, "data.name", "is required"},
		{"organisation bad kind", &OrganisationRegistered{Name: "Example Hub", Kind: "charity"}, "data.kind", `"charity" is not one of school, gp_practice, service, community_hub, network, other`},
		{"organisation name with postcode", &OrganisationRegistered{Name: "Example Hub, SW1A 1AA", Kind: OrgCommunityHub}, "data.name", "a postcode"},

		// Organisation membership and support.
		{"joined without organisation", &PractitionerJoinedOrganisation{}, "data.organisation_id", "is required"},
		{"left without organisation", &PractitionerLeftOrganisation{}, "data.organisation_id", "is required"},
		{"support without endorser", &SeniorLeadershipSupportRecorded{OrganisationID: catOrgID}, "data.endorsed_by", "is required"},
		{"support without organisation", &SeniorLeadershipSupportRecorded{EndorsedBy: "Head Teacher"}, "data.organisation_id", "is required"},
		{"support endorser with phone", &SeniorLeadershipSupportRecorded{OrganisationID: catOrgID, EndorsedBy: "Head, 020 7946 0958"}, "data.endorsed_by", "a phone number"},
		{"suitability bad role", &SuitabilityAgreed{OrganisationID: catOrgID, Role: "trainee"}, "data.role", `"trainee" is not one of informed_practitioner`},

		// CourseCompleted.
		{"course missing", &CourseCompleted{}, "data.course", "is required"},
		{"course unknown", &CourseCompleted{Course: "foundation_c"}, "data.course", `"foundation_c" is not one of awareness, foundation_a_part1, foundation_a_part2, foundation_b`},
		{"course group course is not a course", &CourseCompleted{Course: "everyday_parenting"}, "data.course", "is not one of"},
		{"course deliverer with email", &CourseCompleted{Course: CourseAwareness, DeliveredBy: "trainer@example.org"}, "data.delivered_by", "an email address"},

		// CPDEngagementRecorded.
		{"cpd kind missing", &CPDEngagementRecorded{Hours: 1}, "data.kind", "is required"},
		{"cpd negative hours", &CPDEngagementRecorded{Kind: CPDLinkedCPD, Hours: -1}, "data.hours", "out of range"},
		{"cpd too many hours", &CPDEngagementRecorded{Kind: CPDLinkedCPD, Hours: 1000.5}, "data.hours", "out of range"},
		{"cpd NaN hours", &CPDEngagementRecorded{Kind: CPDLinkedCPD, Hours: math.NaN()}, "data.hours", "out of range"},
		{"cpd title too long", &CPDEngagementRecorded{Kind: CPDLinkedCPD, Title: long(2001)}, "data.title", "at most 2000"},
		{"cpd title with bidi override", &CPDEngagementRecorded{Kind: CPDLinkedCPD, Title: "abc\u202Edef"}, "data.title", "control character (U+202E)"},

		// Reflective updates and tracker: summaries scanned.
		{"reflective kind bad", &ReflectiveUpdateSubmitted{Kind: "diary"}, "data.kind", `"diary" is not one of log_book, reflective_journal, periodic_update`},
		{"reflective summary with NHS number", &ReflectiveUpdateSubmitted{Kind: ReflectiveLogBook, Summary: "child 943 476 5919"}, "data.summary", "an NHS number"},
		{"reflective summary bell character", &ReflectiveUpdateSubmitted{Kind: ReflectiveLogBook, Summary: "ding\a"}, "data.summary", "control character"},
		{"tracker summary with date of birth", &TrackerAssessmentRecorded{Summary: "pupil born 12/03/2015"}, "data.summary", "a date of birth"},
		{"tracker summary with a full date", &TrackerAssessmentRecorded{Summary: "assessed 12.03.2015"}, "data.summary", "a full date"},

		// Feedback and groups.
		{"feedback without group", &ParticipantFeedbackGathered{Responses: 3}, "data.group_id", "is required"},
		{"feedback negative responses", &ParticipantFeedbackGathered{GroupID: "G1", Responses: -1}, "data.responses", "out of range"},
		{"feedback absurd responses", &ParticipantFeedbackGathered{GroupID: "G1", Responses: 1001}, "data.responses", "out of range"},
		{"group id with spaces round it", &StudyGroupRun{GroupID: " G1", Course: GroupFoundationA}, "data.group_id", "must not begin or end with spaces"},
		{"group id too long", &StudyGroupRun{GroupID: long(101), Course: GroupFoundationA}, "data.group_id", "at most 100"},
		{"group id with tab", &StudyGroupRun{GroupID: "G\t1", Course: GroupFoundationA}, "data.group_id", "control character"},
		{"group id with postcode", &StudyGroupRun{GroupID: "M1 1AE group", Course: GroupFoundationA}, "data.group_id", "a postcode"},
		{"group course missing", &StudyGroupRun{GroupID: "G1"}, "data.course", "is required"},
		{"group course is a course, not a group course", &StudyGroupRun{GroupID: "G1", Course: "foundation_a_part1"}, "data.course", `"foundation_a_part1" is not one of foundation_a, foundation_b`},
		{"group audience bad", &StudyGroupRun{GroupID: "G1", Course: GroupFoundationA, Audience: "children"}, "data.audience", `"children" is not one of professionals, parents`},
		{"group negative participants", &StudyGroupRun{GroupID: "G1", Course: GroupFoundationA, Participants: -2}, "data.participants", "out of range"},

		// Action plans.
		{"action plan without year", &ActionPlanSubmitted{BudgetIncluded: true}, "data.year", "0 is not a plausible year"},
		{"action plan year typo", &ActionPlanSubmitted{Year: 20205}, "data.year", "not a plausible year"},

		// Practice support, standing, indemnity.
		{"support nil practitioner id", &PracticeSupportEvidenced{SupportedPractitionerID: &uuid.Nil}, "data.supported_practitioner_id", "is required"},
		{"standing without body", &ProfessionalStandingEvidenced{ValidUntil: until}, "data.body", "is required"},
		{"standing implausible date", &ProfessionalStandingEvidenced{Body: "Council", ValidUntil: MustDate("2999-01-01")}, "data.valid_until", "not a plausible date"},
		{"indemnity without provider", &IndemnityInsuranceRecorded{ValidUntil: until}, "data.provider", "is required"},
		{"indemnity without valid_until", &IndemnityInsuranceRecorded{Provider: "Example Mutual"}, "data.valid_until", "is required, as YYYY-MM-DD"},

		// Applications.
		{"application without id", &ApplicationSubmitted{Role: ApplyLeadPlus}, "data.application_id", "is required"},
		{"application bad role", &ApplicationSubmitted{ApplicationID: "A1", Role: "lead_professional"}, "data.role", `"lead_professional" is not one of study_supporter, trainee_lead_professional`},
		{"reference without application", &ReferenceReceived{Supportive: true}, "data.application_id", "is required"},
		{"interview bad outcome", &InterviewHeld{ApplicationID: "A1", Outcome: "failed"}, "data.outcome", `"failed" is not one of passed, not_passed`},
		{"interview application id with email", &InterviewHeld{ApplicationID: "jo@example.org", Outcome: InterviewPassed}, "data.application_id", "an email address"},

		// Decisions: decided_by and rationale always; ledger fields never.
		{"decided without outcome", &ApplicationDecided{ApplicationID: "A1", Decision: dec}, "data.outcome", "is required; one of accepted, declined"},
		{"decided without decided_by", &ApplicationDecided{ApplicationID: "A1", Outcome: ApplicationAccepted, Decision: Decision{Rationale: "ok"}}, "data.decided_by", "is required"},
		{"decided without rationale", &ApplicationDecided{ApplicationID: "A1", Outcome: ApplicationAccepted, Decision: Decision{DecidedBy: "Panel"}}, "data.rationale", "is required"},
		{"exception without rationale", &CertificationAwarded{Role: RoleLeadPlus, Decision: Decision{DecidedBy: "Panel", Exception: true}}, "data.rationale", "is required"},
		{"rationale with personal data", &CertificationAwarded{Role: RoleLeadPlus, Decision: Decision{DecidedBy: "Panel", Rationale: "see d.o.b. 1 June"}}, "data.rationale", "a date of birth"},
		{"rulebook version from client", &CertificationAwarded{Role: RoleLeadPlus, Decision: Decision{DecidedBy: "Panel", Rationale: "ok", RulebookVersion: "v1"}}, "data.rulebook_version", "filled in by the ledger"},
		{"evaluation from client", &LicenceGranted{LicenceID: "L1", Kind: LicenceLevel4, ValidUntil: until, Decision: Decision{DecidedBy: "Panel", Rationale: "ok", Evaluation: &Evaluation{Met: true}}}, "data.evaluation", "filled in by the ledger"},
		{"traineeship for a role without traineeship", &TraineeshipStarted{Role: RoleSeniorLink}, "data.role", `"senior_link" is not one of lead_professional, lead_plus`},
		{"certification without role", &CertificationAwarded{Decision: dec}, "data.role", "is required"},
		{"suspension without reason", &CertificationSuspended{Role: RoleLeadPlus, Decision: dec}, "data.reason", "is required"},
		{"reinstatement bad role", &CertificationReinstated{Role: "lead", Reason: "ok", Decision: dec}, "data.role", "is not one of"},
		{"withdrawal without decided_by", &CertificationWithdrawn{Role: RoleLeadPlus, Reason: "left", Decision: Decision{Rationale: "left"}}, "data.decided_by", "is required"},
		{"licence without id", &LicenceGranted{Kind: LicenceLevel3A, ValidUntil: until, Decision: dec}, "data.licence_id", "is required"},
		{"licence bad kind", &LicenceGranted{LicenceID: "L1", Kind: "level6", ValidUntil: until, Decision: dec}, "data.kind", `"level6" is not one of informal_use, level3a`},
		{"licence bad scope", &LicenceGranted{LicenceID: "L1", Kind: LicenceLevel3A, Scope: "all", ValidUntil: until, Decision: dec}, "data.scope", `"all" is not one of everyday_parenting, increased_pressure_parenting`},
		{"licence without valid_until", &LicenceGranted{LicenceID: "L1", Kind: LicenceLevel3A, Decision: dec}, "data.valid_until", "is required"},
		{"renewal without valid_until", &LicenceRenewed{LicenceID: "L1", Decision: dec}, "data.valid_until", "is required"},
		{"licence suspension without reason", &LicenceSuspended{LicenceID: "L1", Decision: dec}, "data.reason", "is required"},
		{"licence reinstatement without id", &LicenceReinstated{Reason: "paid", Decision: dec}, "data.licence_id", "is required"},
		{"revocation without rationale", &LicenceRevoked{LicenceID: "L1", Reason: "closed", Decision: Decision{DecidedBy: "Panel"}}, "data.rationale", "is required"},

		// Directory, review, retraction.
		{"consent bad directory", &DirectoryListingConsented{Directory: "public"}, "data.directory", `"public" is not one of informed, locality_hub, independent, organisational`},
		{"withdrawal without directory", &DirectoryListingWithdrawn{}, "data.directory", "is required"},
		{"review without decision", &DecisionReviewed{Outcome: ReviewUpheld}, "data.decision_event_id", "is required"},
		{"review bad outcome", &DecisionReviewed{DecisionEventID: catDecisionID, Outcome: "approved"}, "data.outcome", `"approved" is not one of upheld, overturned, needs_information`},
		{"review notes with email", &DecisionReviewed{DecisionEventID: catDecisionID, Outcome: ReviewUpheld, Notes: "ask parent@example.org"}, "data.notes", "an email address"},
		{"retraction without event", &EventRetracted{Reason: "typo"}, "data.retracted_event_id", "is required"},
		{"retraction without reason", &EventRetracted{RetractedEventID: catDecisionID}, "data.reason", "is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.ev.Validate()
			require.Error(t, err)
			assert.Equal(t, EINVALID, ErrorCode(err))
			assert.Equal(t, tt.field, ErrorField(err))
			assert.Contains(t, ErrorMessage(err), tt.message)
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	until := MustDate("2026-03-09")
	tests := []struct {
		name string
		ev   Event
	}{
		{"own name and email are not scanned", &PractitionerRegistered{Name: "Ada Example 2", Email: "ada2@example.org", Profession: ProfessionParent}},
		{"details change: clear the email", &PractitionerDetailsChanged{Email: catPtr("")}},
		{"details change: independence only", &PractitionerDetailsChanged{Independent: catPtr(false)}},
		{"name at the limit, in runes", &OrganisationRegistered{Name: strings.Repeat("é", 200), Kind: OrgOther}},
		{"summary with lines", &ReflectiveUpdateSubmitted{Kind: ReflectiveLogBook, Summary: "Session 1:\n\tran the Year 2 group for 2 hours.\r\n"}},
		{"every course", &CourseCompleted{Course: CourseIncreasedPressureParenting}},
		{"zero hours", &CPDEngagementRecorded{Kind: CPDPeerSupervision}},
		{"hours at the limit", &CPDEngagementRecorded{Kind: CPDPeerSupervision, Hours: 1000}},
		{"standing without expiry", &ProfessionalStandingEvidenced{Body: "Example Council"}},
		{"exception with rationale", &LicenceGranted{LicenceID: "L1", Kind: LicenceLevel3A, ValidUntil: until,
			Decision: Decision{DecidedBy: "Panel", Rationale: "Ahead of the evidence: course booked.", Exception: true}}},
		{"declined application", &ApplicationDecided{ApplicationID: "A1", Outcome: ApplicationDeclined, Decision: catDecision()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.NoError(t, tt.ev.Validate())
		})
	}
}

func TestValidateFact(t *testing.T) {
	on := MustDate("2025-03-10")
	dec := catDecision()
	tests := []struct {
		name       string
		occurredOn Date
		ev         Event
		field      string // "" when the fact is valid
		message    string
	}{
		{"no event", on, nil, "data", "is required"},
		{"no effective date", Date{}, &CourseCompleted{Course: CourseAwareness}, "occurred_on", "is required, as YYYY-MM-DD"},
		{"implausible effective date", MustDate("1905-01-01"), &CourseCompleted{Course: CourseAwareness}, "occurred_on", "not a plausible date"},
		{"event invalid", on, &CourseCompleted{}, "data.course", "is required"},
		{"licence valid the day after", on, &LicenceGranted{LicenceID: "L1", Kind: LicenceLevel4, ValidUntil: on.AddDays(1), Decision: dec}, "", ""},
		{"licence expiring the day it is granted", on, &LicenceGranted{LicenceID: "L1", Kind: LicenceLevel4, ValidUntil: on, Decision: dec}, "data.valid_until", "2025-03-10 must be after occurred_on (2025-03-10)"},
		{"licence expired before granted", on, &LicenceGranted{LicenceID: "L1", Kind: LicenceLevel4, ValidUntil: on.AddDays(-1), Decision: dec}, "data.valid_until", "must be after occurred_on"},
		{"licence for ten years", on, &LicenceGranted{LicenceID: "L1", Kind: LicenceLevel4, ValidUntil: on.AddYears(10), Decision: dec}, "", ""},
		{"licence for over ten years", on, &LicenceGranted{LicenceID: "L1", Kind: LicenceLevel4, ValidUntil: on.AddYears(10).AddDays(1), Decision: dec}, "data.valid_until", "more than 10 years after occurred_on"},
		{"renewal to the past", on, &LicenceRenewed{LicenceID: "L1", ValidUntil: MustDate("2024-03-10"), Decision: dec}, "data.valid_until", "must be after occurred_on"},
		{"indemnity already expired", on, &IndemnityInsuranceRecorded{Provider: "Example Mutual", ValidUntil: MustDate("2025-01-01")}, "data.valid_until", "must be after occurred_on"},
		{"standing already expired", on, &ProfessionalStandingEvidenced{Body: "Council", ValidUntil: MustDate("2025-01-01")}, "data.valid_until", "must be after occurred_on"},
		{"standing without expiry", on, &ProfessionalStandingEvidenced{Body: "Council"}, "", ""},
		{"action plan for next year", on, &ActionPlanSubmitted{Year: 2026}, "", ""},
		{"action plan two years back", on, &ActionPlanSubmitted{Year: 2023}, "", ""},
		{"action plan three years ahead", on, &ActionPlanSubmitted{Year: 2028}, "data.year", "2028 is more than 2 years from occurred_on (2025-03-10)"},
		{"action plan three years back", on, &ActionPlanSubmitted{Year: 2022}, "data.year", "more than 2 years"},
		{"event with no date rules", on, &DirectoryListingConsented{Directory: DirectoryInformed}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateFact(Fact{OccurredOn: tt.occurredOn, Event: tt.ev})
			if tt.field == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, EINVALID, ErrorCode(err))
			assert.Equal(t, tt.field, ErrorField(err))
			assert.Contains(t, ErrorMessage(err), tt.message)
		})
	}
}

func TestEnumValid(t *testing.T) {
	tests := []struct {
		name  string
		valid bool
		want  bool
	}{
		{"profession", ProfessionParent.Valid(), true},
		{"profession unknown", Profession("Parent").Valid(), false},
		{"organisation kind", OrgGPPractice.Valid(), true},
		{"course", CourseDeepDive.Valid(), true},
		{"course empty", Course("").Valid(), false},
		{"group course", GroupEverydayParenting.Valid(), true},
		{"course is not a group course", GroupCourse(CourseFoundationB).Valid(), true},
		{"group course is not a course", Course(GroupFoundationA).Valid(), false},
		{"audience", AudienceParents.Valid(), true},
		{"cpd kind", CPDLinkedCPD.Valid(), true},
		{"reflective kind", ReflectivePeriodicUpdate.Valid(), true},
		{"application role", ApplySeniorLink.Valid(), true},
		{"role", RoleSeniorLink.Valid(), true},
		{"application role is not a role", Role(ApplyStudySupporter).Valid(), false},
		{"interview outcome", InterviewNotPassed.Valid(), true},
		{"application outcome", ApplicationDeclined.Valid(), true},
		{"licence kind", LicenceSpecialist.Valid(), true},
		{"licence scope", ScopeIncreasedPressureParenting.Valid(), true},
		{"directory", DirectoryLocalityHub.Valid(), true},
		{"review outcome", ReviewNeedsInformation.Valid(), true},
		{"review outcome unknown", ReviewOutcome("rejected").Valid(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.valid)
		})
	}
}
