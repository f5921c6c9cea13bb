package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Fixed, fictional values: the practitioners are adults made up for tests.
var (
	catOrgID      = uuid.MustParse("6f1c1f0e-2b7a-4d1e-9a51-0c2f3e4d5a61")
	catPractID    = uuid.MustParse("2d9e8f7a-1b2c-4d3e-8f9a-0b1c2d3e4f50")
	catDecisionID = uuid.MustParse("9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d")
	catOn         = MustDate("2025-03-10")
)

func catPtr[T any](v T) *T { return &v }

func catDecision() Decision {
	return Decision{DecidedBy: "Quality Lead Ada Example", Rationale: "All requirements met per the evidence on file."}
}

// catSamples returns one valid new event of every registered type, keyed
// by type name, each valid on catOn. TestSamplesCoverRegistry keeps it
// complete.
func catSamples() map[string]Event {
	return map[string]Event{
		TypePractitionerRegistered:          &PractitionerRegistered{Name: "Ada Example", Email: "ada@example.org", Profession: ProfessionEducation},
		TypePractitionerDetailsChanged:      &PractitionerDetailsChanged{Email: catPtr("ada.example@example.org"), Independent: catPtr(true)},
		TypeOrganisationRegistered:          &OrganisationRegistered{Name: "Example Primary School", Kind: OrgSchool, RegisteredService: true},
		TypePractitionerJoinedOrganisation:  &PractitionerJoinedOrganisation{OrganisationID: catOrgID},
		TypePractitionerLeftOrganisation:    &PractitionerLeftOrganisation{OrganisationID: catOrgID},
		TypeSeniorLeadershipSupportRecorded: &SeniorLeadershipSupportRecorded{OrganisationID: catOrgID, EndorsedBy: "Head Teacher B. Sample"},
		TypeSuitabilityAgreed:               &SuitabilityAgreed{OrganisationID: catOrgID, Role: RoleLeadPlus},
		TypeCourseCompleted:                 &CourseCompleted{Course: CourseFoundationAPart1, DeliveredBy: "I Matter central team"},
		TypeCPDEngagementRecorded:           &CPDEngagementRecorded{Kind: CPDNetworkEngagement, Hours: 2.5, Title: "Network meeting, CPD 2025"},
		TypeReflectiveUpdateSubmitted:       &ReflectiveUpdateSubmitted{Kind: ReflectiveJournal, Summary: "Reflected on the Year 2 group."},
		TypeParticipantFeedbackGathered:     &ParticipantFeedbackGathered{GroupID: "FA-2025-001", Responses: 11},
		TypeActionPlanSubmitted:             &ActionPlanSubmitted{Year: 2025, BudgetIncluded: true},
		TypeStudyGroupRun:                   &StudyGroupRun{GroupID: "FA-2025-001", Course: GroupFoundationA, Audience: AudienceParents, Participants: 12, Registered: true},
		TypeTrackerAssessmentRecorded:       &TrackerAssessmentRecorded{Summary: "Tracker used with a class group; no individual details."},
		TypePracticeSupportEvidenced:        &PracticeSupportEvidenced{Summary: "Co-facilitated two sessions.", SupportedPractitionerID: catPtr(catPractID)},
		TypeProfessionalStandingEvidenced:   &ProfessionalStandingEvidenced{Body: "Example Professional Council", ValidUntil: MustDate("2026-03-09")},
		TypeIndemnityInsuranceRecorded:      &IndemnityInsuranceRecorded{Provider: "Example Mutual", ValidUntil: MustDate("2026-03-09")},
		TypeApplicationSubmitted:            &ApplicationSubmitted{ApplicationID: "APP-2025-0042", Role: ApplyLeadPlus},
		TypeReferenceReceived:               &ReferenceReceived{ApplicationID: "APP-2025-0042", Supportive: true},
		TypeInterviewHeld:                   &InterviewHeld{ApplicationID: "APP-2025-0042", Outcome: InterviewPassed},
		TypeApplicationDecided:              &ApplicationDecided{ApplicationID: "APP-2025-0042", Outcome: ApplicationAccepted, FastTrack: true, Decision: Decision{DecidedBy: "Panel chair C. Sample", Rationale: "Fast track: the school benefits now.", Exception: true}},
		TypeTraineeshipStarted:              &TraineeshipStarted{Role: RoleLeadProfessional},
		TypeCertificationAwarded:            &CertificationAwarded{Role: RoleLeadProfessional, Decision: catDecision()},
		TypeCertificationSuspended:          &CertificationSuspended{Role: RoleLeadProfessional, Reason: "Licence lapsed.", Decision: catDecision()},
		TypeCertificationReinstated:         &CertificationReinstated{Role: RoleLeadProfessional, Reason: "Licence renewed.", Decision: catDecision()},
		TypeCertificationWithdrawn:          &CertificationWithdrawn{Role: RoleLeadProfessional, Reason: "Left the programme.", Decision: catDecision()},
		TypeLicenceGranted:                  &LicenceGranted{LicenceID: "L3A-0007", Kind: LicenceLevel3A, Scope: ScopeEverydayParenting, ValidUntil: MustDate("2026-03-09"), Decision: catDecision()},
		TypeLicenceRenewed:                  &LicenceRenewed{LicenceID: "L3A-0007", ValidUntil: MustDate("2027-03-09"), Decision: catDecision()},
		TypeLicenceSuspended:                &LicenceSuspended{LicenceID: "L3A-0007", Reason: "Subscription unpaid.", Decision: catDecision()},
		TypeLicenceReinstated:               &LicenceReinstated{LicenceID: "L3A-0007", Reason: "Subscription paid.", Decision: catDecision()},
		TypeLicenceRevoked:                  &LicenceRevoked{LicenceID: "L3A-0007", Reason: "Organisation closed.", Decision: catDecision()},
		TypeDirectoryListingConsented:       &DirectoryListingConsented{Directory: DirectoryInformed},
		TypeDirectoryListingWithdrawn:       &DirectoryListingWithdrawn{Directory: DirectoryInformed},
		TypeDecisionReviewed:                &DecisionReviewed{DecisionEventID: catDecisionID, Outcome: ReviewUpheld, Notes: "Consistent with the evidence."},
		TypeEventRetracted:                  &EventRetracted{RetractedEventID: catDecisionID, Reason: "Recorded against the wrong practitioner."},
		TypePersonalDataErased:              &PersonalDataErased{Reason: "Erasure requested by the practitioner."},
	}
}

