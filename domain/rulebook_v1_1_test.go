package domain

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Quotes the v1.1 tests cite, verbatim from DOMAIN.md's section "Rulebook
// v1.1: readings pinned after a review against the seeds" and the seeds
// (TestCitedQuotesExist checks each is there).
const (
	qEveryKind   = `DOMAIN.md: "A certification year that ended with a requirement unmet makes standing ` + "`lapsed`" + `, whatever the requirement's kind"`
	qCountClears = `DOMAIN.md: "A lapse on a count clears when the current year meets that count"`
	qDecision    = `DOMAIN.md: "a lapse on a missed month or a standing fact clears only by a decision"`
	qAnyHeld     = `DOMAIN.md: "Suspending or withdrawing any certified role (informed practitioner, link, senior link, …) or any practitioner-held licence makes standing"`
	qNoReaward   = `DOMAIN.md: "a suspended role or licence comes back by reinstatement, a lapse by meeting the requirement, a licence continues by renewal."`
	qNextSteps   = `DOMAIN.md: "Next steps never offer such a re-award as ready."`
	qRegistered  = `older seed: "we have made a current decision to only licence professionals as Lead Practitioners if they are working with a registered school or service"`
	qRegFact     = `DOMAIN.md: "is a requirement of Lead Professional certification and a standing fact of trainee and Lead Professional maintenance"`
	qTrainee     = `older seed: "On successful completion of the trainee period you can become an approved member of our Lead Professional team."`
	qGroups      = `older seed: "We make no additional charge for these groups though they should be registered with us."`
	qGroupsStart = `DOMAIN.md: "the two groups must be run on or after the traineeship start."`
	qStartOut    = `older seed: "All of the professionals who apply for a license at Level 3 as Lead Professional Facilitators and study supporters start out as Trainees"`
	qSchools     = `older seed: "3A licences are generally held by schools"`
	qSchoolHeld  = `DOMAIN.md: "or by a current Level 3 A or organisational licence held by a registered organisation they belong to on that date."; older seed: "only licence professionals as Lead Practitioners if they are working with a registered school or service"`
	qRenewal     = `DOMAIN.md: "linked CPD anywhere in that year counts, whether the renewal is dated before, on or after that day."`
	qBeyond      = `DOMAIN.md: "A requirement the seeds do not state (the specialist licence's prerequisites, the community wheel's holders, senior-leadership support for Level 4 and 5) is either dropped or marked "v1 reading" with the reason."`
)

// keptUpTrainee is certifiableLead kept up through the trainee year under
// v1.1: a Level 3 A licence of their own from the traineeship start and
// every yearly duty met, so that on 2024-03-01 the trainee period has been
// completed successfully.
func keptUpTrainee(h *history, w *world) {
	certifiableLead(h, w)
	h.licence("2023-03-01", "T1", LicenceLevel3A, "2025-02-28")
	keepUp(h, "2023-03-01", "2024-02-29")
}

func suspend(h *history, on string, r Role) {
	h.add(on, &CertificationSuspended{Role: r, Reason: "under review", Decision: Decision{DecidedBy: "QC Lead", Rationale: "r"}})
}

