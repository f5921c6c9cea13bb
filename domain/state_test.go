package domain

import (
	"encoding/binary"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// history builds a fictional practitioner's stream for tests: facts get
// sequential ids so a failing assertion names them plainly.
type history struct {
	t     testing.TB
	id    uuid.UUID
	facts []Fact
}

var idSeq uint64

func nextID() uuid.UUID {
	idSeq++
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[8:], idSeq)
	u[6], u[8] = 0x40, u[8]|0x80
	return u
}

func newHistory(t testing.TB) *history {
	return &history{t: t, id: nextID()}
}

// add appends a fact dated on (YYYY-MM-DD) and returns its id.
func (h *history) add(on string, e Event) uuid.UUID {
	id := nextID()
	h.facts = append(h.facts, Fact{ID: id, OccurredOn: MustDate(on), RecordedAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), RecordedBy: "admin", Event: e})
	return id
}

func (h *history) retract(on string, id uuid.UUID) uuid.UUID {
	return h.add(on, &EventRetracted{RetractedEventID: id, Reason: "recorded in error"})
}

func (h *history) fold() *Practitioner {
	h.t.Helper()
	p, err := Fold(h.id, h.facts)
	require.NoError(h.t, err)
	return p
}

func (h *history) register(on string) uuid.UUID {
	return h.add(on, &PractitionerRegistered{Name: "Robin Testperson", Email: "robin@example.org", Profession: ProfessionEducation})
}

func (h *history) courses(on string, cs ...Course) []uuid.UUID {
	var ids []uuid.UUID
	for _, c := range cs {
		ids = append(ids, h.add(on, &CourseCompleted{Course: c}))
	}
	return ids
}

func (h *history) cpd(on string, k CPDKind) uuid.UUID {
	return h.add(on, &CPDEngagementRecorded{Kind: k, Hours: 1})
}

func (h *history) licence(on, id string, k LicenceKind, until string) uuid.UUID {
	return h.add(on, &LicenceGranted{LicenceID: id, Kind: k, ValidUntil: MustDate(until), Decision: Decision{DecidedBy: "QC Lead", Rationale: "meets v1"}})
}

func (h *history) award(on string, r Role) uuid.UUID {
	return h.add(on, &CertificationAwarded{Role: r, Decision: Decision{DecidedBy: "QC Lead", Rationale: "meets v1"}})
}

// school is a registered school (a registered service) the fictional
// practitioners work in.
func school() *Organisation {
	o := NewOrganisation(nextID())
	if err := o.Apply(Fact{ID: nextID(), OccurredOn: MustDate("2020-01-01"), Event: &OrganisationRegistered{Name: "Fellside Primary", Kind: OrgSchool, RegisteredService: true}}); err != nil {
		panic(err)
	}
	return o
}

func courseSet(p *Practitioner, on string) []Course {
	var out []Course
	for _, c := range courses {
		if _, ok := p.courseDone(c, MustDate(on)); ok {
			out = append(out, c)
		}
	}
	return out
}

func TestApplyRefusesWhatItDoesNotKnow(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
	}{
		{"an organisation's event in a practitioner's stream", &OrganisationRegistered{Name: "Fellside", Kind: OrgSchool}},
		{"a type the fold does not know", unknownEvent{}},
		{"a known name on the wrong Go type", lookalike{}},
		{"no event at all", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPractitioner(nextID())
			err := p.Apply(Fact{ID: nextID(), OccurredOn: MustDate("2024-01-01"), Event: tt.ev})
			require.Error(t, err)
			assert.Equal(t, 0, p.Facts())
		})
	}
}