func TestSamplesCoverRegistry(t *testing.T) {
	samples := catSamples()
	assert.ElementsMatch(t, Types(), slices.Collect(maps.Keys(samples)), "one sample per registered type")
	for typ, ev := range samples {
		t.Run(typ, func(t *testing.T) {
			assert.Equal(t, typ, ev.EventType())
			assert.NoError(t, ev.Validate())
			assert.NoError(t, ValidateFact(Fact{OccurredOn: catOn, Event: ev}))
		})
	}
}

func TestRegistry(t *testing.T) {
	types := Types()
	require.Len(t, types, 36, "DOMAIN.md's catalogue has 35 event types, and issue 14 adds PersonalDataErased")
	assert.True(t, slices.IsSorted(types))
	types[0] = "scribbled"
	assert.NotEqual(t, "scribbled", Types()[0], "Types returns a copy")

	// Streams and decision flags from the catalogue's table.
	tests := []struct {
		typ      string
		version  uint16
		streams  StreamKind
		decision bool
	}{
		{TypePractitionerRegistered, 1, PractitionerStream, false},
		{TypeOrganisationRegistered, 1, OrganisationStream, false},
		{TypeCourseCompleted, 1, PractitionerStream, false},
		{TypeProfessionalStandingEvidenced, 2, PractitionerStream, false},
		{TypeApplicationDecided, 1, PractitionerStream, true},
		{TypeCertificationAwarded, 1, PractitionerStream, true},
		{TypeCertificationWithdrawn, 1, PractitionerStream, true},
		{TypeLicenceGranted, 1, PractitionerStream | OrganisationStream, true},
		{TypeLicenceRevoked, 1, PractitionerStream | OrganisationStream, true},
		{TypeDecisionReviewed, 1, PractitionerStream | OrganisationStream, false},
		{TypeEventRetracted, 1, PractitionerStream | OrganisationStream, false},
		{TypeDirectoryListingConsented, 1, PractitionerStream, false},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			info, ok := Lookup(tt.typ)
			require.True(t, ok)
			assert.Equal(t, tt.typ, info.Type)
			assert.Equal(t, tt.version, info.Version)
			assert.Equal(t, tt.streams, info.Streams)
			assert.Equal(t, tt.decision, info.Decision)
			assert.Equal(t, tt.streams&PractitionerStream != 0, info.AllowedIn(PractitionerStream))
			assert.Equal(t, tt.streams&OrganisationStream != 0, info.AllowedIn(OrganisationStream))
		})
	}

	for _, typ := range types[1:] {
		info, ok := Lookup(typ)
		require.True(t, ok, typ)
		ev := info.New()
		assert.Equal(t, typ, ev.EventType())
		_, isDecision := DecisionOf(ev)
		assert.Equal(t, info.Decision, isDecision, typ)
		assert.NotZero(t, info.Streams, typ)
	}
	_, ok := Lookup("CourseStarted")
	assert.False(t, ok)
	assert.Equal(t, "practitioner|organisation", (PractitionerStream | OrganisationStream).String())
}

