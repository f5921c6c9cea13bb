package domain

import (
	"fmt"

	"github.com/google/uuid"
)

// DecisionInputs are what evaluating a decision needs beyond its own
// stream's facts, read by the caller however it reads the store (as known
// now for a decision being taken, as known then or now for one recorded).
type DecisionInputs struct {
	// Organisation returns organisation id folded, or nil when it is not
	// registered (the rules then see it as unknown).
	Organisation func(id uuid.UUID) (*Organisation, error)
	// Members returns the practitioners who work in or with organisation
	// org, folded: their streams may hold what an organisation's decision
	// needs (a senior-leadership commitment, say).
	Members func(org uuid.UUID) ([]*Practitioner, error)
	// LicenceGrants, when set, returns the LicenceGranted events of
	// licenceID recorded in streams other than the one deciding, as the
	// caller reads the ledger (the write path: everything known now; a
	// recorded decision's re-evaluation: what qualified as of its date, as
	// known then or now). A grant of a licence_id already granted elsewhere
	// is outside rulebook v1.1 (DOMAIN.md: "`LicenceGranted` with a
	// `licence_id` already granted are outside the rules"), and the
	// evaluation names those grants as its evidence. Nil: only the
	// deciding stream is looked at.
	LicenceGrants func(licenceID string) ([]uuid.UUID, error)
}

// grantedLicenceID returns the licence_id a LicenceGranted names.
func grantedLicenceID(e Event) (string, bool) {
	switch v := any(e).(type) {
	case *LicenceGranted:
		if v != nil {
			return v.LicenceID, true
		}
	case LicenceGranted:
		return v.LicenceID, true
	}
	return "", false
}

// grantsElsewhere asks in for the grants of the licence_id decision e
// names in other streams, when e is a grant, the rulebook forbids a
// re-grant and the caller can look.
func (rb *Rulebook) grantsElsewhere(e Event, in DecisionInputs) ([]uuid.UUID, error) {
	if len(rb.LicenceIDNew) == 0 || in.LicenceGrants == nil {
		return nil, nil
	}
	id, ok := grantedLicenceID(e)
	if !ok || id == "" {
		return nil, nil
	}
	return in.LicenceGrants(id)
}

// EvaluateInStream is the one recipe for evaluating decision e, effective
// on, recorded (or to be recorded) on stream: facts are the stream's facts
// it is judged against, the decision itself left out. A practitioner's
// decision folds the facts and the organisations they name; an
// organisation's folds the organisation and its members. The write path,
// the decision view (then and now) and import all come through here. An
// error is a failure to read or fold, never a refusal.
func (rb *Rulebook) EvaluateInStream(stream string, facts []Fact, e Event, on Date, in DecisionInputs) (Evaluation, error) {
	ev, _, err := rb.evaluateInStream(stream, facts, e, on, in)
	return ev, err
}

// DecideInStream is EvaluateInStream for a decision being taken: when a
// requirement is unmet and the decision is not an exception it returns
// the refusal (code EREFUSED, carrying the evaluation), as Decide does.
func (rb *Rulebook) DecideInStream(stream string, facts []Fact, e Event, on Date, in DecisionInputs) (Evaluation, error) {
	ev, d, err := rb.evaluateInStream(stream, facts, e, on, in)
	if err != nil {
		return ev, err
	}
	if err := refusal(&ev, d); err != nil {
		return ev, err
	}
	return ev, nil
}

func (rb *Rulebook) evaluateInStream(stream string, facts []Fact, e Event, on Date, in DecisionInputs) (Evaluation, *Decision, error) {
	kind, id, ok := ParseStream(stream)
	if !ok {
		return Evaluation{}, nil, fmt.Errorf("domain: %q is not a ledger stream", stream)
	}
	elsewhere, err := rb.grantsElsewhere(e, in)
	if err != nil {
		return Evaluation{}, nil, err
	}
	if kind == OrganisationStream {
		o, err := FoldOrganisation(id, facts)
		if err != nil {
			return Evaluation{}, nil, fmt.Errorf("domain: fold %s: %w", stream, err)
		}
		var members []*Practitioner
		if in.Members != nil {
			if members, err = in.Members(id); err != nil {
				return Evaluation{}, nil, err
			}
		}
		ev, d := rb.evaluateOrganisationDecision(o, members, e, on, elsewhere)
		return ev, d, nil
	}
	p, err := Fold(id, facts)
	if err != nil {
		return Evaluation{}, nil, fmt.Errorf("domain: fold %s: %w", stream, err)
	}
	orgs := OrganisationSet{}
	if in.Organisation != nil {
		for _, org := range OrganisationsNamed(facts) {
			o, err := in.Organisation(org)
			if err != nil {
				return Evaluation{}, nil, err
			}
			if o != nil {
				orgs[org] = o
			}
		}
	}
	ev, d := rb.evaluateDecision(p, orgs, e, on, elsewhere)
	return ev, d, nil
}

// LicenceGrantsIn returns the LicenceGranted facts among facts (one
// stream's) that name licenceID and are not retracted, by the fold's one
// retraction rule (EffectiveRetractions): what a caller reading other
// streams hands back through DecisionInputs.LicenceGrants.
func LicenceGrantsIn(facts []Fact, licenceID string) []uuid.UUID {
	var retracted map[uuid.UUID]uuid.UUID
	var out []uuid.UUID
	for _, f := range facts {
		id, ok := grantedLicenceID(f.Event)
		if !ok || id != licenceID {
			continue
		}
		if retracted == nil {
			retracted = EffectiveRetractions(facts)
		}
		if _, gone := retracted[f.ID]; !gone {
			out = append(out, f.ID)
		}
	}
	return out
}
