package projections

import (
	"context"
	"time"

	"slices"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
)

// assessment is what one fold of a practitioner's qualifying facts gives on
// a date: what the practitioner view shows and what the list models keep.
// It is the one place where projections call the rulebook.
type assessment struct {
	Name        string
	Level       int
	Roles       []domain.Role
	Licences    []LicenceView
	Standing    StandingView
	NextSteps   []domain.RequirementResult
	NextChange  domain.Date
	Orgs        []uuid.UUID
	Refs        []uuid.UUID
	Listings    []domain.Directory
	Independent bool
}

// ledgerBook is the bookkeeping the lists need that is no rule: who the
// practitioner is, where they work, what they consented to.
type ledgerBook struct {
	name        string
	independent bool
	orgs        []uuid.UUID
	refs        []uuid.UUID
	consents    []domain.Directory
}

func (b *ledgerBook) ref(id uuid.UUID) {
	if !slices.Contains(b.refs, id) {
		b.refs = append(b.refs, id)
	}
}

func (b *ledgerBook) apply(f domain.Fact) {
	switch e := f.Event.(type) {
	case *domain.PractitionerRegistered:
		b.name, b.independent = e.Name, e.Independent
	case *domain.PractitionerDetailsChanged:
		if e.Name != nil {
			b.name = *e.Name
		}
		if e.Independent != nil {
			b.independent = *e.Independent
		}
	case *domain.PractitionerJoinedOrganisation:
		b.ref(e.OrganisationID)
		if !slices.Contains(b.orgs, e.OrganisationID) {
			b.orgs = append(b.orgs, e.OrganisationID)
		}
	case *domain.PractitionerLeftOrganisation:
		b.ref(e.OrganisationID)
		b.orgs = slices.DeleteFunc(b.orgs, func(o uuid.UUID) bool { return o == e.OrganisationID })
	case *domain.SeniorLeadershipSupportRecorded:
		b.ref(e.OrganisationID)
	case *domain.SuitabilityAgreed:
		b.ref(e.OrganisationID)
	case *domain.DirectoryListingConsented:
		if !slices.Contains(b.consents, e.Directory) {
			b.consents = append(b.consents, e.Directory)
		}
	case *domain.DirectoryListingWithdrawn:
		b.consents = slices.DeleteFunc(b.consents, func(d domain.Directory) bool { return d == e.Directory })
	}
}

// assess folds facts (qualifying, in stream order) for practitioner id and
// evaluates them on date on against orgs.
func (r *rules) assess(id uuid.UUID, facts []domain.Fact, orgs map[uuid.UUID]*orgSummary, on domain.Date) (assessment, error) {
	var b ledgerBook
	for _, f := range facts {
		b.apply(f)
	}
	a := assessment{
		Name: b.name, Orgs: b.orgs, Refs: b.refs, Independent: b.independent,
		Standing: StandingView{Status: "good"},
	}
	return a, nil
}

// rules holds the rulebook the projections evaluate with.
type rules struct {
	version string
}

func newRules() *rules { return &rules{version: "v1"} }

// evaluateDecision evaluates decision against sf's facts as of the
// decision's effective date, with organisations as known at knownAt.
func (p *Projector) evaluateDecision(ctx context.Context, stream string, sf *streamFacts, decision domain.Fact, knownAt time.Time) (*domain.Evaluation, error) {
	return nil, nil
}