func TestApplyAcceptsEveryPractitionerEvent(t *testing.T) {
	events := []Event{
		&PractitionerRegistered{Name: "A", Profession: ProfessionHealth},
		&PractitionerDetailsChanged{},
		&PractitionerJoinedOrganisation{}, &PractitionerLeftOrganisation{},
		&SeniorLeadershipSupportRecorded{}, &SuitabilityAgreed{}, &CourseCompleted{}, &CPDEngagementRecorded{},
		&ReflectiveUpdateSubmitted{}, &ParticipantFeedbackGathered{}, &ActionPlanSubmitted{}, &StudyGroupRun{},
		&TrackerAssessmentRecorded{}, &PracticeSupportEvidenced{}, &ProfessionalStandingEvidenced{}, &IndemnityInsuranceRecorded{},
		&ApplicationSubmitted{}, &ReferenceReceived{}, &InterviewHeld{}, &ApplicationDecided{}, &TraineeshipStarted{},
		&CertificationAwarded{}, &CertificationSuspended{}, &CertificationReinstated{}, &CertificationWithdrawn{},
		&LicenceGranted{}, &LicenceRenewed{}, &LicenceSuspended{}, &LicenceReinstated{}, &LicenceRevoked{},
		&DirectoryListingConsented{}, &DirectoryListingWithdrawn{}, &DecisionReviewed{}, &EventRetracted{},
		&PersonalDataErased{},
	}
	seen := map[string]bool{}
	for _, ev := range events {
		p := NewPractitioner(nextID())
		require.NoError(t, p.Apply(Fact{ID: nextID(), OccurredOn: MustDate("2024-01-01"), Event: ev}), "%T", ev)
		seen[ev.EventType()] = true
	}
	// Every type in the catalogue except OrganisationRegistered belongs in
	// a practitioner's stream.
	for name, info := range registry {
		if info.AllowedIn(PractitionerStream) {
			assert.True(t, seen[name], "%s is not covered", name)
		}
	}
}

// TestEventsArePointers keeps events in one form, the codec's: a struct
// value is not an Event, so no type switch needs a case for it.
func TestEventsArePointers(t *testing.T) {
	event := reflect.TypeFor[Event]()
	for name, info := range registry {
		ev := info.new()
		typ := reflect.TypeOf(ev)
		require.Equal(t, reflect.Pointer, typ.Kind(), name)
		assert.False(t, typ.Elem().Implements(event), "%s: the value %s must not be an Event", name, typ.Elem())
	}
}

// unknownEvent is a type no fold knows; lookalike borrows a known name.
type unknownEvent struct{}

func (unknownEvent) EventType() string { return "SomethingElseHappened" }
func (unknownEvent) Validate() error   { return nil }

type lookalike struct{}

func (lookalike) EventType() string { return TypeCourseCompleted }
func (lookalike) Validate() error   { return nil }

func TestRetraction(t *testing.T) {
	const seed = `DOMAIN.md: "A mistake is never edited: it is corrected by a later event"`
	tests := []struct {
		name  string
		build func(h *history) (checkOn string)
		want  []Course
	}{
		{"a retracted course no longer counts", func(h *history) string {
			ids := h.courses("2024-01-10", CourseFoundationAPart1, CourseFoundationAPart2)
			h.retract("2024-02-01", ids[1])
			return "2024-03-01"
		}, []Course{CourseFoundationAPart1}},
		{"retraction arriving after other events still removes the fact", func(h *history) string {
			ids := h.courses("2024-01-10", CourseFoundationAPart1)
			h.courses("2024-01-20", CourseFoundationB)
			h.cpd("2024-01-21", CPDLinkedCPD)
			h.retract("2024-03-01", ids[0])
			h.courses("2024-03-02", CourseIntermediateA)
			return "2024-04-01"
		}, []Course{CourseFoundationB, CourseIntermediateA}},
		{"retraction counts on dates before the retraction itself", func(h *history) string {
			ids := h.courses("2024-01-10", CourseFoundationAPart1)
			h.retract("2024-06-01", ids[0])
			return "2024-02-01"
		}, nil},
		{"retracting a retraction restores the fact", func(h *history) string {
			ids := h.courses("2024-01-10", CourseFoundationAPart1)
			r := h.retract("2024-02-01", ids[0])
			h.retract("2024-02-02", r)
			return "2024-03-01"
		}, []Course{CourseFoundationAPart1}},
		{"a retraction folded before its target (an as-of fold) still applies", func(h *history) string {
			target := nextID()
			h.add("2024-01-05", &EventRetracted{RetractedEventID: target, Reason: "typo"})
			h.facts = append(h.facts, Fact{ID: target, OccurredOn: MustDate("2024-01-10"), Event: &CourseCompleted{Course: CourseFoundationB}})
			return "2024-03-01"
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistory(t)
			h.register("2024-01-01")
			on := tt.build(h)
			p := h.fold()
			assert.Equal(t, tt.want, courseSet(p, on), seed)

			// Applying one fact at a time, as a projection does, gives the
			// same answer as folding at once.
			q := NewPractitioner(h.id)
			for _, f := range h.facts {
				require.NoError(t, q.Apply(f))
			}
			assert.Equal(t, tt.want, courseSet(q, on))
		})
	}
}