func TestStandingV1_1(t *testing.T) {
	v1, v11 := RulebookV1(), RulebookV1_1()
	dec := Decision{DecidedBy: "QC Lead", Rationale: "r"}
	tests := []struct {
		name  string
		seed  string
		build func(h *history, w *world)
		on    string
		// v1 is what rulebook v1 answered, kept to show what v1.1 changes.
		v1, want StandingStatus
		// unmet are requirement names v1.1 must report unmet.
		unmet []string
	}{
		{"a missed month of practitioner development lapses on the anniversary, though the new year is kept up", qEveryKind,
			func(h *history, w *world) {
				leadProfessional(h, w)
				keepUp(h, "2024-03-01", "2025-02-28", "2024-06")
				keepUp(h, "2025-03-01", "2025-04-30")
			},
			"2025-05-01", StandingGood, StandingLapsed, []string{"lead_professional.previous_year.monthly_practitioner_development"}},
		{"a missed month still lapses two years on", qDecision,
			func(h *history, w *world) {
				leadProfessional(h, w)
				h.add("2026-01-01", &LicenceRenewed{LicenceID: "L1", ValidUntil: MustDate("2027-02-28"), Decision: dec})
				keepUp(h, "2024-03-01", "2025-02-28", "2024-06")
				keepUp(h, "2025-03-01", "2026-02-28")
				keepUp(h, "2026-03-01", "2026-04-30")
			},
			"2026-05-01", StandingGood, StandingLapsed, []string{"lead_professional.earlier_year.monthly_practitioner_development"}},
		{"a missed month clears by a reinstatement", qDecision,
			func(h *history, w *world) {
				leadProfessional(h, w)
				keepUp(h, "2024-03-01", "2025-02-28", "2024-06")
				keepUp(h, "2025-03-01", "2025-04-30")
				h.add("2025-04-02", &CertificationReinstated{Role: RoleLeadProfessional, Reason: "month made good", Decision: dec})
			},
			"2025-05-01", StandingGood, StandingGood, nil},
		{"a licence not current at the year's end lapses, though renewed since", qEveryKind,
			func(h *history, w *world) {
				certifiableLead(h, w)
				h.award("2024-03-01", RoleLeadProfessional)
				h.licence("2024-03-01", "L1", LicenceLevel3A, "2025-02-20")
				h.add("2025-03-03", &LicenceRenewed{LicenceID: "L1", ValidUntil: MustDate("2026-02-28"), Decision: dec})
				keepUp(h, "2024-03-01", "2025-02-28")
				keepUp(h, "2025-03-01", "2025-04-30")
			},
			"2025-05-01", StandingGood, StandingLapsed, []string{"lead_professional.previous_year.current_licence"}},
		{"a count short clears when the current year meets it", qCountClears,
			func(h *history, w *world) {
				leadProfessional(h, w)
				keepUp(h, "2024-03-01", "2025-02-28", "one_group")
				keepUp(h, "2025-03-01", "2025-04-30")
			},
			"2025-05-01", StandingGood, StandingGood, nil},
		{"a count short stays lapsed until met", qCountClears,
			func(h *history, w *world) {
				leadProfessional(h, w)
				keepUp(h, "2024-03-01", "2025-02-28", "one_group")
				keepUp(h, "2025-03-01", "2025-04-30", "one_group")
			},
			"2025-05-01", StandingLapsed, StandingLapsed, []string{"lead_professional.previous_year.foundation_a_supported"}},
		{"a trainee's missed month lapses the traineeship", qEveryKind,
			func(h *history, w *world) {
				certifiableLead(h, w)
				h.licence("2023-03-01", "T1", LicenceLevel3A, "2025-02-28")
				keepUp(h, "2023-03-01", "2024-02-29", "2023-07")
				keepUp(h, "2024-03-01", "2024-04-30")
			},
			"2024-05-01", StandingGood, StandingLapsed, []string{"trainee_lead_professional.previous_year.monthly_practitioner_development"}},

		{"a suspended Informed Practitioner is suspended", qAnyHeld,
			func(h *history, w *world) {
				h.register("2024-01-01")
				h.courses("2024-01-10", level1Courses...)
				h.award("2024-02-01", RoleInformedPractitioner)
				suspend(h, "2024-05-01", RoleInformedPractitioner)
			},
			"2024-06-01", StandingGood, StandingSuspended, []string{"informed_practitioner.not_suspended_or_withdrawn"}},
		{"a withdrawn Link Professional is withdrawn", qAnyHeld,
			func(h *history, w *world) {
				h.register("2024-01-01")
				h.award("2024-02-01", RoleInformedPractitioner)
				h.award("2024-03-01", RoleLinkProfessional)
				h.add("2024-05-01", &CertificationWithdrawn{Role: RoleLinkProfessional, Reason: "left the programme", Decision: dec})
			},
			"2024-06-01", StandingGood, StandingWithdrawn, []string{"link_professional.not_suspended_or_withdrawn"}},
		{"a suspended Senior Link Professional is suspended", qAnyHeld,
			func(h *history, w *world) {
				h.register("2024-01-01")
				h.award("2024-02-01", RoleSeniorLink)
				suspend(h, "2024-05-01", RoleSeniorLink)
			},
			"2024-06-01", StandingGood, StandingSuspended, []string{"senior_link.not_suspended_or_withdrawn"}},
		{"a suspended informal-use licence is suspended", qAnyHeld,
			func(h *history, w *world) {
				h.register("2024-01-01")
				h.licence("2024-02-01", "INF-1", LicenceInformalUse, "2026-01-31")
				h.add("2024-05-01", &LicenceSuspended{LicenceID: "INF-1", Reason: "misuse reported", Decision: dec})
			},
			"2024-06-01", StandingGood, StandingSuspended, []string{"licence.INF-1.not_suspended_or_withdrawn"}},
		{"a revoked organisational licence held by a practitioner is withdrawn", qAnyHeld,
			func(h *history, w *world) {
				h.register("2024-01-01")
				h.licence("2024-02-01", "ORG-1", LicenceOrganisational, "2026-01-31")
				h.add("2024-05-01", &LicenceRevoked{LicenceID: "ORG-1", Reason: "commitment ended", Decision: dec})
			},
			"2024-06-01", StandingGood, StandingWithdrawn, []string{"licence.ORG-1.not_suspended_or_withdrawn"}},
		{"a reinstated Informed Practitioner is good again", qAnyHeld,
			func(h *history, w *world) {
				h.register("2024-01-01")
				h.award("2024-02-01", RoleInformedPractitioner)
				suspend(h, "2024-05-01", RoleInformedPractitioner)
				h.add("2024-05-20", &CertificationReinstated{Role: RoleInformedPractitioner, Reason: "cleared", Decision: dec})
			},
			"2024-06-01", StandingGood, StandingGood, nil},

		{"a Lead Professional who moves to a school that is not a registered service is at risk at once", qRegFact,
			func(h *history, w *world) {
				leadProfessional(h, w)
				keepUp(h, "2024-03-01", "2025-02-28")
				h.add("2024-06-01", &PractitionerLeftOrganisation{OrganisationID: w.school.ID})
				h.join("2024-06-02", w.unreg)
				h.support("2024-06-03", w.unreg)
			},
			"2024-07-01", StandingGood, StandingAtRisk, []string{"lead_professional.registered_school_or_service"}},
		{"a Foundation A group not registered is not supported", qGroups,
			func(h *history, w *world) {
				leadProfessional(h, w)
				keepUp(h, "2024-03-01", "2025-02-28", "one_group")
				h.add("2024-04-01", &StudyGroupRun{GroupID: "G9", Course: GroupFoundationA})
			},
			"2025-02-01", StandingGood, StandingAtRisk, []string{"lead_professional.foundation_a_supported"}},
		{"a trainee whose school holds a current Level 3 A licence has a current licence", qSchools,
			func(h *history, w *world) {
				certifiableLead(h, w)
				keepUp(h, "2023-03-01", "2024-02-29")
				w.school.Apply(Fact{ID: nextID(), OccurredOn: MustDate("2023-01-01"), Event: &LicenceGranted{LicenceID: "SCH-3A", Kind: LicenceLevel3A, ValidUntil: MustDate("2025-12-31"), Decision: dec}})
			},
			"2023-09-01", StandingAtRisk, StandingGood, nil},
		{"an organisational licence held by a registered service counts", qSchoolHeld,
			memberOfLicensed(func(w *world) *Organisation { return w.school }, "SCH-ORG", LicenceOrganisational),
			"2023-09-01", StandingAtRisk, StandingGood, nil},
		{"a Level 3 A licence held by a school that is not a registered service does not count", qSchoolHeld,
			memberOfLicensed(func(w *world) *Organisation { return w.unreg }, "BCK-3A", LicenceLevel3A),
			"2023-09-01", StandingAtRisk, StandingAtRisk, []string{"trainee_lead_professional.current_licence"}},
		{"an organisational licence held by a hub that is not a registered service does not count", qSchoolHeld,
			memberOfLicensed(func(w *world) *Organisation { return w.hub }, "HUB-ORG", LicenceOrganisational),
			"2023-09-01", StandingAtRisk, StandingAtRisk, []string{"trainee_lead_professional.current_licence"}},
		{"a school's licence counts only from the day the school is registered as a service", qSchoolHeld,
			laterService,
			"2023-09-01", StandingAtRisk, StandingAtRisk, []string{"trainee_lead_professional.current_licence"}},
		{"a school's licence counts once the school is registered as a service", qSchoolHeld,
			laterService,
			"2023-10-01", StandingAtRisk, StandingGood, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, w := folded(t, tt.build)
			on := MustDate(tt.on)
			got := v11.Standing(p, w.orgs(), on)
			assert.Equal(t, tt.want, got.Status, "%s\nunmet: %v", tt.seed, unmetNames(got))
			for _, name := range tt.unmet {
				assert.Contains(t, unmetNames(got), name, tt.seed)
			}
			if tt.unmet == nil && tt.want == StandingGood {
				for _, r := range got.Requirements {
					assert.False(t, strings.Contains(r.Name, "_year."), "no lapse reported: %s", r.Name)
				}
			}
			assert.Equal(t, tt.v1, v1.Standing(p, w.orgs(), on).Status, "rulebook v1's answer")
		})
	}
}