func TestBuildRegistryRefusesMistakes(t *testing.T) {
	mk := func() Event { return &ProfessionalStandingEvidenced{} }
	tests := []struct {
		name    string
		entries map[string]entry
		ups     map[string]map[uint16]upcaster
	}{
		{"name does not match type", map[string]entry{"Other": {mk, 1, PractitionerStream, false}}, nil},
		{"decision flag wrong", map[string]entry{TypeProfessionalStandingEvidenced: {mk, 1, PractitionerStream, true}}, nil},
		{"version without upcaster", map[string]entry{TypeProfessionalStandingEvidenced: {mk, 3, PractitionerStream, false}}, upcasters},
		{"upcaster for current version", map[string]entry{TypeProfessionalStandingEvidenced: {mk, 1, PractitionerStream, false}}, upcasters},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Panics(t, func() { buildRegistry(tt.entries, tt.ups) })
		})
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for typ, ev := range catSamples() {
		t.Run(typ, func(t *testing.T) {
			data, version, err := Encode(ev)
			require.NoError(t, err)
			info, _ := Lookup(typ)
			assert.Equal(t, info.Version, version)

			stored, err := DecodeStored(typ, version, data)
			require.NoError(t, err)
			assert.Equal(t, ev, stored)

			fresh, err := DecodeNew(typ, data)
			require.NoError(t, err)
			assert.Equal(t, ev, fresh)
		})
	}
}

type notRegistered struct{ CourseCompleted }

func (notRegistered) EventType() string { return "NotRegistered" }

type impostor struct{ Course string }

func (impostor) EventType() string { return TypeCourseCompleted }
func (impostor) Validate() error   { return nil }

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
	}{
		{"nil", nil},
		{"nil pointer", (*CourseCompleted)(nil)},
		{"unregistered type", &notRegistered{}},
		{"registered name, other Go type", impostor{Course: "awareness"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Encode(tt.ev)
			assert.Error(t, err)
		})
	}
}