func TestRetractionReachesEveryKindOfFact(t *testing.T) {
	h := newHistory(t)
	org := school()
	ids := []uuid.UUID{
		h.register("2024-01-01"),
		h.add("2024-01-02", &PractitionerJoinedOrganisation{OrganisationID: org.ID}),
		h.add("2024-01-03", &SeniorLeadershipSupportRecorded{OrganisationID: org.ID, EndorsedBy: "Head Teacher"}),
		h.cpd("2024-01-04", CPDLinkedCPD),
		h.add("2024-01-05", &StudyGroupRun{GroupID: "g1", Course: GroupFoundationA}),
		h.licence("2024-01-06", "L1", LicenceLevel3A, "2025-01-05"),
		h.award("2024-01-07", RoleInformedPractitioner),
		h.add("2024-01-08", &DirectoryListingConsented{Directory: DirectoryInformed}),
		h.add("2024-01-09", &IndemnityInsuranceRecorded{Provider: "Mutual", ValidUntil: MustDate("2025-01-01")}),
	}
	before := h.fold()
	on := MustDate("2024-06-01")
	require.True(t, before.DetailsOn(on).Registered)
	require.Len(t, before.Licences(on), 1)
	for _, id := range ids {
		h.retract("2024-02-01", id)
	}
	p := h.fold()
	assert.False(t, p.DetailsOn(on).Registered)
	assert.Empty(t, p.Memberships(on))
	assert.Empty(t, p.Licences(on))
	assert.Empty(t, p.Roles(on))
	assert.Empty(t, p.DirectoryConsents(on))
	for k := range p.evidence {
		for _, m := range p.evidence[k] {
			assert.True(t, m.Retracted)
		}
	}
	for _, id := range ids {
		assert.True(t, p.IsRetracted(id))
	}
}

func TestLicenceStatus(t *testing.T) {
	const seed = `older seed: "+ have a current licence by subscription"; DOMAIN.md: "Licences are by subscription: they have a validity period and are renewed."`
	tests := []struct {
		name      string
		build     func(h *history)
		on        string
		status    LicenceStatus
		validTill string
	}{
		{"active the day it is granted", nil, "2024-03-01", LicenceStatusActive, "2025-02-28"},
		{"not yet granted the day before", nil, "2024-02-29", "", ""},
		{"active on its valid_until (inclusive, v1)", nil, "2025-02-28", LicenceStatusActive, "2025-02-28"},
		{"expired the day after valid_until", nil, "2025-03-01", LicenceStatusExpired, "2025-02-28"},
		{"a renewal extends valid_until", func(h *history) {
			h.add("2025-02-01", &LicenceRenewed{LicenceID: "L1", ValidUntil: MustDate("2026-02-28")})
		}, "2025-03-01", LicenceStatusActive, "2026-02-28"},
		{"a renewal dated later does not count before its date", func(h *history) {
			h.add("2025-03-10", &LicenceRenewed{LicenceID: "L1", ValidUntil: MustDate("2026-02-28")})
		}, "2025-03-05", LicenceStatusExpired, "2025-02-28"},
		{"a renewal never shortens", func(h *history) {
			h.add("2024-06-01", &LicenceRenewed{LicenceID: "L1", ValidUntil: MustDate("2024-12-31")})
		}, "2025-01-15", LicenceStatusActive, "2025-02-28"},
		{"suspended", func(h *history) {
			h.add("2024-06-01", &LicenceSuspended{LicenceID: "L1", Reason: "review"})
		}, "2024-06-01", LicenceStatusSuspended, "2025-02-28"},
		{"reinstated", func(h *history) {
			h.add("2024-06-01", &LicenceSuspended{LicenceID: "L1", Reason: "review"})
			h.add("2024-07-01", &LicenceReinstated{LicenceID: "L1", Reason: "cleared"})
		}, "2024-07-01", LicenceStatusActive, "2025-02-28"},
		{"revoked wins over suspended and expired", func(h *history) {
			h.add("2024-06-01", &LicenceSuspended{LicenceID: "L1", Reason: "review"})
			h.add("2024-07-01", &LicenceRevoked{LicenceID: "L1", Reason: "breach"})
		}, "2026-01-01", LicenceStatusRevoked, "2025-02-28"},
		{"a retracted suspension never happened", func(h *history) {
			s := h.add("2024-06-01", &LicenceSuspended{LicenceID: "L1", Reason: "wrong licence"})
			h.retract("2024-06-02", s)
		}, "2024-08-01", LicenceStatusActive, "2025-02-28"},
		{"a renewal recorded out of date order counts by its date", func(h *history) {
			h.add("2025-02-20", &LicenceRenewed{LicenceID: "L1", ValidUntil: MustDate("2026-02-28")})
			h.add("2024-06-01", &LicenceSuspended{LicenceID: "L1", Reason: "review"})
			h.add("2024-06-10", &LicenceReinstated{LicenceID: "L1", Reason: "cleared"})
		}, "2025-06-01", LicenceStatusActive, "2026-02-28"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistory(t)
			grant := h.licence("2024-03-01", "L1", LicenceLevel3A, "2025-02-28")
			if tt.build != nil {
				tt.build(h)
			}
			p := h.fold()
			l, ok := p.Licence("L1", MustDate(tt.on))
			if tt.status == "" {
				assert.False(t, ok, seed)
				return
			}
			require.True(t, ok)
			assert.Equal(t, tt.status, l.Status, seed)
			assert.Equal(t, tt.validTill, l.ValidUntil.String())
			assert.Equal(t, grant, l.Evidence[0])
			all := p.Licences(MustDate(tt.on))
			require.Len(t, all, 1)
			assert.Equal(t, l, all[0])
		})
	}
}

