package domain

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEvaluateInStream: the one recipe folds the stream and what it names.
func TestEvaluateInStream(t *testing.T) {
	rb := NewRulebooks().Current()
	const seed = `older seed: "we have made a current decision to only licence professionals as Lead Practitioners if they are working with a registered school or service"`
	w := newWorld()
	h := newHistory(t)
	inSchool(h, w)
	h.courses("2022-06-01", level2Courses...)
	h.courses("2022-06-01", CourseStudySupporterPreparation)
	h.add("2022-12-01", &TraineeshipStarted{Role: RoleLeadProfessional})
	stream := StreamName(PractitionerStream, h.id)
	g := grant("L3", LicenceLevel3A, "")
	on := MustDate("2023-01-01")

	known := DecisionInputs{Organisation: func(id uuid.UUID) (*Organisation, error) { return w.orgs()[id], nil }}
	ev, err := rb.DecideInStream(stream, h.facts, g, on, known)
	require.NoError(t, err, seed)
	assert.True(t, ev.Met)

	unknown := DecisionInputs{Organisation: func(uuid.UUID) (*Organisation, error) { return nil, nil }}
	ev, err = rb.DecideInStream(stream, h.facts, g, on, unknown)
	assert.Equal(t, EREFUSED, ErrorCode(err), "an organisation the caller cannot find is unknown to the rules: %s", seed)
	assert.False(t, ev.Met)
	ev, err = rb.EvaluateInStream(stream, h.facts, g, on, unknown)
	assert.NoError(t, err, "evaluating is not deciding: no refusal")
	assert.False(t, ev.Met)

	_, err = rb.EvaluateInStream("courses-1", h.facts, g, on, known)
	assert.Error(t, err)

	// An organisation's decision reads its members.
	org := w.school
	ostream := StreamName(OrganisationStream, org.ID)
	ofacts := []Fact{{ID: nextID(), OccurredOn: MustDate("2020-01-01"), Event: &OrganisationRegistered{Name: "Fellside Primary", Kind: OrgSchool, RegisteredService: true}}}
	og := &LicenceGranted{LicenceID: "SCH-1", Kind: LicenceOrganisational, ValidUntil: MustDate("2024-12-31"), Decision: Decision{DecidedBy: "QC Lead", Rationale: "r"}}
	members := DecisionInputs{Members: func(id uuid.UUID) ([]*Practitioner, error) {
		assert.Equal(t, org.ID, id)
		return []*Practitioner{h.fold()}, nil
	}}
	ev, err = rb.EvaluateInStream(ostream, ofacts, og, on, members)
	require.NoError(t, err)
	assert.True(t, ev.Met, `older seed: "an organisational licence to a school or service requires a commitment to the thinking involved from senior leadership teams"`)
	ev, err = rb.EvaluateInStream(ostream, ofacts, og, on, DecisionInputs{})
	require.NoError(t, err)
	assert.False(t, ev.Met, "no members, no commitment")
}

// TestLicenceIDAcrossTheLedger: under v1.1 a licence_id granted in another
// stream is outside the rules too, and the refusal names that grant; v1
// does not ask. A retracted grant elsewhere does not count.
func TestLicenceIDAcrossTheLedger(t *testing.T) {
	const cite = `DOMAIN.md: "` + "`LicenceGranted` with a `licence_id` already granted are outside the rules (422 unless an exception)" + `"`
	other := newHistory(t)
	first := other.add("2024-03-01", grant("SHARED-1", LicenceInformalUse, ""))
	retracted := newHistory(t)
	retracted.retract("2024-04-01", retracted.add("2024-03-01", grant("SHARED-1", LicenceInformalUse, "")))

	h := newHistory(t)
	h.courses("2024-01-01", CourseFoundationAPart1)
	stream := StreamName(PractitionerStream, h.id)
	on := MustDate("2024-06-01")
	elsewhere := func(hs ...*history) DecisionInputs {
		return DecisionInputs{LicenceGrants: func(id string) ([]uuid.UUID, error) {
			var out []uuid.UUID
			for _, o := range hs {
				out = append(out, LicenceGrantsIn(o.facts, id)...)
			}
			return out, nil
		}}
	}
	v1, _ := RulebooksWithCurrent("v1")
	tests := []struct {
		name     string
		rb       *Rulebook
		in       DecisionInputs
		licence  string
		met      bool
		evidence []uuid.UUID
	}{
		{"granted to another practitioner: refused, naming that grant", NewRulebooks().Current(), elsewhere(other), "SHARED-1", false, []uuid.UUID{first}},
		{"another licence_id: met", NewRulebooks().Current(), elsewhere(other), "OWN-1", true, nil},
		{"a grant elsewhere that was retracted does not count", NewRulebooks().Current(), elsewhere(retracted), "SHARED-1", true, nil},
		{"a caller that cannot look: the stream only", NewRulebooks().Current(), DecisionInputs{}, "SHARED-1", true, nil},
		{"rulebook v1 does not ask", v1.Current(), elsewhere(other), "SHARED-1", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := tt.rb.DecideInStream(stream, h.facts, grant(tt.licence, LicenceInformalUse, ""), on, tt.in)
			if tt.met {
				require.NoError(t, err, cite)
				assert.True(t, ev.Met, cite)
				return
			}
			assert.Equal(t, EREFUSED, ErrorCode(err), cite)
			var found bool
			for _, r := range ev.Requirements {
				if r.Name == "licence_id_not_granted" {
					found = true
					assert.False(t, r.Met, cite)
					assert.Equal(t, tt.evidence, r.Evidence, "the refusal names the grant elsewhere")
				}
			}
			assert.True(t, found)
		})
	}
}
