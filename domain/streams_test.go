package domain

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
)

func TestStreamNames(t *testing.T) {
	id := uuid.MustParse("7d0c8f2e-1a3b-4c5d-8e9f-0a1b2c3d4e01")
	tests := []struct {
		stream string
		kind   StreamKind
		ok     bool
	}{
		// DOMAIN.md: "Each practitioner has one stream"
		{"practitioner-7d0c8f2e-1a3b-4c5d-8e9f-0a1b2c3d4e01", PractitionerStream, true},
		{"organisation-7d0c8f2e-1a3b-4c5d-8e9f-0a1b2c3d4e01", OrganisationStream, true},
		{"practitioner-7D0C8F2E-1A3B-4C5D-8E9F-0A1B2C3D4E01", 0, false},
		{"practitioner-7d0c8f2e1a3b4c5d8e9f0a1b2c3d4e01", 0, false},
		{"practitioner-7d0c8f2e-1a3b-4c5d-8e9f-0a1b2c3d4E01", 0, false},
		{"practitioner-{7d0c8f2e-1a3b-4c5d-8e9f-0a1b2c3d4e01}", 0, false},
		{"practitioner-urn:uuid:7d0c8f2e-1a3b-4c5d-8e9f-0a1b2c3d4e01", 0, false},
		{"practitioner-7d0c8f2e-1a3b-4c5d-8e9f-0a1b2c3d4e0g", 0, false},
		{"practitioner-7d0c8f2e-1a3b-4c5d-8e9f+0a1b2c3d4e01", 0, false},
		{"practitioner-", 0, false},
		{"$all", 0, false},
		{"courses-7d0c8f2e-1a3b-4c5d-8e9f-0a1b2c3d4e01", 0, false},
	}
	for _, tt := range tests {
		k, got, ok := ParseStream(tt.stream)
		assert.Equal(t, tt.ok, ok, tt.stream)
		assert.Equal(t, tt.kind, k, tt.stream)
		if ok {
			assert.Equal(t, id, got)
			assert.Equal(t, tt.stream, StreamName(k, got), "round trip")
		}
	}
	assert.Equal(t, []string{"practitioner-", "organisation-"}, StreamPrefixes())
}

func TestOrganisationsNamed(t *testing.T) {
	a, b := nextID(), nextID()
	facts := []Fact{
		{Event: &PractitionerJoinedOrganisation{OrganisationID: a}},
		{Event: &CourseCompleted{Course: CourseAwareness}},
		{Event: &SeniorLeadershipSupportRecorded{OrganisationID: a, EndorsedBy: "Head Teacher"}},
		{Event: &SuitabilityAgreed{OrganisationID: b, Role: RoleLeadPlus}},
		{Event: &PractitionerLeftOrganisation{OrganisationID: b}},
	}
	assert.Equal(t, []uuid.UUID{a, b}, OrganisationsNamed(facts))
}

// FuzzParseStream checks that ParseStream takes exactly the names
// StreamName writes: an id it accepts reads back as the same name.
func FuzzParseStream(f *testing.F) {
	f.Add("practitioner-7d0c8f2e-1a3b-4c5d-8e9f-0a1b2c3d4e01")
	f.Add("organisation-7D0C8F2E-1A3B-4C5D-8E9F-0A1B2C3D4E01")
	f.Add("practitioner-{7d0c8f2e-1a3b-4c5d-8e9f-0a1b2c3d4e01}")
	f.Fuzz(func(t *testing.T, stream string) {
		k, id, ok := ParseStream(stream)
		if ok && StreamName(k, id) != stream {
			t.Fatalf("%q parsed as %s %s", stream, StreamPrefix(k), id)
		}
		for _, k := range []StreamKind{PractitionerStream, OrganisationStream} {
			rest, found := strings.CutPrefix(stream, StreamPrefix(k))
			if id, err := uuid.Parse(rest); found && err == nil && id.String() == rest && !ok {
				t.Fatalf("%q refused", stream)
			}
		}
	})
}
