package domain

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLevel(t *testing.T) {
	rb := RulebookV1()
	level1 := []Course{CourseFoundationAPart1, CourseFoundationAPart2, CourseFoundationB}
	level2 := append(append([]Course{}, level1...), CourseIntermediateA, CourseIntermediateB)
	tests := []struct {
		name  string
		seed  string
		build func(h *history)
		on    string
		want  int
	}{
		{"registered is Awareness", `older seed: "Awareness Level - Introductions, Getting Started"`,
			func(h *history) { h.register("2024-01-01") }, "2024-01-01", 0},
		{"Foundation A both parts and B is level 1", `older seed: "Level 1 Foundation Level - fleshes out the I Matter Framework"`,
			func(h *history) { h.courses("2024-02-01", level1...) }, "2024-02-01", 1},
		{"the day before the last course is still level 0", `older seed: "Level 1 Foundation Level - fleshes out the I Matter Framework"`,
			func(h *history) { h.courses("2024-02-01", level1...) }, "2024-01-31", 0},
		{"Foundation A part 1 alone is not level 1", `older seed: "Level 1 Foundation Level - fleshes out the I Matter Framework"`,
			func(h *history) { h.courses("2024-02-01", CourseFoundationAPart1, CourseFoundationB) }, "2024-03-01", 0},
		{"a retracted course drops the level", `DOMAIN.md: "A mistake is never edited: it is corrected by a later event"`,
			func(h *history) {
				ids := h.courses("2024-02-01", level1...)
				h.retract("2024-02-05", ids[2])
			}, "2024-03-01", 0},
		{"Intermediate A and B on top of level 1 is level 2", `older seed: "Level 2 Intermediate Level - ensures a solid grasp of basics of child development"`,
			func(h *history) { h.courses("2024-02-01", level2...) }, "2024-02-01", 2},
		{"Intermediate A only stays level 1", `older seed: "Level 2 Intermediate Level - ensures a solid grasp of basics of child development"`,
			func(h *history) { h.courses("2024-02-01", append(level1, CourseIntermediateA)...) }, "2024-02-01", 1},
		{"a current Level 3 A licence is level 3", `older seed: "Level 3 Supporting Foundation course learning in house Every day Parenting"`,
			func(h *history) {
				h.courses("2024-02-01", level2...)
				h.licence("2024-03-01", "L3", LicenceLevel3A, "2025-02-28")
			}, "2025-02-28", 3},
		{"a Level 3 A licence on the day after expiry falls back to level 2", `DOMAIN.md: "A level that rests on a licence or certification falls when that licence is suspended, revoked or expired."`,
			func(h *history) {
				h.courses("2024-02-01", level2...)
				h.licence("2024-03-01", "L3", LicenceLevel3A, "2025-02-28")
			}, "2025-03-01", 2},
		{"a suspended Level 3 licence falls", `DOMAIN.md: "A level that rests on a licence or certification falls when that licence is suspended, revoked or expired."`,
			func(h *history) {
				h.courses("2024-02-01", level2...)
				h.licence("2024-03-01", "L3", LicenceLevel3B, "2025-02-28")
				h.add("2024-06-01", &LicenceSuspended{LicenceID: "L3", Reason: "r"})
			}, "2024-06-01", 2},
		{"Lead Professional certification is level 3", `DOMAIN.md levels table: "a current Level 3 A or B licence, or Lead Professional certification"`,
			func(h *history) { h.award("2024-03-01", RoleLeadProfessional) }, "2024-03-01", 3},
		{"a withdrawn Lead Professional falls", `DOMAIN.md: "A level that rests on a licence or certification falls"`,
			func(h *history) {
				h.award("2024-03-01", RoleLeadProfessional)
				h.add("2024-04-01", &CertificationWithdrawn{Role: RoleLeadProfessional, Reason: "r"})
			}, "2024-04-01", 0},
		{"a current Level 4 licence is level 4", `older seed: "Level 4 Embedding developmental thinking delivery into inhouse practice licences"`,
			func(h *history) { h.licence("2024-03-01", "L4", LicenceLevel4, "2025-02-28") }, "2024-03-01", 4},
		{"a current Level 5 licence is level 5", `older seed: "Level 5 Complex care co-ordination for inhouse practices and Community Trainer licences"`,
			func(h *history) {
				h.licence("2024-03-01", "L4", LicenceLevel4, "2025-02-28")
				h.licence("2024-03-01", "L5", LicenceLevel5, "2025-02-28")
			}, "2024-03-01", 5},
		{"a revoked Level 5 licence falls to the Level 4", `DOMAIN.md: "A level that rests on a licence or certification falls when that licence is suspended, revoked or expired."`,
			func(h *history) {
				h.licence("2024-03-01", "L4", LicenceLevel4, "2025-02-28")
				h.licence("2024-03-01", "L5", LicenceLevel5, "2025-02-28")
				h.add("2024-05-01", &LicenceRevoked{LicenceID: "L5", Reason: "r"})
			}, "2024-05-01", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistory(t)
			tt.build(h)
			got := rb.Level(h.fold(), MustDate(tt.on))
			assert.Equal(t, tt.want, got.Level, tt.seed)
			assert.NotEmpty(t, got.Name)
			if tt.want > 0 {
				assert.NotEmpty(t, got.Evidence, "a level above 0 cites what it rests on")
			}
			assertTerseAgrees(t, h.fold(), MustDate(tt.on))
		})
	}
}

// assertTerseAgrees checks that the terse evaluation Level uses, which
// leaves missing unwritten, gives every level requirement of every
// rulebook the same met, evidence and final as the full evaluation, the
// day before, on and after on.
func assertTerseAgrees(t *testing.T, p *Practitioner, on Date) {
	t.Helper()
	for _, rb := range []*Rulebook{RulebookV1(), RulebookV1_1()} {
		for _, d := range []Date{on.AddDays(-1), on, on.AddDays(1)} {
			for i := range rb.Levels {
				r := &rb.Levels[i].Requirement
				full := evaluate(r, &evalCtx{rb: rb, p: p, on: d})
				terse := evaluate(r, &evalCtx{rb: rb, p: p, on: d, terse: true})
				assert.Equal(t, full.met, terse.met, "%s %s on %s", rb.Version, r.Name, d)
				assert.Equal(t, full.evidence, terse.evidence, "%s %s on %s", rb.Version, r.Name, d)
				assert.Equal(t, full.final, terse.final, "%s %s on %s", rb.Version, r.Name, d)
				if !full.met {
					assert.NotEmpty(t, full.missing, "the full evaluation says why")
				}
			}
		}
	}
}
