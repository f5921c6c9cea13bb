package projections

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/domain"
)

// TestPractitionerBitemporal walks one practitioner's history through the
// combinations of as_of and known_at: a late-recorded fact (Intermediate B,
// recorded after Intermediate A though it happened before it), and a
// retraction recorded last but dated after every as_of asked, which still
// applies whenever it is known (rulebook v1 reading).
func TestPractitionerBitemporal(t *testing.T) {
	store := openStore(t, t.TempDir())
	f := newFixture(t, store)
	id := f.practitioner("Robin Example", "2029-01-10")
	ps := PractitionerStream(id)
	course := func(on string, c domain.Course) time.Time {
		return f.add(ps, on, &domain.CourseCompleted{Course: c}).RecordedAt
	}
	course("2029-02-01", domain.CourseFoundationAPart1)
	course("2029-03-01", domain.CourseFoundationAPart2)
	fb := f.add(ps, "2029-04-01", &domain.CourseCompleted{Course: domain.CourseFoundationB})
	tA := course("2029-06-01", domain.CourseIntermediateA)
	tB := course("2029-05-01", domain.CourseIntermediateB) // recorded late
	retraction := f.add(ps, "2029-12-01", &domain.EventRetracted{RetractedEventID: fb.ID, Reason: "recorded against the wrong practitioner"})
	v := NewViews(store)

	tests := []struct {
		name    string
		asOf    string
		knownAt time.Time
		level   int
	}{
		{"the day before Foundation B, known then", "2029-03-31", fb.RecordedAt, 0},
		{"the day of Foundation B, known then", "2029-04-01", fb.RecordedAt, 1},
		{"after Intermediate A but before the late record of B", "2029-07-01", tA, 1},
		{"once B is recorded, the same date reads level 2", "2029-07-01", tB, 2},
		{"B is known but A had not yet happened", "2029-05-15", tB, 1},
		{"a nanosecond before the retraction was recorded", "2029-07-01", retraction.RecordedAt.Add(-time.Nanosecond), 2},
		{"the retraction applies as of a date before its own occurred_on", "2029-07-01", retraction.RecordedAt, 0},
		{"as known now, Foundation B never counted", "2029-04-01", time.Time{}, 0},
		{"as known now, much later", "2031-01-01", time.Time{}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			view, err := v.Practitioner(f.ctx, id, date(tc.asOf), tc.knownAt)
			require.NoError(t, err)
			assert.Equal(t, tc.level, view.Level)
			assert.Equal(t, "Robin Example", view.Name)
			assert.Equal(t, date(tc.asOf), view.AsOf)
			if tc.knownAt.IsZero() {
				assert.Nil(t, view.KnownAt)
				assert.Equal(t, retraction.Revision, view.Revision)
			} else {
				require.NotNil(t, view.KnownAt)
				back, err := time.Parse(time.RFC3339Nano, *view.KnownAt)
				require.NoError(t, err)
				assert.True(t, back.Equal(tc.knownAt))
			}
		})
	}

	t.Run("the JSON carries the contract's fields and never an email", func(t *testing.T) {
		view, err := v.Practitioner(f.ctx, id, date("2029-07-01"), tB)
		require.NoError(t, err)
		b, err := json.Marshal(view)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		for _, k := range []string{"id", "name", "level", "roles", "licences", "standing", "next_steps", "as_of", "known_at", "revision"} {
			assert.Contains(t, m, k)
		}
		st := m["standing"].(map[string]any)
		assert.Contains(t, st, "status")
		assert.Contains(t, st, "requirements")
		assert.NotContains(t, string(b), "example.org")
	})

	t.Run("unknown, or not yet registered at known_at", func(t *testing.T) {
		_, err := v.Practitioner(f.ctx, uuid.New(), date("2029-07-01"), time.Time{})
		assert.ErrorIs(t, err, ErrNotFound)
		_, err = v.Practitioner(f.ctx, id, date("2029-07-01"), time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
		assert.ErrorIs(t, err, ErrNotFound)
		assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
	})
}

