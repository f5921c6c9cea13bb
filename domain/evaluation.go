package domain

import "github.com/google/uuid"

// Evaluation is the outcome of walking a set of requirements against a
// history on a date: every requirement, met or not, with its evidence. A
// decision stores the evaluation the ledger made when it was taken.
type Evaluation struct {
	// Subject names what was evaluated, e.g. "LicenceGranted level3a".
	Subject string `json:"subject"`
	// On is the date the requirements were evaluated for.
	On Date `json:"on"`
	// Met is true when every requirement is met.
	Met          bool                `json:"met"`
	Requirements []RequirementResult `json:"requirements"`
}

// RequirementResult is one requirement's outcome.
type RequirementResult struct {
	// Name is the requirement's stable name, e.g. "foundation_a_supported".
	Name string `json:"name"`
	// Description says what it asks for, in words a person reads.
	Description string `json:"description,omitempty"`
	Met         bool   `json:"met"`
	// Evidence lists the ids of the events that meet (or partly meet) it.
	Evidence []uuid.UUID `json:"evidence"`
	// Missing says what is still missing when unmet, e.g.
	// "1 of 2 Foundation A courses this year".
	Missing string `json:"missing,omitempty"`
	// Source cites the seed sentence the requirement comes from.
	Source string `json:"source,omitempty"`
}
