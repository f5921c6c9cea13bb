package projections

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/domain"
)

// runProjector starts p.Run and stops it when the test ends.
func runProjector(t *testing.T, p *Projector) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)
	})
	return ctx
}

func TestDecisionQueue(t *testing.T) {
	store := openStore(t, t.TempDir())
	f := newFixture(t, store)
	org := f.organisation("Example Primary School", domain.OrgSchool, "2029-01-01")
	pid := f.practitioner("Sam Sample", "2029-01-05")
	ps := PractitionerStream(pid)
	dec := func(exception bool) domain.Decision {
		return domain.Decision{DecidedBy: "Dana Decider", Rationale: "fast track: the school needs a lead this term", Exception: exception}
	}
	ordinary := f.add(ps, "2029-02-01", &domain.LicenceGranted{LicenceID: "L3A-1", Kind: domain.LicenceLevel3A, ValidUntil: date("2030-02-01"), Decision: dec(false)})
	exception := f.add(ps, "2029-03-01", &domain.CertificationAwarded{Role: domain.RoleLeadProfessional, Decision: dec(true)})
	orgDecision := f.add(OrganisationStream(org), "2029-03-02", &domain.LicenceGranted{LicenceID: "ORG-1", Kind: domain.LicenceOrganisational, ValidUntil: date("2030-03-02"), Decision: dec(false)})
	review := f.add(ps, "2029-04-01", &domain.DecisionReviewed{DecisionEventID: ordinary.ID, Outcome: domain.ReviewUpheld, Notes: "consistent with the evidence"})
	retractedReview := f.add(ps, "2029-04-02", &domain.DecisionReviewed{DecisionEventID: exception.ID, Outcome: domain.ReviewOverturned})
	last := f.add(ps, "2029-04-03", &domain.EventRetracted{RetractedEventID: retractedReview.ID, Reason: "reviewed the wrong decision"})

	p, err := New(store, Options{Today: func() domain.Date { return date("2029-06-01") }})
	require.NoError(t, err)
	ctx := runProjector(t, p)
	require.NoError(t, p.WaitFor(ctx, last.Position))

	ids := func(items []DecisionItem) []uuid.UUID {
		out := make([]uuid.UUID, len(items))
		for i, it := range items {
			out[i] = it.DecisionEventID
		}
		return out
	}
	tests := []struct {
		status string
		want   []uuid.UUID
	}{
		{"all", []uuid.UUID{ordinary.ID, exception.ID, orgDecision.ID}},
		{"", []uuid.UUID{ordinary.ID, exception.ID, orgDecision.ID}},
		{"unreviewed", []uuid.UUID{exception.ID, orgDecision.ID}},
		{"exception", []uuid.UUID{exception.ID}},
	}
	for _, tc := range tests {
		t.Run("status "+tc.status, func(t *testing.T) {
			items, err := p.Decisions(ctx, tc.status)
			require.NoError(t, err)
			assert.Equal(t, tc.want, ids(items), "oldest first")
		})
	}
	t.Run("a decision carries its fields and its standing reviews", func(t *testing.T) {
		items, err := p.Decisions(ctx, "all")
		require.NoError(t, err)
		require.Len(t, items, 3)
		first := items[0]
		assert.Equal(t, ps, first.Stream)
		assert.Equal(t, domain.TypeLicenceGranted, first.Type)
		assert.Equal(t, "Dana Decider", first.DecidedBy)
		assert.False(t, first.Exception)
		require.Len(t, first.Reviews, 1)
		assert.Equal(t, review.ID, first.Reviews[0].EventID)
		assert.Equal(t, domain.ReviewUpheld, first.Reviews[0].Outcome)
		assert.Empty(t, items[1].Reviews, "the retracted review does not count")
		assert.Empty(t, first.RetractedReviews)
		assert.True(t, items[1].Exception)
		assert.Equal(t, OrganisationStream(org), items[2].Stream)
	})
	t.Run("an organisation's decision is evaluated against the organisation", func(t *testing.T) {
		d, err := p.Decision(ctx, orgDecision.ID)
		require.NoError(t, err)
		assert.Nil(t, d.Evaluation, "none was stored with it")
		require.NotNil(t, d.EvaluationThen)
		require.NotNil(t, d.Reevaluation)
		assert.Equal(t, d.EvaluationThen.Subject, d.Reevaluation.Subject)
		assert.NotEmpty(t, d.Reevaluation.Requirements)
		assert.Equal(t, date("2029-03-02"), d.Reevaluation.On)
	})
	t.Run("bad status and unknown decision", func(t *testing.T) {
		_, err := p.Decisions(ctx, "pending")
		assert.ErrorIs(t, err, ErrInvalidFilter)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		_, err = p.Decision(ctx, uuid.New())
		assert.ErrorIs(t, err, ErrNotFound)
		assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
	})
}

