package domain

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keepUp records a year's Lead Professional maintenance from the month of
// from to the month of to: practitioner development on the 15th of each
// month, and once each: feedback, log book, action plan with budget, two
// Foundation A groups and linked CPD, all dated on from.
func keepUp(h *history, from, to string, skip ...string) {
	skipped := map[string]bool{}
	for _, s := range skip {
		skipped[s] = true
	}
	start, end := MustDate(from), MustDate(to)
	for d := addMonths(start, 0); !d.After(end); d = addMonths(d, 1) {
		y, m, _ := d.Time().Date()
		mid := NewDate(y, m, 15).String()
		if !skipped[mid[:7]] {
			h.cpd(mid, CPDPractitionerDevelopment)
		}
	}
	if !skipped["feedback"] {
		h.add(from, &ParticipantFeedbackGathered{GroupID: "G-" + from, Responses: 8})
	}
	if !skipped["log_book"] {
		h.add(from, &ReflectiveUpdateSubmitted{Kind: ReflectiveLogBook})
	}
	if !skipped["action_plan"] {
		h.add(from, &ActionPlanSubmitted{Year: start.Time().Year(), BudgetIncluded: true})
	}
	groups := 2
	if skipped["one_group"] {
		groups = 1
	}
	for i := 0; i < groups; i++ {
		h.add(from, &StudyGroupRun{GroupID: "FA", Course: GroupFoundationA, Registered: true})
	}
	if !skipped["linked_cpd"] {
		h.cpd(from, CPDLinkedCPD)
	}
}

// leadProfessional is a Lead Professional certified on 2024-03-01 with a
// Level 3 A licence to 2026-02-28, at a registered school with support.
func leadProfessional(h *history, w *world) {
	certifiableLead(h, w)
	h.award("2024-03-01", RoleLeadProfessional)
	h.licence("2024-03-01", "L1", LicenceLevel3A, "2026-02-28")
}

func unmetNames(s Standing) []string {
	var out []string
	for _, r := range s.Requirements {
		if !r.Met {
			out = append(out, r.Name)
		}
	}
	return out
}