func TestDecisionsV1_1(t *testing.T) {
	dec := Decision{DecidedBy: "QC Lead", Rationale: "r"}
	award := func(r Role) *CertificationAwarded { return &CertificationAwarded{Role: r, Decision: dec} }
	renew := func(id, until string) *LicenceRenewed {
		return &LicenceRenewed{LicenceID: id, ValidUntil: MustDate(until), Decision: dec}
	}
	runDecisionCasesWith(t, RulebookV1_1(), []decisionCase{
		{"a trainee kept up through the year is certified", qTrainee, keptUpTrainee, award(RoleLeadProfessional), "2024-03-01", nil},
		{"a suspended Lead Professional is not awarded again", qNoReaward,
			func(h *history, w *world) {
				keptUpTrainee(h, w)
				h.award("2024-03-01", RoleLeadProfessional)
				suspend(h, "2024-04-01", RoleLeadProfessional)
			},
			award(RoleLeadProfessional), "2024-05-01", []string{"not_already_certified", "trainee_period_in_standing"}},
		{"an active Informed Practitioner is not awarded again", qNoReaward,
			func(h *history, w *world) {
				h.register("2024-01-01")
				h.courses("2024-01-10", level1Courses...)
				h.award("2024-02-01", RoleInformedPractitioner)
			},
			award(RoleInformedPractitioner), "2024-05-01", []string{"not_already_certified"}},
		{"a licence_id already granted is not granted again", qNoReaward,
			func(h *history, w *world) {
				h.register("2024-01-01")
				h.courses("2024-01-10", level1Courses...)
				h.licence("2024-02-01", "INF-1", LicenceInformalUse, "2024-12-31")
			},
			grant("INF-1", LicenceInformalUse, ""), "2025-02-01", []string{"licence_id_not_granted"}},
		{"certification needs a registered school or service", qRegistered,
			func(h *history, w *world) {
				keptUpTrainee(h, w)
				h.add("2024-02-10", &PractitionerLeftOrganisation{OrganisationID: w.school.ID})
				h.join("2024-02-10", w.unreg)
			},
			award(RoleLeadProfessional), "2024-02-20", []string{"trainee_year_completed", "registered_school_or_service"}},
		{"a lapsed trainee period is not a successful completion", qTrainee,
			func(h *history, w *world) {
				certifiableLead(h, w)
				h.licence("2023-03-01", "T1", LicenceLevel3A, "2025-02-28")
				keepUp(h, "2023-03-01", "2024-02-29", "2023-07")
			},
			award(RoleLeadProfessional), "2024-03-01", []string{"trainee_period_in_standing"}},
		{"groups not registered do not count as the two groups", qGroups,
			func(h *history, w *world) {
				keptUpTrainee(h, w)
				for i := range h.facts {
					if g, ok := h.facts[i].Event.(*StudyGroupRun); ok {
						g.Registered = false
					}
				}
			},
			// The trainee year's "2 Foundation A courses supported" is unmet too.
			award(RoleLeadProfessional), "2024-03-01", []string{"two_groups_run", "trainee_period_in_standing"}},
		{"groups run before the traineeship start do not count", qGroupsStart,
			func(h *history, w *world) {
				keptUpTrainee(h, w)
				for i := range h.facts {
					if _, ok := h.facts[i].Event.(*StudyGroupRun); ok {
						h.facts[i].OccurredOn = MustDate("2023-02-20")
					}
				}
			},
			award(RoleLeadProfessional), "2024-03-01", []string{"two_groups_run", "trainee_period_in_standing"}},
		{"a Level 3 A licence needs a traineeship started", qStartOut,
			func(h *history, w *world) {
				inSchool(h, w)
				h.courses("2022-06-01", level2Courses...)
				h.courses("2022-06-01", CourseStudySupporterPreparation)
			},
			grant("L3", LicenceLevel3A, ""), "2023-01-01", []string{"trainee_or_lead_professional"}},
		{"a Level 3 A licence for a trainee", qStartOut,
			func(h *history, w *world) {
				inSchool(h, w)
				h.courses("2022-06-01", level2Courses...)
				h.courses("2022-06-01", CourseStudySupporterPreparation)
				h.add("2022-12-01", &TraineeshipStarted{Role: RoleLeadProfessional})
			},
			grant("L3", LicenceLevel3A, ""), "2023-01-01", nil},
		{"a renewal on the anniversary counts linked CPD on the grant day", qRenewal,
			func(h *history, w *world) {
				inSchool(h, w)
				h.licence("2024-03-01", "CW-1", LicenceCommunityWheel, "2025-03-01")
				h.cpd("2024-03-01", CPDLinkedCPD)
			},
			renew("CW-1", "2026-03-01"), "2025-03-01", nil},
		{"a late renewal judges the licence year, not the year up to it", qRenewal,
			func(h *history, w *world) {
				inSchool(h, w)
				h.licence("2024-03-01", "CW-1", LicenceCommunityWheel, "2025-02-28")
				h.cpd("2024-03-20", CPDLinkedCPD)
			},
			renew("CW-1", "2026-02-28"), "2025-04-01", nil},
		{"a renewal with no linked CPD in the licence year", qRenewal,
			func(h *history, w *world) {
				inSchool(h, w)
				h.licence("2024-03-01", "CW-1", LicenceCommunityWheel, "2025-02-28")
				h.cpd("2025-03-20", CPDLinkedCPD)
			},
			renew("CW-1", "2026-02-28"), "2025-04-01", []string{"linked_cpd"}},
		{"a community wheel licence has no holder requirement the seeds do not state", qBeyond,
			func(h *history, w *world) { h.register("2024-01-01") },
			grant("CW-2", LicenceCommunityWheel, ""), "2024-02-01", nil},
		{"a lapsed Lead Professional may be reinstated", qDecision,
			func(h *history, w *world) {
				leadProfessional(h, w)
				keepUp(h, "2024-03-01", "2025-02-28", "2024-06")
			},
			&CertificationReinstated{Role: RoleLeadProfessional, Reason: "month made good", Decision: dec}, "2025-04-01", nil},
		{"a withdrawn Lead Professional is not reinstated within the rules", qException,
			func(h *history, w *world) {
				leadProfessional(h, w)
				keepUp(h, "2024-03-01", "2025-02-28")
				h.add("2024-05-01", &CertificationWithdrawn{Role: RoleLeadProfessional, Reason: "left the programme", Decision: dec})
			},
			&CertificationReinstated{Role: RoleLeadProfessional, Reason: "withdrawn in error", Decision: dec}, "2024-06-01", []string{"role_status"}},
		{"a revoked licence is not reinstated within the rules", qException,
			func(h *history, w *world) {
				h.register("2024-01-01")
				h.licence("2024-02-01", "INF-1", LicenceInformalUse, "2024-12-31")
				h.add("2024-05-01", &LicenceRevoked{LicenceID: "INF-1", Reason: "misuse reported", Decision: dec})
			},
			&LicenceReinstated{LicenceID: "INF-1", Reason: "revoked in error", Decision: dec}, "2024-06-01", []string{"licence_status"}},
		{"an active Lead Professional in good standing is not reinstated", qDecision,
			func(h *history, w *world) {
				leadProfessional(h, w)
				keepUp(h, "2024-03-01", "2025-02-28")
			},
			&CertificationReinstated{Role: RoleLeadProfessional, Reason: "nothing to reinstate", Decision: dec}, "2024-04-01", []string{"role_status"}},
	})
}