func TestDecodeNewErrors(t *testing.T) {
	tests := []struct {
		name    string
		typ     string
		data    string
		field   string
		message string // a substring of the message
	}{
		{"unknown type", "CourseStarted", `{"course":"awareness"}`, "type", `"CourseStarted" is not an event type`},
		{"missing type", "", `{}`, "type", "is required"},
		{"empty body", TypeCourseCompleted, ``, "data", "is required"},
		{"blank body", TypeCourseCompleted, " \n", "data", "is required"},
		{"null body", TypeCourseCompleted, `null`, "data", "is required"},
		{"array body", TypeCourseCompleted, `[{"course":"awareness"}]`, "data", "must be a JSON object"},
		{"string body", TypeCourseCompleted, `"awareness"`, "data", "must be a JSON object"},
		{"trailing data", TypeCourseCompleted, `{"course":"awareness"} x`, "data", "exactly one JSON object"},
		{"two objects", TypeCourseCompleted, `{"course":"awareness"}{"course":"awareness"}`, "data", "exactly one JSON object"},
		{"truncated", TypeCourseCompleted, `{"course":"awareness"`, "data", "ends too soon"},
		{"syntax error", TypeCourseCompleted, `{"course":awareness}`, "data", "not valid JSON"},
		{"unknown field", TypeCourseCompleted, `{"course":"awareness","grade":"A"}`, "data.grade", "is not a field of CourseCompleted; its fields are course, delivered_by"},
		{"key in the wrong case", TypeCourseCompleted, `{"Course":"awareness"}`, "data.Course", "is not a field"},
		{"repeated key", TypeCourseCompleted, `{"course":"awareness","course":"level3"}`, "data.course", "appears more than once"},
		{"string for a number", TypeCPDEngagementRecorded, `{"kind":"linked_cpd","hours":"two"}`, "data.hours", "must be a number, not text"},
		{"fraction for a whole number", TypeActionPlanSubmitted, `{"year":2025.5,"budget_included":true}`, "data.year", "must be a whole number, not the number 2025.5"},
		{"number for text", TypeCourseCompleted, `{"course":7}`, "data.course", "must be text, not the number"},
		{"string for a bool", TypeOrganisationRegistered, `{"name":"Example School","kind":"school","registered_service":"yes"}`, "data.registered_service", "must be true or false, not text"},
		{"bad date", TypeIndemnityInsuranceRecorded, `{"provider":"Example Mutual","valid_until":"2026-02-30"}`, "data.valid_until", `"2026-02-30" is not a date in the form YYYY-MM-DD`},
		{"date in another form", TypeIndemnityInsuranceRecorded, `{"provider":"Example Mutual","valid_until":"09/03/2026"}`, "data.valid_until", "YYYY-MM-DD"},
		{"number for a date", TypeIndemnityInsuranceRecorded, `{"provider":"Example Mutual","valid_until":20260309}`, "data.valid_until", "must be a date as YYYY-MM-DD"},
		{"bad uuid", TypePractitionerJoinedOrganisation, `{"organisation_id":"org-7"}`, "data.organisation_id", "must be an id in UUID form"},
		{"enum value", TypeCourseCompleted, `{"course":"foundation_c"}`, "data.course", `"foundation_c" is not one of awareness, foundation_a_part1, foundation_a_part2`},
		{"required field missing", TypeCourseCompleted, `{}`, "data.course", "is required"},
		{"personal data", TypeReflectiveUpdateSubmitted, `{"kind":"log_book","summary":"call 07700 900123"}`, "data.summary", "a phone number"},
		{"client-supplied rulebook version", TypeCertificationAwarded, `{"role":"lead_plus","decided_by":"Panel","rationale":"Met.","rulebook_version":"v1"}`, "data.rulebook_version", "filled in by the ledger"},
		{"client-supplied evaluation", TypeCertificationAwarded, `{"role":"lead_plus","decided_by":"Panel","rationale":"Met.","evaluation":{"met":true}}`, "data.evaluation", "filled in by the ledger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := DecodeNew(tt.typ, []byte(tt.data))
			require.Error(t, err)
			assert.Nil(t, ev)
			assert.Equal(t, EINVALID, ErrorCode(err))
			assert.Equal(t, tt.field, ErrorField(err))
			assert.Contains(t, ErrorMessage(err), tt.message)
		})
	}
}

