package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
)

// PractitionerView is a practitioner as of a date and as known at a time:
// level, roles, licences, standing with its reasons, and what is missing for
// the next step. The JSON field names are the API's contract.
type PractitionerView struct {
	ID            uuid.UUID                  `json:"id"`
	Name          string                     `json:"name"`
	Level         int                        `json:"level"`
	Roles         []domain.Role              `json:"roles"`
	Licences      []LicenceView              `json:"licences"`
	Standing      StandingView               `json:"standing"`
	NextSteps     []domain.RequirementResult `json:"next_steps"`
	Organisations []uuid.UUID                `json:"organisations"`
	// AsOf is the effective date asked; KnownAt the recorded time asked, nil
	// when the view is as known now.
	AsOf    domain.Date `json:"as_of"`
	KnownAt *string     `json:"known_at"`
	// Revision is the stream revision of the last event the view saw.
	Revision uint64 `json:"revision"`
}

// LicenceView is one licence with its status on the date asked.
type LicenceView struct {
	LicenceID  string             `json:"licence_id"`
	Kind       domain.LicenceKind `json:"kind"`
	Status     string             `json:"status"`
	ValidUntil domain.Date        `json:"valid_until"`
}

// StandingView is a standing on a date with its reasons.
type StandingView struct {
	Status       string                     `json:"status"`
	Requirements []domain.RequirementResult `json:"requirements"`
	// NextChange is the next date on which the standing can change with no
	// new event; omitted when none is known.
	NextChange *domain.Date `json:"next_change,omitempty"`
}

// Views answers the queries that fold one stream on demand: a practitioner
// as of a date and as known at a time, and a stream's audit trail. Streams
// are short, so replaying one per query is cheap and always exact. Safe for
// concurrent use.
type Views struct {
	store eventstore.Store
	rules *rules
}

// NewViews returns Views reading store.
func NewViews(store eventstore.Store) *Views {
	return &Views{store: store, rules: newRules()}
}

// Practitioner returns practitioner id as of asOf (facts that occurred on or
// before it; zero means every fact) as known at knownAt (events recorded at
// or before it; zero means everything recorded). Retractions known at knownAt
// remove the facts they retract whatever their own occurred_on. An unknown
// practitioner, or one not yet registered at knownAt, gives ErrNotFound.
func (v *Views) Practitioner(ctx context.Context, id uuid.UUID, asOf domain.Date, knownAt time.Time) (PractitionerView, error) {
	stream := PractitionerStream(id)
	events, err := v.readStream(ctx, stream, knownAt)
	if err != nil {
		return PractitionerView{}, err
	}
	sf, err := decodeStream(events)
	if err != nil {
		return PractitionerView{}, fmt.Errorf("projections: %s: %w", stream, err)
	}
	facts, later := sf.qualifying(asOf, uuid.Nil)
	on := asOf
	if on.IsZero() {
		on = lastOccurred(facts)
	}
	orgs, err := v.organisationsOf(ctx, facts, asOf, knownAt)
	if err != nil {
		return PractitionerView{}, err
	}
	a, err := v.rules.assess(id, facts, orgs, on)
	if err != nil {
		return PractitionerView{}, fmt.Errorf("projections: %s: %w", stream, err)
	}
	next := earliest(a.NextChange, later)
	view := PractitionerView{
		ID: id, Name: a.Name, Level: a.Level, Roles: nonNil(a.Roles), Licences: nonNil(a.Licences),
		Standing: a.Standing, NextSteps: nonNil(a.NextSteps), Organisations: nonNil(a.Orgs),
		AsOf: on, Revision: events[len(events)-1].Revision,
	}
	view.Standing.Requirements = nonNil(view.Standing.Requirements)
	if !next.IsZero() {
		view.Standing.NextChange = &next
	}
	if !knownAt.IsZero() {
		k := knownAt.UTC().Format(timeFormat)
		view.KnownAt = &k
	}
	return view, nil
}

// organisationsOf folds, with the same bitemporal cut, every organisation
// the facts name, so that a past view uses what was known of them then.
func (v *Views) organisationsOf(ctx context.Context, facts []domain.Fact, asOf domain.Date, knownAt time.Time) (map[uuid.UUID]*orgSummary, error) {
	var b ledgerBook
	for _, f := range facts {
		b.apply(f)
	}
	out := make(map[uuid.UUID]*orgSummary, len(b.refs))
	for _, id := range b.refs {
		events, err := v.store.ReadStream(ctx, OrganisationStream(id), eventstore.ReadOptions{KnownAt: knownAt})
		if err != nil || len(events) == 0 {
			if err == nil || isNotFound(err) {
				continue // named but not (yet) registered: the rules see it as unknown
			}
			return nil, fmt.Errorf("projections: read organisation %s: %w", id, err)
		}
		sf, err := decodeStream(events)
		if err != nil {
			return nil, fmt.Errorf("projections: organisation %s: %w", id, err)
		}
		facts, _ := sf.qualifying(asOf, uuid.Nil)
		o := foldOrganisation(id, facts, events[len(events)-1].Revision)
		out[id] = o
	}
	return out, nil
}

// lastOccurred is the latest effective date among facts: the date a view
// with no as_of is evaluated on, so that it needs no clock.
func lastOccurred(facts []domain.Fact) domain.Date {
	var d domain.Date
	for _, f := range facts {
		if f.OccurredOn.After(d) {
			d = f.OccurredOn
		}
	}
	return d
}

func earliest(a, b domain.Date) domain.Date {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	case b.Before(a):
		return b
	}
	return a
}

// nonNil makes empty lists encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Facts returns the facts of stream that qualify as of asOf (zero: every
// date) as known at knownAt (zero: now), retractions applied, in stream
// order, with the revision of the stream's last event read. The API's write
// path folds them to evaluate a decision and appends with that revision
// expected, so that nothing lands in between unseen. An unknown stream gives
// ErrNotFound.
func (v *Views) Facts(ctx context.Context, stream string, asOf domain.Date, knownAt time.Time) ([]domain.Fact, uint64, error) {
	events, err := v.readStream(ctx, stream, knownAt)
	if err != nil {
		return nil, 0, err
	}
	sf, err := decodeStream(events)
	if err != nil {
		return nil, 0, fmt.Errorf("projections: %s: %w", stream, err)
	}
	facts, _ := sf.qualifying(asOf, uuid.Nil)
	return facts, events[len(events)-1].Revision, nil
}
