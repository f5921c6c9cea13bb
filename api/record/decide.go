package record

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/projections"
)

// MembersFunc returns the practitioners who work in or with an
// organisation, whose streams may hold what an organisation's decision
// needs (a senior-leadership commitment, say).
type MembersFunc func(ctx context.Context, org uuid.UUID) ([]uuid.UUID, error)

// LicenceGrantsFunc returns the LicenceGranted events of licenceID in
// streams other than stream, as known now (domain.DecisionInputs.LicenceGrants).
type LicenceGrantsFunc func(ctx context.Context, licenceID, stream string) ([]uuid.UUID, error)

// evaluate evaluates decision ev, effective on, against stream's history as
// known now, under the current rulebook (the views'), by the domain's one
// recipe. It returns the rulebook version and the evaluation to store, or
// the domain's refusal (which carries the evaluation) when a requirement is
// unmet and ev is no exception.
func (r *Recorder) evaluate(ctx context.Context, stream string, ev domain.Event, on domain.Date) (string, *domain.Evaluation, error) {
	rulebook := r.views.Rulebooks().Current()
	facts, err := r.facts(ctx, stream)
	if err != nil {
		return "", nil, err
	}
	in := domain.DecisionInputs{
		Organisation: func(org uuid.UUID) (*domain.Organisation, error) {
			ofacts, err := r.facts(ctx, projections.OrganisationStream(org))
			if errors.Is(err, projections.ErrNotFound) {
				return nil, nil // named but not registered: the rules see it as unknown
			}
			if err != nil {
				return nil, err
			}
			o, err := domain.FoldOrganisation(org, ofacts)
			if err != nil {
				return nil, fmt.Errorf("api: fold organisation %s: %w", org, err)
			}
			return o, nil
		},
		Members: func(org uuid.UUID) ([]*domain.Practitioner, error) {
			if r.members == nil {
				return nil, nil
			}
			ids, err := r.members(ctx, org)
			if err != nil {
				return nil, err
			}
			var members []*domain.Practitioner
			for _, m := range ids {
				p, err := r.practitioner(ctx, m)
				if err != nil {
					return nil, err
				}
				members = append(members, p)
			}
			return members, nil
		},
		LicenceGrants: func(licenceID string) ([]uuid.UUID, error) {
			if r.licenceGrants == nil {
				return nil, nil
			}
			return r.licenceGrants(ctx, licenceID, stream)
		},
	}
	eval, err := rulebook.DecideInStream(stream, facts, ev, on, in)
	if err != nil {
		return "", nil, err
	}
	return rulebook.Version, &eval, nil
}

// facts returns every fact of stream as known now, retractions applied.
func (r *Recorder) facts(ctx context.Context, stream string) ([]domain.Fact, error) {
	facts, _, err := r.views.Facts(ctx, stream, domain.Date{}, time.Time{})
	return facts, err
}

// practitioner folds practitioner id's stream as known now.
func (r *Recorder) practitioner(ctx context.Context, id uuid.UUID) (*domain.Practitioner, error) {
	facts, err := r.facts(ctx, projections.PractitionerStream(id))
	if err != nil {
		return nil, err
	}
	p, err := domain.Fold(id, facts)
	if err != nil {
		return nil, fmt.Errorf("api: fold practitioner %s: %w", id, err)
	}
	return p, nil
}

// MembersFrom returns a MembersFunc over the projector's practitioner list.
// Just after a start the list may not be built yet, and the read models may
// be stopped or behind: it waits up to wait for them to be ready, and past
// that fails (the decision is not recorded) rather than evaluate the
// organisation against a missing or stale list of members.
func MembersFrom(proj *projections.Projector, today func() domain.Date, wait time.Duration) MembersFunc {
	return func(ctx context.Context, org uuid.UUID) ([]uuid.UUID, error) {
		if proj.Ready() != nil {
			wctx, cancel := context.WithTimeout(ctx, wait)
			err := proj.WaitReady(wctx)
			cancel()
			if err != nil {
				if !errors.Is(err, projections.ErrNotReady) {
					err = fmt.Errorf("%w: %w", projections.ErrNotReady, err)
				}
				return nil, fmt.Errorf("api: members of organisation %s: %w", org, err)
			}
		}
		var ids []uuid.UUID
		f := projections.Filter{OrganisationID: org, Limit: 1000}
		for {
			page, err := proj.ListPractitioners(ctx, f, today())
			if err != nil {
				return nil, err
			}
			for _, it := range page.Items {
				ids = append(ids, it.ID)
			}
			if page.NextCursor == "" {
				return ids, nil
			}
			f.Cursor = page.NextCursor
		}
	}
}
