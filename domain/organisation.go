package domain

import (
	"fmt"

	"github.com/google/uuid"
)

// Organisation is an organisation's state folded from its stream: its
// registration and its organisational licences. Like Practitioner, it is
// safe for concurrent reads once folded.
type Organisation struct {
	// ID is the organisation's id, as in organisation-<id>.
	ID uuid.UUID
	// Registered is true once an unretracted OrganisationRegistered is
	// folded; Name, Kind and RegisteredService come from the latest one.
	Registered        bool
	Name              string
	Kind              OrganisationKind
	RegisteredService bool
	// RegisteredEventID is the registration the fields above come from.
	RegisteredEventID uuid.UUID

	retractions
	licenceBook
	registrations []orgRegistrationRec
	reviews       []reviewRec
}

type orgRegistrationRec struct {
	meta
	OrganisationRegistered
}

// NewOrganisation returns the empty state of the organisation with id.
func NewOrganisation(id uuid.UUID) *Organisation { return &Organisation{ID: id} }

// FoldOrganisation applies facts in stream order to a new Organisation.
func FoldOrganisation(id uuid.UUID, facts []Fact) (*Organisation, error) {
	o := NewOrganisation(id)
	for i := range facts {
		if err := o.Apply(facts[i]); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// Apply folds one fact of the organisation's stream into o; a type that
// does not belong in an organisation's stream is an error.
func (o *Organisation) Apply(f Fact) error {
	if f.Event == nil {
		return fmt.Errorf("domain: fact %s has no event", f.ID)
	}
	m := o.newMeta(f)
	ok := true
	switch e := f.Event.(type) {
	case *OrganisationRegistered:
		o.registrations = append(o.registrations, orgRegistrationRec{m, *e})
	case *LicenceGranted, *LicenceRenewed, *LicenceSuspended, *LicenceReinstated, *LicenceRevoked:
		_, ok = o.licenceBook.apply(m, e)
	case *DecisionReviewed:
		o.reviews = append(o.reviews, reviewRec{meta: m, decision: e.DecisionEventID, outcome: e.Outcome})
	case *EventRetracted:
		o.retractions.add(f, e.RetractedEventID)
		markRetracted(o.registrations, o.retracted)
		markRetracted(o.licenceBook.events, o.retracted)
		markRetracted(o.reviews, o.retracted)
	default:
		ok = false
	}
	if !ok {
		return fmt.Errorf("domain: organisation %s: cannot apply %s (%T) to an organisation's state", o.ID, f.Event.EventType(), f.Event)
	}
	o.refresh()
	return nil
}

// refresh sets the exported registration fields from the latest
// unretracted registration.
func (o *Organisation) refresh() {
	o.Registered, o.Name, o.Kind, o.RegisteredService, o.RegisteredEventID = false, "", "", false, uuid.Nil
	for i := range o.registrations {
		r := &o.registrations[i]
		if !r.Retracted {
			o.Registered, o.Name, o.Kind, o.RegisteredService, o.RegisteredEventID = true, r.Name, r.Kind, r.OrganisationRegistered.RegisteredService, r.ID
		}
	}
}

// Reviews returns the unretracted reviews of decisions in this stream.
func (o *Organisation) Reviews() []Review { return reviewsOf(o.reviews) }

// Organisations looks organisations up by id for rules that need "a
// registered school or service". It returns nil for an unknown id.
// Implementations must be safe for concurrent reads if evaluations run
// concurrently.
type Organisations interface {
	Organisation(id uuid.UUID) *Organisation
}

// OrganisationSet is an Organisations held in a map.
type OrganisationSet map[uuid.UUID]*Organisation

// Organisation returns the organisation with id, or nil.
func (s OrganisationSet) Organisation(id uuid.UUID) *Organisation { return s[id] }

// lookupOrg tolerates a nil Organisations: no organisation is known.
func lookupOrg(orgs Organisations, id uuid.UUID) *Organisation {
	if orgs == nil {
		return nil
	}
	return orgs.Organisation(id)
}