// TestDecisionQueueShowsRetractedReviews: a review taken back puts its
// decision back among the unreviewed, and the queue shows the review with
// the retraction that took it back; retracting that retraction restores
// the review.
func TestDecisionQueueShowsRetractedReviews(t *testing.T) {
	store := openStore(t, t.TempDir())
	f := newFixture(t, store)
	pid := f.practitioner("Sam Sample", "2029-01-05")
	ps := PractitionerStream(pid)
	decision := f.add(ps, "2029-02-01", &domain.LicenceGranted{LicenceID: "L3A-1", Kind: domain.LicenceLevel3A, ValidUntil: date("2030-02-01"),
		Decision: domain.Decision{DecidedBy: "Dana Decider", Rationale: "the panel met"}})
	review := f.add(ps, "2029-04-01", &domain.DecisionReviewed{DecisionEventID: decision.ID, Outcome: domain.ReviewOverturned, Notes: "evidence missing"})
	retraction := f.add(ps, "2029-04-02", &domain.EventRetracted{RetractedEventID: review.ID, Reason: "reviewed against the wrong rulebook"})

	p, err := New(store, Options{Today: func() domain.Date { return date("2029-06-01") }})
	require.NoError(t, err)
	ctx := runProjector(t, p)
	require.NoError(t, p.WaitFor(ctx, retraction.Position))

	items, err := p.Decisions(ctx, StatusUnreviewed)
	require.NoError(t, err)
	require.Len(t, items, 1, "unreviewed again once its only review is taken back")
	it := items[0]
	assert.Equal(t, decision.ID, it.DecisionEventID)
	assert.Empty(t, it.Reviews)
	require.Len(t, it.RetractedReviews, 1)
	rr := it.RetractedReviews[0]
	assert.Equal(t, review.ID, rr.EventID)
	assert.Equal(t, domain.ReviewOverturned, rr.Outcome)
	require.NotNil(t, rr.Retraction)
	assert.Equal(t, retraction.ID, rr.Retraction.EventID)
	assert.Equal(t, "reviewed against the wrong rulebook", rr.Retraction.Reason)
	assert.Equal(t, "admin:Test Admin", rr.Retraction.RetractedBy)
	assert.NotEmpty(t, rr.Retraction.RecordedAt)
	view, err := p.Decision(ctx, decision.ID)
	require.NoError(t, err)
	assert.Equal(t, it.RetractedReviews, view.RetractedReviews)

	restored := f.add(ps, "2029-04-03", &domain.EventRetracted{RetractedEventID: retraction.ID, Reason: "the retraction was the mistake"})
	require.NoError(t, p.WaitFor(ctx, restored.Position))
	items, err = p.Decisions(ctx, StatusUnreviewed)
	require.NoError(t, err)
	assert.Empty(t, items, "the review stands again")
	all, err := p.Decisions(ctx, StatusAll)
	require.NoError(t, err)
	require.Len(t, all, 1)
	require.Len(t, all[0].Reviews, 1)
	assert.Nil(t, all[0].Reviews[0].Retraction)
	assert.Empty(t, all[0].RetractedReviews)
}

// TestDecisionReadTo: a decision's view says how far into the store its
// re-evaluation read, so that the API tags it with the models' position
// only when it read nothing past them: its own stream, and the streams
// of other holders of the licence_id it grants, and the organisations it
// folds.
func TestDecisionReadTo(t *testing.T) {
	store := openStore(t, t.TempDir())
	f := newFixture(t, store)
	holder := f.practitioner("Harper Holder", "2029-01-03")
	f.add(PractitionerStream(holder), "2029-01-20", &domain.LicenceGranted{LicenceID: "L-SHARED", Kind: domain.LicenceInformalUse, ValidUntil: date("2030-01-20"),
		Decision: domain.Decision{DecidedBy: "Dana Decider", Rationale: "the panel met"}})
	org := f.organisation("Example Primary School", domain.OrgSchool, "2029-01-01")
	pid := f.practitioner("Sam Sample", "2029-01-05")
	f.add(PractitionerStream(pid), "2029-01-06", &domain.PractitionerJoinedOrganisation{OrganisationID: org})
	decision := f.add(PractitionerStream(pid), "2029-02-01", &domain.LicenceGranted{LicenceID: "L-SHARED", Kind: domain.LicenceInformalUse, ValidUntil: date("2030-02-01"),
		Decision: domain.Decision{DecidedBy: "Dana Decider", Rationale: "fast track", Exception: true}})

	p, err := New(store, Options{Today: func() domain.Date { return date("2029-06-01") }})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, p.Rebuild(ctx, nil)) // models built once, never run: they stay where they are
	held := p.Checkpoint()
	require.Equal(t, decision.Position, held)

	view, err := p.Decision(ctx, decision.ID)
	require.NoError(t, err)
	assert.Equal(t, decision.Position, view.ReadTo(), "nothing past the models")
	require.NotNil(t, view.Reevaluation)

	own := f.add(PractitionerStream(pid), "2029-01-10", &domain.CPDEngagementRecorded{Kind: domain.CPDLinkedCPD, Hours: 2})
	view, err = p.Decision(ctx, decision.ID)
	require.NoError(t, err)
	assert.Equal(t, own.Position, view.ReadTo(), "its own stream, past the models")
	assert.Equal(t, held, p.Checkpoint())

	other := f.add(PractitionerStream(holder), "2029-01-25", &domain.CPDEngagementRecorded{Kind: domain.CPDLinkedCPD, Hours: 1})
	view, err = p.Decision(ctx, decision.ID)
	require.NoError(t, err)
	assert.Equal(t, other.Position, view.ReadTo(), "the other holder's stream, read for licence_id_not_granted")

	school := f.add(OrganisationStream(org), "2029-01-15", &domain.LicenceGranted{LicenceID: "L-SCHOOL", Kind: domain.LicenceOrganisational, ValidUntil: date("2030-01-15"),
		Decision: domain.Decision{DecidedBy: "Dana Decider", Rationale: "the panel met"}})
	view, err = p.Decision(ctx, decision.ID)
	require.NoError(t, err)
	assert.Equal(t, school.Position, view.ReadTo(), "the organisation it works in, folded for the school-held licences")
}