// TestDecisionReevaluation records a Level 3 A licence grant whose
// requirements were met when it was taken; later the study supporters'
// preparation course it rested on is retracted. The stored evaluation and
// the evaluation on the history known then both say met; the re-evaluation
// on everything known now says unmet and names what is missing.
func TestDecisionReevaluation(t *testing.T) {
	store := openStore(t, t.TempDir())
	f := newFixture(t, store)
	org := f.organisation("Example Primary School", domain.OrgSchool, "2028-09-01")
	id := f.practitioner("Jo Example", "2029-01-10")
	ps := PractitionerStream(id)
	f.add(ps, "2029-01-11", &domain.PractitionerJoinedOrganisation{OrganisationID: org})
	f.add(ps, "2029-01-12", &domain.SeniorLeadershipSupportRecorded{OrganisationID: org, EndorsedBy: "Head Teacher"})
	for i, c := range []domain.Course{domain.CourseFoundationAPart1, domain.CourseFoundationAPart2, domain.CourseFoundationB, domain.CourseIntermediateA} {
		f.add(ps, date("2029-02-01").AddDays(i*30).String(), &domain.CourseCompleted{Course: c})
	}
	prep := f.add(ps, "2029-06-01", &domain.CourseCompleted{Course: domain.CourseStudySupporterPreparation})
	grant := f.decide(id, "2029-07-01", &domain.LicenceGranted{LicenceID: "L3A-7", Kind: domain.LicenceLevel3A,
		Scope: domain.ScopeEverydayParenting, ValidUntil: date("2030-06-30"),
		Decision: domain.Decision{DecidedBy: "Dana Decider", Rationale: "all requirements met"}})
	last := f.add(ps, "2029-09-01", &domain.EventRetracted{RetractedEventID: prep.ID, Reason: "the course was not completed"})

	p, err := New(store, Options{Today: func() domain.Date { return date("2029-10-01") }})
	require.NoError(t, err)
	ctx := runProjector(t, p)
	require.NoError(t, p.WaitFor(ctx, last.Position))

	d, err := p.Decision(ctx, grant.ID)
	require.NoError(t, err)
	assert.Equal(t, grant.ID, d.DecisionEventID)
	assert.Equal(t, "Dana Decider", d.DecidedBy)
	assert.Equal(t, domain.RulebookV1().Version, d.RulebookVersion)
	require.NotNil(t, d.Evaluation)
	require.NotNil(t, d.EvaluationThen)
	require.NotNil(t, d.Reevaluation)
	assert.True(t, d.Evaluation.Met, "stored: met when taken")
	assert.True(t, d.EvaluationThen.Met, "on the history known then: met")
	assert.Equal(t, d.Evaluation.Requirements, d.EvaluationThen.Requirements, "recomputing then gives what was stored")
	assert.False(t, d.Reevaluation.Met, "now: the retracted course no longer counts")
	var missing []string
	for _, r := range d.Reevaluation.Requirements {
		if !r.Met {
			missing = append(missing, r.Name)
		}
	}
	// The decision was taken under v1 (the fixture records it so): then is
	// worked out under v1, now under the current rulebook, v1.1, which
	// also asks a Level 3 A licensee to have started out as a trainee.
	assert.Equal(t, "v1", d.EvaluationThenRulebook)
	assert.Equal(t, domain.CurrentRulebookVersion, d.ReevaluationRulebook)
	assert.Equal(t, []string{"study_supporter_preparation", "trainee_or_lead_professional"}, missing)

	t.Run("the view still shows the licence granted", func(t *testing.T) {
		view, err := p.Practitioner(ctx, id, date("2029-10-01"), time.Time{})
		require.NoError(t, err)
		require.Len(t, view.Licences, 1)
		assert.Equal(t, "active", view.Licences[0].Status)
		assert.Equal(t, 3, view.Level, "a current Level 3 A licence")
	})
}

// TestViewTagFollowsItsInputs: the same view read twice has the same tag;
// a new event, another as_of, another known_at or another rulebook version
// gives another.
func TestViewTagFollowsItsInputs(t *testing.T) {
	store := openStore(t, t.TempDir())
	f := newFixture(t, store)
	id := f.practitioner("Robin Example", "2029-01-10")
	first := f.add(PractitionerStream(id), "2029-02-01", &domain.CourseCompleted{Course: domain.CourseFoundationAPart1})
	v := NewViews(store)
	on := domain.NewDate(2029, time.June, 1)
	tag := func(v *Views, on domain.Date, knownAt time.Time) string {
		t.Helper()
		view, err := v.Practitioner(f.ctx, id, on, knownAt)
		require.NoError(t, err)
		require.NotEmpty(t, view.Tag())
		return view.Tag()
	}
	base := tag(v, on, time.Time{})
	assert.Equal(t, base, tag(v, on, time.Time{}), "the same inputs")
	assert.NotEqual(t, base, tag(v, on.AddDays(1), time.Time{}), "as_of")
	assert.NotEqual(t, base, tag(v, on, first.RecordedAt), "known_at")
	older, ok := domain.RulebooksWithCurrent("v1")
	require.True(t, ok)
	require.NotEqual(t, "v1", domain.CurrentRulebookVersion)
	assert.NotEqual(t, base, tag(newViews(store, DefaultCachedFacts, nil, older), on, time.Time{}), "rulebook version")
	f.add(PractitionerStream(id), "2029-03-01", &domain.CourseCompleted{Course: domain.CourseFoundationAPart2})
	assert.NotEqual(t, base, tag(v, on, time.Time{}), "a new event")
}
