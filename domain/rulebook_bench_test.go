package domain

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// benchHistory builds a Lead Plus Professional's stream of about n facts
// over four years: the pathway, a licence renewed yearly, and monthly
// maintenance evidence, with a retraction now and then. It holds the
// requirement-heavy case: a trainee year, Lead Professional, Lead Plus and
// a licence, all with maintenance.
func benchHistory(tb testing.TB, w *world, n int) *history {
	h := newHistory(tb)
	certifiableLeadPlus(h, w)
	h.add("2025-06-01", &ProfessionalStandingEvidenced{Body: "HCPC", ValidUntil: MustDate("2027-06-01")})
	h.award("2025-06-01", RoleLeadPlus)
	h.licence("2023-03-01", "L1", LicenceLevel3A, "2024-02-29")
	for y := 2024; y <= 2027; y++ {
		h.add(fmt.Sprintf("%d-02-20", y), &LicenceRenewed{LicenceID: "L1", ValidUntil: NewDate(y+1, 2, 28)})
	}
	kinds := []Event{
		&CPDEngagementRecorded{Kind: CPDPractitionerDevelopment, Hours: 2},
		&CPDEngagementRecorded{Kind: CPDNetworkEngagement, Hours: 1},
		&CPDEngagementRecorded{Kind: CPDLinkedCPD, Hours: 3},
		&StudyGroupRun{GroupID: "G", Course: GroupFoundationA, Participants: 8},
		&ParticipantFeedbackGathered{GroupID: "G", Responses: 7},
		&ReflectiveUpdateSubmitted{Kind: ReflectiveLogBook},
		&ReflectiveUpdateSubmitted{Kind: ReflectivePeriodicUpdate},
		&PracticeSupportEvidenced{Summary: "supported a colleague"},
		&ActionPlanSubmitted{Year: 2025, BudgetIncluded: true},
		&TrackerAssessmentRecorded{Summary: "team planning"},
	}
	day := MustDate("2023-03-02")
	for i := 0; len(h.facts) < n; i++ {
		id := h.add(day.String(), kinds[i%len(kinds)])
		if i%97 == 0 {
			h.retract(day.String(), id)
		}
		day = day.AddDays(3)
	}
	return h
}

func BenchmarkStanding500(b *testing.B) {
	rb := NewRulebooks().Current()
	w := newWorld()
	h := benchHistory(b, w, 500)
	orgs := w.orgs()
	on := MustDate("2026-11-20")
	p := h.fold()
	s := rb.Standing(p, orgs, on)
	require.Len(b, s.Held, 3, "Lead Professional, Lead Plus and the licence")
	b.Run("folded", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rb.Standing(p, orgs, on)
		}
	})
	b.Run("fold+standing", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			q, err := Fold(h.id, h.facts)
			if err != nil {
				b.Fatal(err)
			}
			rb.Standing(q, orgs, on)
		}
	})
	b.Run("level+roles+licences+nextsteps", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rb.Level(p, on)
			p.RolesHeld(on)
			p.Licences(on)
			rb.NextSteps(p, orgs, on)
		}
	})
}

// BenchmarkFold1M folds 1,000,000 facts: 2,000 practitioners' streams of
// 500 facts each, as a projection rebuild does.
func BenchmarkFold1M(b *testing.B) {
	w := newWorld()
	const streams, perStream = 2000, 500
	h := benchHistory(b, w, perStream)
	all := make([][]Fact, streams)
	for s := range all {
		facts := make([]Fact, len(h.facts))
		copy(facts, h.facts)
		all[s] = facts
	}
	total := streams * len(h.facts)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for s := range all {
			if _, err := Fold(h.id, all[s]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(total), "events/op")
}

func BenchmarkDecide(b *testing.B) {
	rb := NewRulebooks().Current()
	w := newWorld()
	h := benchHistory(b, w, 500)
	p := h.fold()
	orgs := w.orgs()
	e := &CertificationAwarded{Role: RoleSeniorLink}
	on := MustDate("2026-11-20")
	b.ReportAllocs()
	for b.Loop() {
		rb.EvaluateDecision(p, orgs, e, on)
	}
}