func TestRenewalV1AnswersDifferently(t *testing.T) {
	// Rulebook v1 judged the year up to the renewal: linked CPD on the
	// grant day did not count for a renewal dated on the anniversary.
	w := newWorld()
	h := newHistory(t)
	inSchool(h, w)
	h.licence("2024-03-01", "CW-1", LicenceCommunityWheel, "2025-03-01")
	h.cpd("2024-03-01", CPDLinkedCPD)
	ev := RulebookV1().EvaluateDecision(h.fold(), w.orgs(), &LicenceRenewed{LicenceID: "CW-1", ValidUntil: MustDate("2026-03-01"), Decision: Decision{DecidedBy: "QC Lead", Rationale: "r"}}, MustDate("2025-03-01"))
	assert.False(t, ev.Met, qRenewal)
}

func TestNextStepsNeverOfferAReaward(t *testing.T) {
	w := newWorld()
	h := newHistory(t)
	keptUpTrainee(h, w)
	h.award("2024-03-01", RoleLeadProfessional)
	suspend(h, "2024-04-01", RoleLeadProfessional)
	for _, rb := range []*Rulebook{RulebookV1_1()} {
		steps := rb.NextSteps(h.fold(), w.orgs(), MustDate("2024-05-01"))
		require.NotEmpty(t, steps, qNextSteps)
		for _, s := range steps {
			if s.Decision == TypeCertificationAwarded && s.Role == RoleLeadProfessional {
				assert.False(t, s.Ready, qNextSteps)
				assert.True(t, slices.ContainsFunc(s.Missing, func(r RequirementResult) bool { return r.Name == "not_already_certified" }), qNextSteps)
			}
		}
	}
}

