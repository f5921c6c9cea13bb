package domain

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randomFacts returns n facts of one practitioner's stream: every kind of
// fact the fold keeps, with its enumerations drawn at random, dated at
// random over three years (so that many arrive out of date order), and
// retractions of earlier facts, retractions among them.
func randomFacts(rng *rand.Rand, n int, orgs []uuid.UUID) []Fact {
	pick := func(vs []string) string { return vs[rng.IntN(len(vs))] }
	enum := func(v any) string {
		vs, _ := EnumValues(reflect.TypeOf(v))
		return pick(vs)
	}
	var facts []Fact
	var decisions []uuid.UUID
	for i := range n {
		on := MustDate("2023-01-01").AddDays(rng.IntN(3 * 365))
		org := orgs[rng.IntN(len(orgs))]
		lid := fmt.Sprintf("L-%d", rng.IntN(3))
		app := fmt.Sprintf("A-%d", rng.IntN(2))
		role := Role(enum(RoleLeadProfessional))
		dec := Decision{DecidedBy: "Dana Decider", Rationale: "as the rules say", Exception: rng.IntN(4) == 0}
		name := fmt.Sprintf("Practitioner %d", i)
		independent := rng.IntN(2) == 0
		var ev Event
		switch k := rng.IntN(24); {
		case i == 0:
			ev = &PractitionerRegistered{Name: "Robin Example", Profession: Profession(enum(ProfessionHealth))}
		case k == 0:
			ev = &PractitionerDetailsChanged{Name: &name, Independent: &independent}
		case k == 1:
			ev = &PractitionerJoinedOrganisation{OrganisationID: org}
		case k == 2:
			ev = &PractitionerLeftOrganisation{OrganisationID: org}
		case k == 3:
			ev = &SeniorLeadershipSupportRecorded{OrganisationID: org, EndorsedBy: "Head of Example School"}
		case k == 4:
			ev = &SuitabilityAgreed{OrganisationID: org, Role: role}
		case k == 5, k == 6:
			ev = &CourseCompleted{Course: Course(enum(CourseFoundationB))}
		case k == 7:
			ev = &CPDEngagementRecorded{Kind: CPDKind(enum(CPDLinkedCPD)), Hours: 2}
		case k == 8:
			ev = &ReflectiveUpdateSubmitted{Kind: ReflectiveKind(enum(ReflectiveLogBook))}
		case k == 9:
			ev = &StudyGroupRun{GroupID: "G-1", Course: GroupCourse(enum(GroupFoundationA)), Participants: 8, Registered: true}
		case k == 10:
			ev = &ParticipantFeedbackGathered{GroupID: "G-1", Responses: 5}
		case k == 11:
			ev = &IndemnityInsuranceRecorded{Provider: "Mutual", ValidUntil: on.AddYears(1)}
		case k == 12:
			ev = &ProfessionalStandingEvidenced{Body: "HCPC", ValidUntil: on.AddYears(1)}
		case k == 13:
			ev = &ApplicationSubmitted{ApplicationID: app, Role: ApplicationRole(enum(ApplyLeadPlus)), FastTrack: rng.IntN(2) == 0}
		case k == 14:
			ev = &ReferenceReceived{ApplicationID: app, Supportive: rng.IntN(3) > 0}
		case k == 15:
			ev = &InterviewHeld{ApplicationID: app, Outcome: InterviewOutcome(enum(InterviewPassed))}
		case k == 16:
			ev = &ApplicationDecided{ApplicationID: app, Outcome: ApplicationOutcome(enum(ApplicationAccepted)), Decision: dec}
		case k == 17:
			ev = &TraineeshipStarted{Role: role}
		case k == 18:
			switch rng.IntN(4) {
			case 0:
				ev = &CertificationAwarded{Role: role, Decision: dec}
			case 1:
				ev = &CertificationSuspended{Role: role, Reason: "under review", Decision: dec}
			case 2:
				ev = &CertificationReinstated{Role: role, Reason: "review done", Decision: dec}
			default:
				ev = &CertificationWithdrawn{Role: role, Reason: "left", Decision: dec}
			}
		case k == 19:
			switch rng.IntN(5) {
			case 0, 1:
				ev = &LicenceGranted{LicenceID: lid, Kind: LicenceKind(enum(LicenceLevel3A)), ValidUntil: on.AddYears(1), Decision: dec}
			case 2:
				ev = &LicenceRenewed{LicenceID: lid, ValidUntil: on.AddYears(2), Decision: dec}
			case 3:
				ev = &LicenceSuspended{LicenceID: lid, Reason: "under review", Decision: dec}
			default:
				ev = &LicenceRevoked{LicenceID: lid, Reason: "misuse", Decision: dec}
			}
		case k == 20:
			if rng.IntN(2) == 0 {
				ev = &DirectoryListingConsented{Directory: Directory(enum(DirectoryInformed))}
			} else {
				ev = &DirectoryListingWithdrawn{Directory: Directory(enum(DirectoryInformed))}
			}
		case k == 21 && len(decisions) > 0:
			ev = &DecisionReviewed{DecisionEventID: decisions[rng.IntN(len(decisions))], Outcome: ReviewOutcome(enum(ReviewUpheld))}
		case k >= 21 && len(facts) > 1:
			ev = &EventRetracted{RetractedEventID: facts[1+rng.IntN(len(facts)-1)].ID, Reason: "recorded in error"}
		default:
			ev = &CPDEngagementRecorded{Kind: CPDLinkedCPD, Hours: 1}
		}
		f := Fact{ID: nextID(), OccurredOn: on, Event: ev}
		if _, ok := DecisionOf(ev); ok {
			decisions = append(decisions, f.ID)
		}
		facts = append(facts, f)
	}
	return facts
}