func TestStanding(t *testing.T) {
	rb := RulebookV1()
	const (
		seedFA      = `older seed: "+ must support a minimum of 2 Foundation A courses each year for professionals or parents"`
		seedMonthly = `older seed: "+ take part in a monthly ongoing practitioner development training"`
		seedWindow  = `DOMAIN.md: "a requirement is unmet and the period ends within 60 days."`
		seedLapsed  = `DOMAIN.md: "a period ended with a requirement unmet (until it is met or a decision says otherwise)."`
	)
	dec := Decision{DecidedBy: "QC Lead", Rationale: "r"}
	tests := []struct {
		name   string
		seed   string
		build  func(h *history, w *world)
		on     string
		status StandingStatus
		unmet  []string
	}{
		{"no role or licence: good, nothing required", `DOMAIN.md: "Standing is derived, never stored"`,
			func(h *history, w *world) { h.register("2024-01-01"); h.courses("2024-02-01", level1Courses...) },
			"2024-06-01", StandingGood, nil},
		{"a Lead Professional keeping everything up", seedFA,
			func(h *history, w *world) { leadProfessional(h, w); keepUp(h, "2024-03-01", "2025-02-28") },
			"2024-09-10", StandingGood, nil},
		{"one Foundation A course 61 days before the year ends: still good", seedWindow,
			func(h *history, w *world) { leadProfessional(h, w); keepUp(h, "2024-03-01", "2025-02-28", "one_group") },
			"2024-12-29", StandingGood, []string{"lead_professional.foundation_a_supported"}},
		{"one Foundation A course 60 days before the year ends: at risk", seedWindow,
			func(h *history, w *world) { leadProfessional(h, w); keepUp(h, "2024-03-01", "2025-02-28", "one_group") },
			"2024-12-30", StandingAtRisk, []string{"lead_professional.foundation_a_supported"}},
		{"the last day of the year with one course: at risk", seedFA,
			func(h *history, w *world) { leadProfessional(h, w); keepUp(h, "2024-03-01", "2025-02-28", "one_group") },
			"2025-02-28", StandingAtRisk, []string{"lead_professional.foundation_a_supported"}},
		{"the day before the year ends with one course: at risk", seedFA,
			func(h *history, w *world) { leadProfessional(h, w); keepUp(h, "2024-03-01", "2025-02-28", "one_group") },
			"2025-02-27", StandingAtRisk, []string{"lead_professional.foundation_a_supported"}},
		{"the day after the year ended with one course: lapsed", seedLapsed,
			func(h *history, w *world) {
				leadProfessional(h, w)
				keepUp(h, "2024-03-01", "2025-02-28", "one_group")
				h.cpd("2025-03-01", CPDLinkedCPD) // the licence's new year, so only the Lead Professional lapses
			},
			"2025-03-01", StandingLapsed, []string{"lead_professional.participant_feedback", "lead_professional.log_book",
				"lead_professional.annual_action_plan", "lead_professional.foundation_a_supported", "lead_professional.previous_year.foundation_a_supported"}},
		{"the day after the year ended with everything met: good", seedLapsed,
			func(h *history, w *world) { leadProfessional(h, w); keepUp(h, "2024-03-01", "2025-02-28") },
			"2025-03-01", StandingGood, []string{"lead_professional.participant_feedback", "lead_professional.log_book",
				"lead_professional.annual_action_plan", "lead_professional.foundation_a_supported", "lead_professional.linked_cpd", "licence.L1.linked_cpd"}},
		{"a lapse ends when the requirement is met in the new year", seedLapsed,
			func(h *history, w *world) {
				leadProfessional(h, w)
				keepUp(h, "2024-03-01", "2025-02-28", "one_group")
				keepUp(h, "2025-03-01", "2025-04-30")
			},
			"2025-05-01", StandingGood, nil},
		{"a lapse ends when a reinstatement says otherwise", seedLapsed,
			func(h *history, w *world) {
				leadProfessional(h, w)
				keepUp(h, "2024-03-01", "2025-02-28", "one_group")
				h.add("2025-02-20", &CertificationSuspended{Role: RoleLeadProfessional, Reason: "r", Decision: dec})
				h.add("2025-03-05", &CertificationReinstated{Role: RoleLeadProfessional, Reason: "r", Decision: dec})
				h.cpd("2025-03-01", CPDLinkedCPD)
			},
			"2025-03-10", StandingGood, []string{"lead_professional.participant_feedback", "lead_professional.log_book",
				"lead_professional.annual_action_plan", "lead_professional.foundation_a_supported"}},
		{"a retracted Foundation A course in the window: at risk", `DOMAIN.md: "A mistake is never edited: it is corrected by a later event"`,
			func(h *history, w *world) {
				leadProfessional(h, w)
				keepUp(h, "2024-03-01", "2025-02-28")
				for _, f := range h.facts {
					if g, ok := f.Event.(*StudyGroupRun); ok && g.GroupID == "FA" && f.OccurredOn == MustDate("2024-03-01") {
						h.retract("2025-01-10", f.ID)
						break
					}
				}
			},
			"2025-01-15", StandingAtRisk, []string{"lead_professional.foundation_a_supported"}},
		{"monthly training: the last day of a month without it is not yet missed", seedMonthly,
			func(h *history, w *world) { leadProfessional(h, w); keepUp(h, "2024-03-01", "2025-02-28", "2024-06") },
			"2024-06-30", StandingGood, nil},
		{"monthly training: the day after a month without it, at risk at once", seedMonthly,
			func(h *history, w *world) { leadProfessional(h, w); keepUp(h, "2024-03-01", "2025-02-28", "2024-06") },
			"2024-07-01", StandingAtRisk, []string{"lead_professional.monthly_practitioner_development"}},
		{"a licence expired mid-year: at risk at once", `older seed: "+ have a current licence by subscription"`,
			func(h *history, w *world) {
				certifiableLead(h, w)
				h.award("2024-03-01", RoleLeadProfessional)
				h.licence("2024-03-01", "L1", LicenceLevel3A, "2024-08-31")
				keepUp(h, "2024-03-01", "2025-02-28")
			},
			"2024-09-01", StandingAtRisk, []string{"lead_professional.current_licence"}},
		{"a licence on its valid_until is current", `older seed: "+ have a current licence by subscription"`,
			func(h *history, w *world) {
				certifiableLead(h, w)
				h.award("2024-03-01", RoleLeadProfessional)
				h.licence("2024-03-01", "L1", LicenceLevel3A, "2024-08-31")
				keepUp(h, "2024-03-01", "2025-02-28")
			},
			"2024-08-31", StandingGood, nil},
		{"leadership support lost on leaving the school: at risk", `older seed: "+ have the support of senior leadership"`,
			func(h *history, w *world) {
				leadProfessional(h, w)
				keepUp(h, "2024-03-01", "2025-02-28")
				h.add("2024-07-01", &PractitionerLeftOrganisation{OrganisationID: w.school.ID})
			},
			"2024-07-01", StandingAtRisk, []string{"lead_professional.senior_leadership_support"}},
		{"a suspended Lead Professional", `DOMAIN.md: "an explicit decision says so."`,
			func(h *history, w *world) {
				leadProfessional(h, w)
				keepUp(h, "2024-03-01", "2025-02-28")
				h.add("2024-05-01", &CertificationSuspended{Role: RoleLeadProfessional, Reason: "r", Decision: dec})
			},
			"2024-06-01", StandingSuspended, nil},
		{"a suspended licence", `DOMAIN.md: "an explicit decision says so."`,
			func(h *history, w *world) {
				leadProfessional(h, w)
				keepUp(h, "2024-03-01", "2025-02-28")
				h.add("2024-05-01", &LicenceSuspended{LicenceID: "L1", Reason: "r", Decision: dec})
			},
			"2024-06-01", StandingSuspended, []string{"lead_professional.current_licence"}},
		{"a withdrawn Lead Professional", `DOMAIN.md: "an explicit decision says so."`,
			func(h *history, w *world) {
				leadProfessional(h, w)
				h.add("2024-05-01", &CertificationWithdrawn{Role: RoleLeadProfessional, Reason: "r", Decision: dec})
				h.cpd("2024-05-02", CPDLinkedCPD)
			},
			"2024-06-01", StandingWithdrawn, nil},
		{"a trainee's year runs from the traineeship start", `DOMAIN.md: "for a trainee, the traineeship start"`,
			func(h *history, w *world) {
				certifiableLead(h, w)
				h.licence("2023-03-01", "L1", LicenceLevel3A, "2025-02-28")
				keepUp(h, "2023-03-01", "2024-02-29", "linked_cpd")
			},
			"2024-01-15", StandingAtRisk, []string{"trainee_lead_professional.linked_cpd", "licence.L1.linked_cpd"}},
		{"a trainee 46 days before the traineeship year ends is good", `DOMAIN.md: "for a trainee, the traineeship start"`,
			func(h *history, w *world) {
				certifiableLead(h, w)
				h.licence("2023-03-01", "L1", LicenceLevel3A, "2025-02-28")
				keepUp(h, "2023-03-01", "2024-02-29", "linked_cpd")
			},
			"2023-12-30", StandingGood, []string{"trainee_lead_professional.linked_cpd", "licence.L1.linked_cpd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			h := newHistory(t)
			tt.build(h, w)
			s := rb.Standing(h.fold(), w.orgs(), MustDate(tt.on))
			assert.Equal(t, tt.status, s.Status, tt.seed)
			assert.Equal(t, tt.unmet, unmetNames(s), tt.seed)
			for _, r := range s.Requirements {
				assert.NotEmpty(t, r.Source)
				if r.Met {
					assert.Empty(t, r.Missing)
				} else {
					assert.NotEmpty(t, r.Missing)
				}
			}
			if !s.NextChange.IsZero() {
				assert.True(t, s.NextChange.After(MustDate(tt.on)))
			}
		})
	}
}

