package domain

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
)

func TestEffectiveRetractions(t *testing.T) {
	const seed = `DOMAIN.md: "A mistake is never edited: it is corrected by a later event"`
	h := newHistory(t)
	course := h.courses("2024-01-01", CourseAwareness)[0]
	r1 := h.retract("2024-02-01", course)
	h.cpd("2024-02-02", CPDLinkedCPD)
	assert.Equal(t, map[uuid.UUID]uuid.UUID{course: r1}, EffectiveRetractions(h.facts), seed)

	r2 := h.retract("2024-03-01", r1)
	assert.Equal(t, map[uuid.UUID]uuid.UUID{r1: r2}, EffectiveRetractions(h.facts), "a retracted retraction restores its target")
	assert.Contains(t, courseSet(h.fold(), "2024-04-01"), CourseAwareness, "the fold applies the same rule")

	r3 := h.retract("2024-04-01", r2)
	assert.Equal(t, map[uuid.UUID]uuid.UUID{r2: r3, course: r1}, EffectiveRetractions(h.facts))
	assert.NotContains(t, courseSet(h.fold(), "2024-05-01"), CourseAwareness)

	assert.Nil(t, EffectiveRetractions(h.facts[:1]))
}