// observed is everything the rules read of a folded practitioner on a
// date, as text (nil and empty lists read alike).
func observed(p *Practitioner, orgs Organisations, on Date) string {
	out := ""
	for _, rb := range []*Rulebook{RulebookV1(), RulebookV1_1()} {
		st := rb.Standing(p, orgs, on)
		out += fmt.Sprintf("%s level %+v standing %+v next %+v listings %+v\n", rb.Version, rb.Level(p, on), st,
			rb.NextSteps(p, orgs, on), rb.Listings(p, st.Status, on))
	}
	return out + fmt.Sprintf("details %+v roles %+v trainee %+v licences %+v members %+v consents %+v\n",
		p.DetailsOn(on), p.RolesHeld(on), p.Traineeships(on), p.Licences(on), p.Memberships(on), p.DirectoryConsents(on))
}

// TestFoldReusingEqualsFold folds random histories of every size one
// after another into one reused Practitioner, and checks that each state
// equals a fresh Fold of the same facts, field by field (room aside), and evaluates
// alike on several dates; and that what the evaluations of one state
// returned is untouched when the storage is reused for the next.
func TestFoldReusingEqualsFold(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 4))
	o1, o2 := school(), school()
	orgs := OrganisationSet{o1.ID: o1, o2.ID: o2}
	ids := []uuid.UUID{o1.ID, o2.ID, nextID()}
	dates := []Date{MustDate("2023-06-01"), MustDate("2024-12-31"), MustDate("2026-03-01")}
	var scratch *Practitioner
	var before []string // what the last state's evaluations returned
	var kept []*Standing
	for round := range 120 {
		n := 1 + rng.IntN(60)
		if round%10 == 0 {
			n = 200 + rng.IntN(200)
		}
		facts := randomFacts(rng, n, ids)
		id := nextID()
		want, err := Fold(id, facts)
		require.NoError(t, err)
		got, err := FoldReusing(scratch, id, facts)
		require.NoError(t, err)
		if scratch != nil {
			require.Same(t, scratch, got, "the storage is reused")
		}
		scratch = got
		for i, st := range kept {
			assert.Equal(t, before[i], fmt.Sprintf("%+v", *st), "round %d: an earlier evaluation changed when the storage was reused", round)
		}
		kept, before = kept[:0], before[:0]
		require.Empty(t, stateDiff("Practitioner", reflect.ValueOf(want).Elem(), reflect.ValueOf(got).Elem()), "round %d: %d facts", round, n)
		for _, on := range dates {
			require.Equal(t, observed(want, orgs, on), observed(got, orgs, on), "round %d on %s", round, on)
			st := RulebookV1().Standing(got, orgs, on)
			kept = append(kept, &st)
			before = append(before, fmt.Sprintf("%+v", st))
		}
	}
}

// stateDiff names the first place where a and b differ, following
// pointers and reading unexported fields, with nil and empty slices alike
// and a slice's room past its length ignored; "" when they are equal.
func stateDiff(path string, a, b reflect.Value) string {
	if a.Kind() != b.Kind() {
		return path + ": kinds differ"
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return path + ": one is nil"
			}
			return ""
		}
		if a.Kind() == reflect.Interface && a.Elem().Type() != b.Elem().Type() {
			return path + ": types differ"
		}
		return stateDiff(path, a.Elem(), b.Elem())
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: %d elements, not %d", path, b.Len(), a.Len())
		}
		for i := range a.Len() {
			if d := stateDiff(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i)); d != "" {
				return d
			}
		}
	case reflect.Map:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: %d entries, not %d", path, b.Len(), a.Len())
		}
		for _, k := range a.MapKeys() {
			bv := b.MapIndex(k)
			if !bv.IsValid() {
				return fmt.Sprintf("%s[%v]: missing", path, k)
			}
			if d := stateDiff(fmt.Sprintf("%s[%v]", path, k), a.MapIndex(k), bv); d != "" {
				return d
			}
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if d := stateDiff(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i)); d != "" {
				return d
			}
		}
	case reflect.String:
		if a.String() != b.String() {
			return path + ": " + b.String() + ", not " + a.String()
		}
	case reflect.Bool:
		if a.Bool() != b.Bool() {
			return path + ": bools differ"
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if a.Int() != b.Int() {
			return fmt.Sprintf("%s: %d, not %d", path, b.Int(), a.Int())
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if a.Uint() != b.Uint() {
			return fmt.Sprintf("%s: %d, not %d", path, b.Uint(), a.Uint())
		}
	case reflect.Float32, reflect.Float64:
		if a.Float() != b.Float() {
			return path + ": floats differ"
		}
	default:
		return path + ": cannot compare a " + a.Kind().String()
	}
	return ""
}

// TestApplyingOnEqualsFold checks what a caller keeping folded states
// relies on: a state folded from the first facts of a stream, then given
// the rest one by one with Apply, equals the fold of the whole stream,
// back-dated facts and retractions (of retractions too) included.
func TestApplyingOnEqualsFold(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 5))
	o := school()
	ids := []uuid.UUID{o.ID, nextID()}
	for round := range 80 {
		facts := randomFacts(rng, 2+rng.IntN(120), ids)
		id := nextID()
		want, err := Fold(id, facts)
		require.NoError(t, err)
		k := 1 + rng.IntN(len(facts)-1)
		got, err := Fold(id, facts[:k])
		require.NoError(t, err)
		for _, f := range facts[k:] {
			require.NoError(t, got.Apply(f))
		}
		require.Empty(t, stateDiff("Practitioner", reflect.ValueOf(want).Elem(), reflect.ValueOf(got).Elem()), "round %d: %d facts then %d", round, k, len(facts)-k)
	}
}