func TestBeyondTheSeedsIsMarked(t *testing.T) {
	rb := RulebookV1_1()
	for _, k := range []LicenceKind{LicenceLevel4, LicenceLevel5, LicenceSpecialist} {
		for _, r := range rb.LicenceGrants[k] {
			if r.Kind == RequireLeadershipSupport || k == LicenceSpecialist {
				assert.Contains(t, r.Source, "v1 reading", "%s %s: %s", k, r.Name, qBeyond)
			}
		}
	}
	assert.Empty(t, rb.LicenceGrants[LicenceCommunityWheel], qBeyond)
}

func TestRulebooks(t *testing.T) {
	rbs := NewRulebooks()
	assert.Equal(t, "v1.1", rbs.Current().Version)
	rb, ok := rbs.Version("v1")
	require.True(t, ok)
	assert.Equal(t, "v1", rb.Version)
	rb, ok = rbs.Version("v0")
	assert.False(t, ok)
	assert.Same(t, rbs.Current(), rb)
	_, ok = RulebooksWithCurrent("v9")
	assert.False(t, ok)
	old, ok := RulebooksWithCurrent("v1")
	require.True(t, ok)
	assert.Equal(t, "v1", old.Current().Version)
}

// TestSchoolLicenceExpiryIsANextChange: a standing that rests on the
// school's licence can change the day after that licence's valid_until,
// with no event of the practitioner's, so the lists re-fold it then.
func TestSchoolLicenceExpiryIsANextChange(t *testing.T) {
	w := newWorld()
	h := newHistory(t)
	certifiableLead(h, w)
	keepUp(h, "2023-03-01", "2023-08-31")
	require.NoError(t, w.school.Apply(Fact{ID: nextID(), OccurredOn: MustDate("2023-01-01"), Event: &LicenceGranted{LicenceID: "SCH-3A", Kind: LicenceLevel3A,
		ValidUntil: MustDate("2023-09-19"), Decision: Decision{DecidedBy: "QC Lead", Rationale: "r"}}}))
	s := RulebookV1_1().Standing(h.fold(), w.orgs(), MustDate("2023-09-01"))
	assert.Equal(t, StandingGood, s.Status, qSchools)
	assert.Equal(t, MustDate("2023-09-20"), s.NextChange, qSchools)
	assert.Equal(t, StandingAtRisk, RulebookV1_1().Standing(h.fold(), w.orgs(), MustDate("2023-09-20")).Status, qSchools)
}