func TestStandingExplainsItself(t *testing.T) {
	rb := RulebookV1()
	w := newWorld()
	h := newHistory(t)
	leadProfessional(h, w)
	keepUp(h, "2024-03-01", "2025-02-28", "one_group")
	p := h.fold()
	s := rb.Standing(p, w.orgs(), MustDate("2025-01-10"))
	var fa *RequirementResult
	for i := range s.Requirements {
		if s.Requirements[i].Name == "lead_professional.foundation_a_supported" {
			fa = &s.Requirements[i]
		}
	}
	require.NotNil(t, fa)
	assert.Equal(t, "1 of 2 Foundation A courses supported this certification year", fa.Missing)
	assert.Len(t, fa.Evidence, 1, "the one course supported is cited")
	assert.Contains(t, fa.Source, "minimum of 2 Foundation A courses")
	require.Len(t, s.Held, 2)
	assert.Equal(t, HeldStanding{Item: "lead_professional", Status: StandingAtRisk, PeriodStart: MustDate("2024-03-01"), PeriodEnd: MustDate("2025-02-28")}, s.Held[0])
	assert.Equal(t, "licence.L1", s.Held[1].Item)

	// After the year, the lapse names the year it comes from.
	s = rb.Standing(p, w.orgs(), MustDate("2025-03-02"))
	assert.Equal(t, StandingLapsed, s.Status)
	var prev *RequirementResult
	for i := range s.Requirements {
		if s.Requirements[i].Name == "lead_professional.previous_year.foundation_a_supported" {
			prev = &s.Requirements[i]
		}
	}
	require.NotNil(t, prev)
	assert.Equal(t, "1 of 2 Foundation A courses supported in the certification year 2024-03-01 to 2025-02-28", prev.Missing)
}