func TestDecodeNewAcceptsAbsentOptionalFields(t *testing.T) {
	ev, err := DecodeNew(TypeCourseCompleted, []byte(` {"course":"level3"} `))
	require.NoError(t, err)
	assert.Equal(t, &CourseCompleted{Course: CourseLevel3}, ev)
}

func TestDecodeStored(t *testing.T) {
	tests := []struct {
		name    string
		typ     string
		version uint16
		data    string
		want    Event
	}{
		{"current version", TypeCourseCompleted, 1, `{"course":"awareness"}`, &CourseCompleted{Course: CourseAwareness}},
		{"version 0 is read as 1", TypeCourseCompleted, 0, `{"course":"awareness"}`, &CourseCompleted{Course: CourseAwareness}},
		{"unknown fields are ignored", TypeCourseCompleted, 1, `{"course":"awareness","venue":"hall"}`, &CourseCompleted{Course: CourseAwareness}},
		{"rules are not applied to history", TypeCourseCompleted, 1, `{"course":"retired_course"}`, &CourseCompleted{Course: "retired_course"}},
		{"a required field missing in history", TypeLicenceRevoked, 1, `{"licence_id":"L-1"}`, &LicenceRevoked{LicenceID: "L-1"}},
		{"ledger-filled fields are kept", TypeCertificationAwarded, 1, `{"role":"lead_plus","decided_by":"Panel","rationale":"Met.","rulebook_version":"v1","evaluation":{"subject":"CertificationAwarded lead_plus","on":"2025-03-10","met":true,"requirements":[]}}`,
			&CertificationAwarded{Role: RoleLeadPlus, Decision: Decision{DecidedBy: "Panel", Rationale: "Met.", RulebookVersion: "v1",
				Evaluation: &Evaluation{Subject: "CertificationAwarded lead_plus", On: MustDate("2025-03-10"), Met: true, Requirements: []RequirementResult{}}}}},
		{"old version is upcast", TypeProfessionalStandingEvidenced, 1, `{"organisation":"Example Professional Council"}`, &ProfessionalStandingEvidenced{Body: "Example Professional Council"}},
		{"current version of an upcast type", TypeProfessionalStandingEvidenced, 2, `{"body":"Example Professional Council","valid_until":"2026-01-31"}`,
			&ProfessionalStandingEvidenced{Body: "Example Professional Council", ValidUntil: MustDate("2026-01-31")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := DecodeStored(tt.typ, tt.version, []byte(tt.data))
			require.NoError(t, err)
			assert.Equal(t, tt.want, ev)
		})
	}
}

func TestDecodeStoredErrors(t *testing.T) {
	tests := []struct {
		name    string
		typ     string
		version uint16
		data    string
		unknown bool
	}{
		{"unknown type", "CourseStarted", 1, `{}`, true},
		{"newer version than known", TypeCourseCompleted, 2, `{"course":"awareness"}`, false},
		{"not JSON", TypeCourseCompleted, 1, `course=awareness`, false},
		{"wrong JSON type", TypeCourseCompleted, 1, `{"course":7}`, false},
		{"old version not JSON", TypeProfessionalStandingEvidenced, 1, `{"organisation":`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := DecodeStored(tt.typ, tt.version, []byte(tt.data))
			assert.Error(t, err)
			assert.Nil(t, ev)
			assert.Equal(t, tt.unknown, errors.Is(err, ErrUnknownType))
			assert.Equal(t, EINTERNAL, ErrorCode(err), "a stored event that cannot be read is the ledger's fault, not the caller's")
		})
	}
}