func TestRoles(t *testing.T) {
	const seed = `DOMAIN.md: "an explicit decision says so"`
	dec := Decision{DecidedBy: "QC Lead", Rationale: "r"}
	tests := []struct {
		name   string
		build  func(h *history)
		on     string
		held   []Role
		status RoleStatus
	}{
		{"awarded", nil, "2024-03-01", []Role{RoleLeadProfessional}, RoleActive},
		{"not before the award", nil, "2024-02-29", nil, ""},
		{"suspended is not held", func(h *history) {
			h.add("2024-05-01", &CertificationSuspended{Role: RoleLeadProfessional, Reason: "r", Decision: dec})
		}, "2024-05-01", nil, RoleSuspended},
		{"reinstated is held again", func(h *history) {
			h.add("2024-05-01", &CertificationSuspended{Role: RoleLeadProfessional, Reason: "r", Decision: dec})
			h.add("2024-06-01", &CertificationReinstated{Role: RoleLeadProfessional, Reason: "r", Decision: dec})
		}, "2024-06-01", []Role{RoleLeadProfessional}, RoleActive},
		{"withdrawn", func(h *history) {
			h.add("2024-05-01", &CertificationWithdrawn{Role: RoleLeadProfessional, Reason: "r", Decision: dec})
		}, "2024-12-01", nil, RoleWithdrawn},
		{"a reinstatement cannot undo a withdrawal", func(h *history) {
			h.add("2024-05-01", &CertificationWithdrawn{Role: RoleLeadProfessional, Reason: "r", Decision: dec})
			h.add("2024-06-01", &CertificationReinstated{Role: RoleLeadProfessional, Reason: "r", Decision: dec})
		}, "2024-12-01", nil, RoleWithdrawn},
		{"a new award after a withdrawal", func(h *history) {
			h.add("2024-05-01", &CertificationWithdrawn{Role: RoleLeadProfessional, Reason: "r", Decision: dec})
			h.award("2024-09-01", RoleLeadProfessional)
		}, "2024-12-01", []Role{RoleLeadProfessional}, RoleActive},
		{"a retracted award was never made", func(h *history) {
			h.retract("2024-03-02", h.facts[0].ID)
		}, "2024-12-01", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistory(t)
			h.award("2024-03-01", RoleLeadProfessional)
			if tt.build != nil {
				tt.build(h)
			}
			p := h.fold()
			on := MustDate(tt.on)
			assert.Equal(t, tt.held, p.RolesHeld(on), seed)
			r, ok := p.Role(RoleLeadProfessional, on)
			assert.Equal(t, tt.status != "", ok)
			assert.Equal(t, tt.status, r.Status)
		})
	}
}