func TestLeadPlusStanding(t *testing.T) {
	rb := RulebookV1()
	const seed = `newer seed: "remain active in Lead Plus or wider practitioner networks (minimum 2 engagements per year)"`
	const seedIndemnity = `newer seed: "Practitioners working independently or across organisations must ensure appropriate professional indemnity insurance"`
	base := func(h *history, w *world) {
		h.register("2024-01-01")
		h.award("2024-03-01", RoleLeadPlus)
		h.add("2024-03-02", &ProfessionalStandingEvidenced{Body: "HCPC", ValidUntil: MustDate("2026-01-01")})
		h.cpd("2024-04-01", CPDNetworkEngagement)
		h.add("2024-04-02", &PracticeSupportEvidenced{Summary: "mentored a colleague"})
		h.add("2024-05-01", &ReflectiveUpdateSubmitted{Kind: ReflectivePeriodicUpdate})
		h.add("2024-09-01", &ReflectiveUpdateSubmitted{Kind: ReflectivePeriodicUpdate})
	}
	independent := true
	tests := []struct {
		name   string
		seed   string
		build  func(h *history, w *world)
		on     string
		status StandingStatus
		unmet  []string
		next   string
	}{
		{"one network engagement early in the year", seed, base, "2024-10-15", StandingGood, []string{"lead_plus.network_engagements"}, "2024-12-30"},
		{"one network engagement at day 60", seed, base, "2024-12-30", StandingAtRisk, []string{"lead_plus.network_engagements"}, "2025-03-01"},
		{"two network engagements", seed, func(h *history, w *world) { base(h, w); h.cpd("2024-10-01", CPDNetworkEngagement) },
			"2024-12-30", StandingGood, nil, "2025-03-01"},
		{"professional standing expired", `newer seed: "evidence that you are maintaining professional standing with relevant organisations"`,
			func(h *history, w *world) {
				base(h, w)
				h.cpd("2024-10-01", CPDNetworkEngagement)
				h.facts[2].Event = &ProfessionalStandingEvidenced{Body: "HCPC", ValidUntil: MustDate("2024-10-31")}
			}, "2024-11-01", StandingAtRisk, []string{"lead_plus.professional_standing"}, "2024-12-30"},
		{"professional standing on its valid_until, next change the day after", `newer seed: "evidence that you are maintaining professional standing with relevant organisations"`,
			func(h *history, w *world) {
				base(h, w)
				h.cpd("2024-10-01", CPDNetworkEngagement)
				h.facts[2].Event = &ProfessionalStandingEvidenced{Body: "HCPC", ValidUntil: MustDate("2024-10-31")}
			}, "2024-10-31", StandingGood, nil, "2024-11-01"},
		{"working independently without indemnity", seedIndemnity, func(h *history, w *world) {
			base(h, w)
			h.cpd("2024-10-01", CPDNetworkEngagement)
			h.add("2024-06-01", &PractitionerDetailsChanged{Independent: &independent})
		}, "2024-10-02", StandingAtRisk, []string{"lead_plus.indemnity_insurance"}, "2024-12-30"},
		{"working independently with indemnity", seedIndemnity, func(h *history, w *world) {
			base(h, w)
			h.cpd("2024-10-01", CPDNetworkEngagement)
			h.add("2024-06-01", &PractitionerDetailsChanged{Independent: &independent})
			h.add("2024-06-01", &IndemnityInsuranceRecorded{Provider: "Mutual", ValidUntil: MustDate("2025-05-31")})
		}, "2024-10-02", StandingGood, nil, "2025-03-01"},
		{"working across two organisations without indemnity", seedIndemnity, func(h *history, w *world) {
			base(h, w)
			h.cpd("2024-10-01", CPDNetworkEngagement)
			h.join("2024-06-01", w.school)
			h.join("2024-06-01", w.hub)
		}, "2024-10-02", StandingAtRisk, []string{"lead_plus.indemnity_insurance"}, "2024-12-30"},
		{"a fact recorded ahead of its date is a next change", seed, func(h *history, w *world) {
			base(h, w)
			h.cpd("2024-11-05", CPDNetworkEngagement)
		}, "2024-10-15", StandingGood, []string{"lead_plus.network_engagements"}, "2024-11-05"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			h := newHistory(t)
			tt.build(h, w)
			s := rb.Standing(h.fold(), w.orgs(), MustDate(tt.on))
			assert.Equal(t, tt.status, s.Status, tt.seed)
			assert.Equal(t, tt.unmet, unmetNames(s), tt.seed)
			assert.Equal(t, tt.next, s.NextChange.String(), "next change")
		})
	}
}