// folded builds a world and a history with build, and folds the history.
func folded(t *testing.T, build func(h *history, w *world)) (*Practitioner, *world) {
	t.Helper()
	w := newWorld()
	h := newHistory(t)
	build(h, w)
	return h.fold(), w
}

// newOrg returns an organisation registered on date on.
func newOrg(name string, k OrganisationKind, service bool, on string) *Organisation {
	o := NewOrganisation(nextID())
	if err := o.Apply(Fact{ID: nextID(), OccurredOn: MustDate(on), Event: &OrganisationRegistered{Name: name, Kind: k, RegisteredService: service}}); err != nil {
		panic(err)
	}
	return o
}

// orgLicence grants o a licence.
func orgLicence(o *Organisation, on, id string, k LicenceKind, until string) {
	if err := o.Apply(Fact{ID: nextID(), OccurredOn: MustDate(on), Event: &LicenceGranted{LicenceID: id, Kind: k,
		ValidUntil: MustDate(until), Decision: Decision{DecidedBy: "QC Lead", Rationale: "r"}}}); err != nil {
		panic(err)
	}
}

// TestSchoolHeldLicenceSaysWhy: when a member organisation holds a current
// licence but is not a registered service, the evaluation says so, and
// cites the membership and the licence it set aside.
func TestSchoolHeldLicenceSaysWhy(t *testing.T) {
	w := newWorld()
	h := newHistory(t)
	certifiableLead(h, w)
	keepUp(h, "2023-03-01", "2023-08-31")
	joined := h.join("2023-02-01", w.unreg)
	orgLicence(w.unreg, "2023-01-01", "BCK-3A", LicenceLevel3A, "2025-12-31")
	s := RulebookV1_1().Standing(h.fold(), w.orgs(), MustDate("2023-09-01"))
	var found bool
	for _, r := range s.Requirements {
		if r.Name != "trainee_lead_professional.current_licence" {
			continue
		}
		found = true
		assert.False(t, r.Met, qSchoolHeld)
		assert.Contains(t, r.Missing, "licence BCK-3A is held by an organisation that is not a registered service on 2023-09-01", qSchoolHeld)
		assert.Contains(t, r.Evidence, joined, qSchoolHeld)
	}
	require.True(t, found, "the current licence duty is evaluated")
}

