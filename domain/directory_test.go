package domain

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestListings(t *testing.T) {
	rb := NewRulebooks().Current()
	consent := func(h *history, on string, d Directory) { h.add(on, &DirectoryListingConsented{Directory: d}) }
	tests := []struct {
		name     string
		seed     string
		build    func(h *history)
		standing StandingStatus
		want     []Directory
	}{
		{"a consenting trainee is on the informed directory", `older seed: "Professionals on our Lead Professional/Advanced Practitioner program can be listed on the I Matter informed directory if they would like this"`,
			func(h *history) {
				h.register("2024-01-01")
				h.add("2024-02-01", &TraineeshipStarted{Role: RoleLeadProfessional})
				consent(h, "2024-02-02", DirectoryInformed)
			}, StandingGood, []Directory{DirectoryInformed}},
		{"without consent, nobody is listed", `DOMAIN.md: "A practitioner appears in a directory only with consent"`,
			func(h *history) {
				h.register("2024-01-01")
				h.award("2024-02-01", RoleLeadProfessional)
			}, StandingGood, nil},
		{"a withdrawn consent takes them off", `DOMAIN.md: "A practitioner appears in a directory only with consent"`,
			func(h *history) {
				h.register("2024-01-01")
				h.award("2024-02-01", RoleLeadProfessional)
				consent(h, "2024-02-02", DirectoryInformed)
				h.add("2024-03-01", &DirectoryListingWithdrawn{Directory: DirectoryInformed})
			}, StandingGood, nil},
		{"an at-risk Lead Professional stays listed", `DOMAIN.md: "in good or at_risk standing"`,
			func(h *history) {
				h.register("2024-01-01")
				h.award("2024-02-01", RoleLeadProfessional)
				consent(h, "2024-02-02", DirectoryInformed)
			}, StandingAtRisk, []Directory{DirectoryInformed}},
		{"a lapsed Lead Professional drops off", `DOMAIN.md: "a lapsed, suspended or withdrawn practitioner drops off until restored"`,
			func(h *history) {
				h.register("2024-01-01")
				h.award("2024-02-01", RoleLeadProfessional)
				consent(h, "2024-02-02", DirectoryInformed)
			}, StandingLapsed, nil},
		{"an Informed Practitioner is not on the informed directory", `DOMAIN.md: "those on the Lead Professional / Advanced Practitioner programme: trainees and certified Lead Professionals"`,
			func(h *history) {
				h.register("2024-01-01")
				h.award("2024-02-01", RoleInformedPractitioner)
				consent(h, "2024-02-02", DirectoryInformed)
			}, StandingGood, nil},
		{"a Lead Plus Professional in locality hub and organisational directories", `newer seed: "Certified Lead Plus Professionals may be listed in approved organisational or network directories where applicable."`,
			func(h *history) {
				h.register("2024-01-01")
				h.award("2024-02-01", RoleLeadPlus)
				consent(h, "2024-02-02", DirectoryLocalityHub)
				consent(h, "2024-02-02", DirectoryOrganisational)
				consent(h, "2024-02-02", DirectoryIndependent)
			}, StandingGood, []Directory{DirectoryLocalityHub, DirectoryOrganisational}},
		{"the independent directory only for those working independently", `DOMAIN.md: "` + "`independent`" + ` only for those recorded as working independently."`,
			func(h *history) {
				h.add("2024-01-01", &PractitionerRegistered{Name: "Robin Testperson", Profession: ProfessionHealth, Independent: true})
				h.award("2024-02-01", RoleLeadPlus)
				consent(h, "2024-02-02", DirectoryIndependent)
			}, StandingGood, []Directory{DirectoryIndependent}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistory(t)
			tt.build(h)
			assert.Equal(t, tt.want, rb.Listings(h.fold(), tt.standing, MustDate("2024-06-01")), tt.seed)
		})
	}
}