func TestStandingNextChange(t *testing.T) {
	rb := RulebookV1()
	tests := []struct {
		name  string
		build func(h *history, w *world)
		on    string
		want  string
	}{
		{"nothing held, nothing due", func(h *history, w *world) { h.register("2024-01-01") }, "2024-06-01", ""},
		{"monthly training: the next month boundary", func(h *history, w *world) { leadProfessional(h, w); keepUp(h, "2024-03-01", "2025-02-28") }, "2024-09-20", "2024-10-01"},
		{"a fact already recorded for a later date", func(h *history, w *world) { leadProfessional(h, w); keepUp(h, "2024-03-01", "2025-02-28") }, "2024-09-10", "2024-09-15"},
		{"a licence's expiry", func(h *history, w *world) {
			h.licence("2024-03-01", "L1", LicenceLevel3A, "2024-11-30")
			h.cpd("2024-04-01", CPDLinkedCPD)
		}, "2024-10-15", "2024-12-01"},
		{"the year's end when all is met", func(h *history, w *world) {
			h.licence("2024-03-01", "L1", LicenceLevel3A, "2026-11-30")
			h.cpd("2024-04-01", CPDLinkedCPD)
		}, "2024-10-15", "2025-03-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			h := newHistory(t)
			tt.build(h, w)
			p := h.fold()
			on := MustDate(tt.on)
			s := rb.Standing(p, w.orgs(), on)
			assert.Equal(t, tt.want, s.NextChange.String())
			if s.NextChange.IsZero() {
				return
			}
			// Nothing changes before NextChange: the day before it gives the
			// same standing as on.
			before := rb.Standing(p, w.orgs(), s.NextChange.AddDays(-1))
			assert.Equal(t, s.Status, before.Status)
			assert.Equal(t, unmetNames(s), unmetNames(before))
		})
	}
}

func TestYearsBetween(t *testing.T) {
	tests := []struct {
		start, on string
		want      int
	}{
		{"2024-03-01", "2024-03-01", 0},
		{"2024-03-01", "2025-02-28", 0},
		{"2024-03-01", "2025-03-01", 1},
		{"2024-02-29", "2025-02-27", 0},
		{"2024-02-29", "2025-02-28", 1},
		{"2020-01-01", "2030-12-31", 10},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, yearsBetween(MustDate(tt.start), MustDate(tt.on)), "%s → %s", tt.start, tt.on)
	}
	_ = uuid.Nil
}

// TestConcurrentReads backs the claim that a folded Practitioner and a
// Rulebook are safe for concurrent reads (run with -race).
func TestConcurrentReads(t *testing.T) {
	rb := RulebookV1()
	w := newWorld()
	h := benchHistory(t, w, 300)
	p := h.fold()
	orgs := w.orgs()
	want := rb.Standing(p, orgs, MustDate("2026-11-20"))
	done := make(chan Standing, 8)
	for i := 0; i < 8; i++ {
		go func() {
			rb.Level(p, MustDate("2026-11-20"))
			rb.NextSteps(p, orgs, MustDate("2026-11-20"))
			done <- rb.Standing(p, orgs, MustDate("2026-11-20"))
		}()
	}
	for i := 0; i < 8; i++ {
		assert.Equal(t, want, <-done)
	}
}