// memberOfLicensed is a trainee kept up through the trainee year, with no
// licence of their own, who is also in (or, for the registered school,
// only in) the organisation org picks, which holds licence id of kind k.
func memberOfLicensed(org func(*world) *Organisation, id string, k LicenceKind) func(*history, *world) {
	return func(h *history, w *world) {
		certifiableLead(h, w)
		keepUp(h, "2023-03-01", "2024-02-29")
		o := org(w)
		if o != w.school {
			h.join("2023-02-01", o)
		}
		orgLicence(o, "2023-01-01", id, k, "2025-12-31")
	}
}

// laterService is a trainee kept up through the trainee year who is also
// in a service registered on 2023-10-01 that holds a Level 3 A licence
// granted earlier, and has no licence of their own.
func laterService(h *history, w *world) {
	certifiableLead(h, w)
	keepUp(h, "2023-03-01", "2024-02-29")
	w.hub = newOrg("Tarn Family Service", OrgService, true, "2023-10-01")
	h.join("2023-02-01", w.hub)
	orgLicence(w.hub, "2023-01-01", "TFS-3A", LicenceLevel3A, "2025-12-31")
}

// TestServiceRegistrationIsANextChange: a standing that will rest on a
// school's licence once the school is registered as a service changes that
// day, with no event of the practitioner's.
func TestServiceRegistrationIsANextChange(t *testing.T) {
	w := newWorld()
	h := newHistory(t)
	laterService(h, w)
	s := RulebookV1_1().Standing(h.fold(), w.orgs(), MustDate("2023-09-20"))
	assert.Equal(t, StandingAtRisk, s.Status, qSchoolHeld)
	assert.Equal(t, MustDate("2023-10-01"), s.NextChange, qSchoolHeld)
}

// TestReinstatingWithdrawnSaysWhy: the refusal of a reinstatement of a
// withdrawn role or a revoked licence says that only an exception restores
// it, and cites the withdrawal or revocation.
func TestReinstatingWithdrawnSaysWhy(t *testing.T) {
	dec := Decision{DecidedBy: "QC Lead", Rationale: "r"}
	w := newWorld()
	h := newHistory(t)
	leadProfessional(h, w)
	keepUp(h, "2024-03-01", "2025-02-28")
	withdrawal := h.add("2024-05-01", &CertificationWithdrawn{Role: RoleLeadProfessional, Reason: "left the programme", Decision: dec})
	revocation := h.add("2024-05-01", &LicenceRevoked{LicenceID: "L1", Reason: "handed back", Decision: dec})
	p := h.fold()
	for _, tc := range []struct {
		e    Event
		want string
		cite uuid.UUID
	}{
		{&CertificationReinstated{Role: RoleLeadProfessional, Reason: "withdrawn in error", Decision: dec}, "Lead Professional certification is withdrawn: within the rules only a suspended (or lapsed) one is reinstated; a reinstatement recorded as an exception, with a rationale, restores it", withdrawal},
		{&LicenceReinstated{LicenceID: "L1", Reason: "revoked in error", Decision: dec}, "licence L1 is revoked: within the rules only a suspended (or lapsed) one is reinstated; a reinstatement recorded as an exception, with a rationale, restores it", revocation},
	} {
		ev := RulebookV1_1().EvaluateDecision(p, w.orgs(), tc.e, MustDate("2024-06-01"))
		require.False(t, ev.Met, qException)
		require.Len(t, ev.Requirements, 1)
		assert.Contains(t, ev.Requirements[0].Missing, tc.want, qException)
		assert.Contains(t, ev.Requirements[0].Evidence, tc.cite, qException)
	}
}

// qException is the sentence an exception reinstatement rests on: a
// decision taken against the rules is recorded, and so it takes effect.
const qException = `DOMAIN.md: "A decision may go against the rules (exceptional circumstances) only with a rationale; such decisions are **exceptions** and go to the QC queue first."`

