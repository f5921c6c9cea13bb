package domain

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func stepSummary(steps []NextStep) map[string][]string {
	out := map[string][]string{}
	for _, s := range steps {
		var names []string
		for _, m := range s.Missing {
			names = append(names, m.Name)
		}
		out[s.Subject] = names
	}
	return out
}

func TestNextSteps(t *testing.T) {
	rb := RulebookV1()
	tests := []struct {
		name  string
		seed  string
		build func(h *history, w *world)
		on    string
		want  map[string][]string
	}{
		{"a Participant: Level 1 for Informed Practitioner", `newer seed: "Participant – entry into learning journey"`,
			func(h *history, w *world) { h.register("2024-01-01") }, "2024-01-02",
			map[string][]string{"CertificationAwarded informed_practitioner": {"level_1"}}},
		{"Level 1 done: ready for Informed Practitioner", `newer seed: "I Matter Informed Practitioner – understands and applies the framework"`,
			func(h *history, w *world) { h.register("2024-01-01"); h.courses("2024-02-01", level1Courses...) }, "2024-02-02",
			map[string][]string{"CertificationAwarded informed_practitioner": nil}},
		{"a Link Professional: the trainee application comes first", `older seed: "You then apply to become a trainee"`,
			func(h *history, w *world) {
				inSchool(h, w)
				h.courses("2022-06-01", level1Courses...)
				h.award("2022-07-01", RoleInformedPractitioner)
				h.award("2022-08-01", RoleLinkProfessional)
			}, "2022-09-01",
			map[string][]string{
				"ApplicationDecided trainee_lead_professional accepted": {"application_submitted", "supportive_references", "interview_passed", "advanced_programme_entry"},
				"CertificationAwarded lead_professional": {"foundation_and_intermediate", "facilitator_mechanics", "lead_professional_course", "trainee_application_accepted",
					"trainee_year_completed", "two_groups_run", "learning_log_book"},
			}},
		{"a fast-track application is evaluated as one", `older seed: "we sometimes offer a fast track on completion of Foundation A and B"`,
			func(h *history, w *world) {
				inSchool(h, w)
				h.courses("2022-06-01", level1Courses...)
				h.award("2022-07-01", RoleInformedPractitioner)
				h.award("2022-08-01", RoleLinkProfessional)
				h.applyFor("2022-08-15", "APP-1", ApplyTraineeLeadProfessional, true)
			}, "2022-09-01",
			map[string][]string{
				"ApplicationDecided trainee_lead_professional accepted": nil,
				"CertificationAwarded lead_professional": {"foundation_and_intermediate", "facilitator_mechanics", "lead_professional_course", "trainee_application_accepted",
					"trainee_year_completed", "two_groups_run", "learning_log_book"},
			}},
		{"a suspended role is not a step taken", `DOMAIN.md: "an explicit decision says so"`,
			func(h *history, w *world) {
				h.courses("2022-06-01", level1Courses...)
				h.award("2022-07-01", RoleInformedPractitioner)
				h.add("2022-08-01", &CertificationSuspended{Role: RoleInformedPractitioner, Reason: "r"})
			}, "2022-09-01",
			map[string][]string{"CertificationAwarded informed_practitioner": nil}},
		{"a Senior Link Professional is at the end of the pathway", `newer seed: "Senior Link Professional – supports organisational alignment and programme oversight"`,
			func(h *history, w *world) { h.award("2022-07-01", RoleSeniorLink) }, "2022-09-01", map[string][]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			h := newHistory(t)
			tt.build(h, w)
			steps := rb.NextSteps(h.fold(), w.orgs(), MustDate(tt.on))
			assert.Equal(t, tt.want, stepSummary(steps), tt.seed)
			for _, s := range steps {
				assert.Equal(t, len(s.Missing) == 0, s.Ready)
				require.NotEmpty(t, s.Role)
			}
		})
	}
}