func TestMembershipsAndDetails(t *testing.T) {
	h := newHistory(t)
	a, b := nextID(), nextID()
	h.register("2024-01-01")
	h.add("2024-01-02", &PractitionerJoinedOrganisation{OrganisationID: a})
	h.add("2024-02-01", &PractitionerJoinedOrganisation{OrganisationID: b})
	h.add("2024-03-01", &PractitionerLeftOrganisation{OrganisationID: a})
	ind := true
	name := "Robin Q. Testperson"
	h.add("2024-04-01", &PractitionerDetailsChanged{Independent: &ind, Name: &name})
	p := h.fold()

	ids := func(ms []Membership) []uuid.UUID {
		var out []uuid.UUID
		for _, m := range ms {
			out = append(out, m.OrganisationID)
		}
		return out
	}
	assert.Equal(t, []uuid.UUID{a}, ids(p.Memberships(MustDate("2024-01-15"))))
	assert.Equal(t, []uuid.UUID{a, b}, ids(p.Memberships(MustDate("2024-02-15"))))
	assert.Equal(t, []uuid.UUID{b}, ids(p.Memberships(MustDate("2024-03-01"))))
	assert.False(t, p.DetailsOn(MustDate("2024-03-31")).Independent)
	assert.True(t, p.DetailsOn(MustDate("2024-04-01")).Independent)
	assert.Equal(t, "Robin Q. Testperson", p.Details().Name)
	assert.Equal(t, "robin@example.org", p.Details().Email)
	assert.Equal(t, MustDate("2024-01-01"), p.Details().RegisteredOn)
}

func TestDirectoryConsentsAndReviews(t *testing.T) {
	const seed = `DOMAIN.md: "A practitioner appears in a directory only with consent"`
	h := newHistory(t)
	h.add("2024-01-01", &DirectoryListingConsented{Directory: DirectoryInformed})
	h.add("2024-01-01", &DirectoryListingConsented{Directory: DirectoryLocalityHub})
	h.add("2024-06-01", &DirectoryListingWithdrawn{Directory: DirectoryInformed})
	grant := h.licence("2024-01-02", "L1", LicenceLevel3A, "2025-01-01")
	h.add("2024-02-01", &DecisionReviewed{DecisionEventID: grant, Outcome: ReviewUpheld})
	p := h.fold()
	assert.Equal(t, []Directory{DirectoryInformed, DirectoryLocalityHub}, p.DirectoryConsents(MustDate("2024-05-31")), seed)
	assert.Equal(t, []Directory{DirectoryLocalityHub}, p.DirectoryConsents(MustDate("2024-06-01")), seed)
	require.Len(t, p.Reviews(), 1)
	assert.Equal(t, grant, p.Reviews()[0].DecisionEventID)
	assert.Equal(t, ReviewUpheld, p.Reviews()[0].Outcome)
}

func TestOrganisationFold(t *testing.T) {
	id := nextID()
	reg := nextID()
	grant := nextID()
	facts := []Fact{
		{ID: reg, OccurredOn: MustDate("2024-01-01"), Event: &OrganisationRegistered{Name: "Fellside Primary", Kind: OrgSchool, RegisteredService: false}},
		{ID: nextID(), OccurredOn: MustDate("2024-02-01"), Event: &OrganisationRegistered{Name: "Fellside Primary School", Kind: OrgSchool, RegisteredService: true}},
		{ID: grant, OccurredOn: MustDate("2024-03-01"), Event: &LicenceGranted{LicenceID: "ORG-1", Kind: LicenceOrganisational, ValidUntil: MustDate("2025-02-28")}},
	}
	o, err := FoldOrganisation(id, facts)
	require.NoError(t, err)
	assert.True(t, o.Registered)
	assert.True(t, o.RegisteredService)
	assert.Equal(t, "Fellside Primary School", o.Name)
	l, ok := o.Licence("ORG-1", MustDate("2024-06-01"))
	require.True(t, ok)
	assert.Equal(t, LicenceStatusActive, l.Status)

	// Retracting the second registration falls back to the first.
	require.NoError(t, o.Apply(Fact{ID: nextID(), OccurredOn: MustDate("2024-04-01"), Event: &EventRetracted{RetractedEventID: facts[1].ID, Reason: "wrong"}}))
	assert.False(t, o.RegisteredService)
	assert.Equal(t, reg, o.RegisteredEventID)

	err = o.Apply(Fact{ID: nextID(), OccurredOn: MustDate("2024-04-01"), Event: &CourseCompleted{Course: CourseFoundationB}})
	assert.Error(t, err, "a practitioner's fact does not belong in an organisation's stream")
}

func TestInsertByDateKeepsDateThenStreamOrder(t *testing.T) {
	var s []memberRec
	for _, d := range []string{"2024-03-01", "2024-01-01", "2024-02-01", "2024-01-01"} {
		s = insertByDate(s, memberRec{meta: meta{ID: nextID(), On: MustDate(d)}})
	}
	var got []string
	for _, r := range s {
		got = append(got, r.On.String())
	}
	assert.Equal(t, []string{"2024-01-01", "2024-01-01", "2024-02-01", "2024-03-01"}, got)
	assert.True(t, s[0].ID.String() < s[1].ID.String(), "same date keeps stream order")
}