// TestExceptionReinstatement: a CertificationReinstated or LicenceReinstated
// recorded as an exception restores a withdrawn role or a revoked licence;
// one that is not an exception (within the rules it is refused, so only
// imported or older history holds one) changes nothing.
func TestExceptionReinstatement(t *testing.T) {
	dec := Decision{DecidedBy: "QC Lead", Rationale: "r"}
	exc := Decision{DecidedBy: "QC Lead", Rationale: "withdrawn in error: the panel's letter went to another practitioner", Exception: true}
	// roleBack is a Lead Professional withdrawn on 2024-05-01 and
	// reinstated by decision d on 2024-05-20.
	roleBack := func(d Decision) func(h *history, w *world) {
		return func(h *history, w *world) {
			leadProfessional(h, w)
			keepUp(h, "2024-03-01", "2025-02-28")
			h.add("2024-05-01", &CertificationWithdrawn{Role: RoleLeadProfessional, Reason: "left the programme", Decision: dec})
			h.add("2024-05-20", &CertificationReinstated{Role: RoleLeadProfessional, Reason: "withdrawn in error", Decision: d})
		}
	}
	// licenceBack is an informal-use licence revoked on 2024-05-01 and
	// reinstated by decision d on 2024-05-20.
	licenceBack := func(d Decision) func(h *history, w *world) {
		return func(h *history, w *world) {
			h.register("2024-01-01")
			h.licence("2024-02-01", "INF-1", LicenceInformalUse, "2024-12-31")
			h.add("2024-05-01", &LicenceRevoked{LicenceID: "INF-1", Reason: "misuse reported", Decision: dec})
			h.add("2024-05-20", &LicenceReinstated{LicenceID: "INF-1", Reason: "revoked in error", Decision: d})
		}
	}
	tests := []struct {
		name  string
		seed  string
		build func(h *history, w *world)
		on    string
		// role or licence is the item asked about, with its status then.
		role        Role
		roleStatus  RoleStatus
		licence     string
		licenceStat LicenceStatus
		standing    StandingStatus
	}{
		{"a withdrawn role reinstated as an exception is active", qException, roleBack(exc),
			"2024-06-01", RoleLeadProfessional, RoleActive, "", "", StandingGood},
		{"a withdrawn role is withdrawn until the exception's date", qException, roleBack(exc),
			"2024-05-19", RoleLeadProfessional, RoleWithdrawn, "", "", StandingWithdrawn},
		{"a reinstatement of a withdrawn role that is not an exception changes nothing", qException, roleBack(dec),
			"2024-06-01", RoleLeadProfessional, RoleWithdrawn, "", "", StandingWithdrawn},
		{"a withdrawal after the exception withdraws again", qException,
			func(h *history, w *world) {
				roleBack(exc)(h, w)
				h.add("2024-07-01", &CertificationWithdrawn{Role: RoleLeadProfessional, Reason: "left the programme", Decision: dec})
			},
			"2024-07-02", RoleLeadProfessional, RoleWithdrawn, "", "", StandingWithdrawn},
		{"a retracted exception reinstatement leaves the role withdrawn", qException,
			func(h *history, w *world) {
				roleBack(exc)(h, w)
				h.add("2024-05-21", &EventRetracted{RetractedEventID: h.facts[len(h.facts)-1].ID, Reason: "recorded on the wrong practitioner"})
			},
			"2024-06-01", RoleLeadProfessional, RoleWithdrawn, "", "", StandingWithdrawn},
		{"a revoked licence reinstated as an exception is active", qException, licenceBack(exc),
			"2024-06-01", "", "", "INF-1", LicenceStatusActive, StandingGood},
		{"a revoked licence reinstated as an exception still expires", qException, licenceBack(exc),
			"2025-01-01", "", "", "INF-1", LicenceStatusExpired, StandingGood},
		{"a reinstatement of a revoked licence that is not an exception changes nothing", qException, licenceBack(dec),
			"2024-06-01", "", "", "INF-1", LicenceStatusRevoked, StandingWithdrawn},
		{"a revoked and suspended licence reinstated as an exception is active", qException,
			func(h *history, w *world) {
				h.add("2024-04-01", &LicenceSuspended{LicenceID: "INF-1", Reason: "under review", Decision: dec})
				licenceBack(exc)(h, w)
			},
			"2024-06-01", "", "", "INF-1", LicenceStatusActive, StandingGood},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, w := folded(t, tt.build)
			on := MustDate(tt.on)
			if tt.role != "" {
				r, ok := p.Role(tt.role, on)
				require.True(t, ok)
				assert.Equal(t, tt.roleStatus, r.Status, tt.seed)
			}
			if tt.licence != "" {
				l, ok := p.Licence(tt.licence, on)
				require.True(t, ok)
				assert.Equal(t, tt.licenceStat, l.Status, tt.seed)
			}
			assert.Equal(t, tt.standing, RulebookV1_1().Standing(p, w.orgs(), on).Status, tt.seed)
		})
	}
}