// FuzzDecodeNew feeds random bytes to DecodeNew as a random registered type:
// it must never panic, and whatever it accepts must survive Encode and both
// decoders unchanged.
func FuzzDecodeNew(f *testing.F) {
	types := Types()
	for i, typ := range types {
		data, _, err := Encode(catSamples()[typ])
		require.NoError(f, err)
		f.Add(uint8(i), data)
	}
	f.Add(uint8(0), []byte(`{"name":"A","profession":"other","name":"B"}`))
	f.Add(uint8(7), []byte(`{"course":"awareness"} {}`))
	f.Fuzz(func(t *testing.T, pick uint8, data []byte) {
		typ := types[int(pick)%len(types)]
		ev, err := DecodeNew(typ, data)
		if err != nil {
			assert.Equal(t, EINVALID, ErrorCode(err), "DecodeNew fails only with invalid: %v", err)
			return
		}
		enc, version, err := Encode(ev)
		require.NoError(t, err)
		again, err := DecodeNew(typ, enc)
		require.NoError(t, err, "re-decoding %s", enc)
		assert.Equal(t, ev, again)
		stored, err := DecodeStored(typ, version, enc)
		require.NoError(t, err)
		assert.Equal(t, ev, stored)
	})
}

// BenchmarkDecodeStored measures the per-event cost of reading history, as a
// projection rebuild does a million times.
func BenchmarkDecodeStored(b *testing.B) {
	granted := &LicenceGranted{LicenceID: "L3A-0007", Kind: LicenceLevel3A, ValidUntil: MustDate("2026-03-09"), Decision: catDecision()}
	granted.RulebookVersion = "v1"
	granted.Evaluation = &Evaluation{Subject: "LicenceGranted level3a", On: catOn, Met: true, Requirements: []RequirementResult{
		{Name: "foundation_a", Met: true, Evidence: []uuid.UUID{catDecisionID}},
		{Name: "senior_leadership_support", Met: true, Evidence: []uuid.UUID{catOrgID}},
	}}
	tests := []struct {
		name    string
		ev      Event
		version uint16
		data    []byte
	}{
		{name: "CourseCompleted", ev: catSamples()[TypeCourseCompleted]},
		{name: "LicenceGranted with evaluation", ev: granted},
		{name: "ProfessionalStandingEvidenced v1 upcast", version: 1, data: []byte(`{"organisation":"Example Professional Council"}`), ev: &ProfessionalStandingEvidenced{}},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			data, version := tt.data, tt.version
			if data == nil {
				var err error
				data, version, err = Encode(tt.ev)
				require.NoError(b, err)
			}
			typ := tt.ev.EventType()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeStored(typ, version, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeNew measures the strict path a write request takes.
func BenchmarkDecodeNew(b *testing.B) {
	data, _, err := Encode(catSamples()[TypeReflectiveUpdateSubmitted])
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeNew(TypeReflectiveUpdateSubmitted, data); err != nil {
			b.Fatal(err)
		}
	}
}

// decodeStoredJSON is what DecodeStored gives for the current version
// without its fast path: encoding/json into a fresh value.
func decodeStoredJSON(typ string, data []byte) (Event, error) {
	ev := registry[typ].new()
	if err := json.Unmarshal(data, ev); err != nil {
		return nil, err
	}
	return ev, nil
}

func TestDecodeStoredFastPath(t *testing.T) {
	for _, typ := range Types() {
		require.NotNil(t, registry[typ].fast, "%s has no fast decoding layout", typ)
	}
	// What Encode writes takes the fast path, and gives what json does.
	for typ, ev := range catSamples() {
		data, _, err := Encode(ev)
		require.NoError(t, err)
		got := registry[typ].new()
		assert.True(t, registry[typ].fast.decode(data, reflect.ValueOf(got).Elem()), "%s: %s", typ, data)
		want, err := decodeStoredJSON(typ, data)
		require.NoError(t, err)
		assert.Equal(t, want, got, "%s: %s", typ, data)
	}
	// Shapes the fast path reads or leaves to encoding/json: the answer is
	// always json.Unmarshal's.
	tests := []struct{ typ, data string }{
		{TypeCourseCompleted, ` { "course" : "awareness" , "delivered_by" : "A & B" } `},
		{TypeCourseCompleted, `{"course":"awareness","delivered_by":"A \u0026 B \"q\" \\ \/ \n\t\r\b\f \u00e9 \ud83d\ude00"}`},
		{TypeCourseCompleted, `{"course":"caf\u00e9","delivered_by":"Zoë Example"}`},
		{TypeCourseCompleted, "{\"course\":\"a\xffb\"}"},
		{TypeCourseCompleted, `{"Course":"awareness"}`},
		{TypeCourseCompleted, `{"COURSE":"awareness","course":"level3"}`},
		{TypeCourseCompleted, `{"course":"awareness","course":"level3"}`},
		{TypeCourseCompleted, `{"course":null}`},
		{TypeCourseCompleted, `{"course":7}`},
		{TypeCourseCompleted, `{"course":"awareness"} x`},
		{TypeCourseCompleted, `{"course":"awareness",}`},
		{TypeCourseCompleted, `{"course":"awareness"`},
		{TypeCourseCompleted, `{}`},
		{TypeCourseCompleted, `null`},
		{TypeCourseCompleted, ``},
		{TypeCourseCompleted, `[]`},
		{TypeCourseCompleted, `{"venue":{"a":[1,"}",{"b":null}]},"course":"level3"}`},
		{TypeCPDEngagementRecorded, `{"kind":"linked_cpd","hours":2.5e0,"title":"T"}`},
		{TypeCPDEngagementRecorded, `{"kind":"linked_cpd","hours":-0,"title":""}`},
		{TypeCPDEngagementRecorded, `{"hours":1e400}`},
		{TypeCPDEngagementRecorded, `{"hours":01}`},
		{TypeCPDEngagementRecorded, `{"hours":1.}`},
		{TypeCPDEngagementRecorded, `{"hours":"2"}`},
		{TypeActionPlanSubmitted, `{"year":2025,"budget_included":true}`},
		{TypeActionPlanSubmitted, `{"year":2025.0,"budget_included":false}`},
		{TypeActionPlanSubmitted, `{"year":1e3}`},
		{TypeActionPlanSubmitted, `{"year":99999999999999999999}`},
		{TypeActionPlanSubmitted, `{"year":-12,"budget_included":truex}`},
		{TypeActionPlanSubmitted, `{"budget_included":"true"}`},
		{TypeIndemnityInsuranceRecorded, `{"provider":"P","valid_until":"2026-03-09"}`},
		{TypeIndemnityInsuranceRecorded, `{"provider":"P","valid_until":"2026-02-30"}`},
		{TypeIndemnityInsuranceRecorded, `{"provider":"P","valid_until":20260309}`},
		{TypeIndemnityInsuranceRecorded, `{"provider":"P","valid_until":"2026\u002d03-09"}`},
		{TypePractitionerJoinedOrganisation, `{"organisation_id":"6f1c1f0e-2b7a-4d1e-9a51-0c2f3e4d5a61"}`},
		{TypePractitionerJoinedOrganisation, `{"organisation_id":"{6f1c1f0e-2b7a-4d1e-9a51-0c2f3e4d5a61}"}`},
		{TypePractitionerJoinedOrganisation, `{"organisation_id":"not-a-uuid"}`},
		{TypePractitionerDetailsChanged, `{"name":"N","independent":true,"profession":null}`},
		{TypePractitionerDetailsChanged, `{"name":"N","name":"M"}`},
		{TypePracticeSupportEvidenced, `{"supported_practitioner_id":"2d9e8f7a-1b2c-4d3e-8f9a-0b1c2d3e4f50"}`},
		{TypeCertificationAwarded, `{"role":"lead_plus","decided_by":"P","rationale":"R","exception":true,"rulebook_version":"v1","evaluation":{"subject":"S","on":"2025-03-10","met":true,"requirements":[{"name":"n","met":false,"evidence":["9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"],"missing":"1 of 2 \"x\""}]}}`},
		{TypeCertificationAwarded, `{"evaluation":{"subject":"S"},"evaluation":{"met":true}}`},
		{TypeCertificationAwarded, `{"evaluation":null,"role":"lead_plus"}`},
		{TypeCertificationAwarded, `{"evaluation":{"subject":"S"}}}`},
		{TypeCertificationAwarded, `{"evaluation":{"subject":"S"`},
	}
	for _, tt := range tests {
		want, wantErr := decodeStoredJSON(tt.typ, []byte(tt.data))
		got, err := DecodeStored(tt.typ, registry[tt.typ].Version, []byte(tt.data))
		if wantErr != nil {
			assert.Error(t, err, "%s: %s", tt.typ, tt.data)
			continue
		}
		require.NoError(t, err, "%s: %s", tt.typ, tt.data)
		assert.Equal(t, want, got, "%s: %s", tt.typ, tt.data)
	}
}

// FuzzDecodeStored feeds random bytes to DecodeStored as a random
// registered type's current version: it must give exactly what
// encoding/json gives, and fail exactly when it fails.
func FuzzDecodeStored(f *testing.F) {
	types := Types()
	for i, typ := range types {
		data, _, err := Encode(catSamples()[typ])
		require.NoError(f, err)
		f.Add(uint8(i), data)
	}
	f.Add(uint8(0), []byte(`{"name":"A \u0026 B","profession":"other","Name":"B"}`))
	f.Fuzz(func(t *testing.T, pick uint8, data []byte) {
		typ := types[int(pick)%len(types)]
		want, wantErr := decodeStoredJSON(typ, data)
		got, err := DecodeStored(typ, registry[typ].Version, data)
		if wantErr != nil {
			assert.Error(t, err)
			return
		}
		require.NoError(t, err)
		assert.Equal(t, want, got)
	})
}

// FuzzCheckObjectKeys: the walk over valid JSON must answer exactly as the
// token-by-token reading does, the one checker's two readings; the known
// keys are an event's fields and the API's request fields.
func FuzzCheckObjectKeys(f *testing.F) {
	for _, s := range []string{
		`{"course":"foundation_b"}`,
		` {"kind":"linked_cpd", "hours" : 1.5, "title":"A \"quoted\" title"} `,
		`{"hours":1,"hours":2}`,
		`{"Hours":1}`,
		`{"h\u006furs":1,"kind":{"x":[1,{"y":"}"}]}}`,
		`{"kind":[1,2,{"a":{}}],"title":null}`,
		`{}`,
		"{\"\xff\":1}",
		`{"kind":"a"} {"kind":"b"}`,
		`{"kind":"a",}`,
		`{"title":"\u00e9t\u00e9","nope":true}`,
		`{"type":"CPDEngagementRecorded","occurred_on":"2024-03-01","data":{"kind":"linked_cpd","hours":1}}`,
		` {"id":"0b6f3d8e-6f1a-4c3e-9d2a-5c1e8f7a9b10", "type" : "X", "expected_revision": 3 } `,
		`{"type":"a","type":"b"}`,
		`{"t\u0079pe":"a","data":{"x":[1,{"y":"}"}],"z":"\""}}`,
		`{"data":[1,2,{"a":{}}],"occurred_on":null}`,
		"{\"data\":{\"title\":\"caf\xc3\"}}",
		`{"type":"\ud800"}`,
		`{"data":{"a":["\ud83d\ude00","\udc00"]}}`,
		`{"type":"a"} {"type":"b"}`,
		`{"data":{"a":1},"expected_revision":-1}`,
	} {
		f.Add([]byte(s))
	}
	fields := []string{"course", "kind", "hours", "title", "id", "type", "occurred_on", "data", "expected_revision"}
	known := func(key string) bool { return slices.Contains(fields, key) }
	f.Fuzz(func(t *testing.T, data []byte) {
		trimmed := bytes.TrimSpace(data)
		if len(trimmed) == 0 || trimmed[0] != '{' {
			return
		}
		walk, tokens := CheckObjectKeys(trimmed, known), checkObjectKeysTokens(trimmed, known)
		if fmt.Sprint(walk) != fmt.Sprint(tokens) {
			t.Fatalf("%q: walk says %v, tokens say %v", data, walk, tokens)
		}
	})
}
