package domain

import "slices"

// Personal data. DOMAIN.md keeps a practitioner's own personal data (name,
// email) to PractitionerRegistered and PractitionerDetailsChanged, so that it
// can be made unreadable later (crypto-shredding) without breaking the rest
// of the history. The domain only declares which fields those are; sealing
// them, and the keys, belong to the write path and the key store.

// personalFields lists, per event type, the JSON names of the fields that
// hold the practitioner's own personal data.
var personalFields = map[string][]string{
	TypePractitionerRegistered:     {"name", "email"},
	TypePractitionerDetailsChanged: {"name", "email"},
}

// PersonalFields returns the JSON names of the fields of event type typ
// that hold a practitioner's own personal data (name, email), or nil when
// the type holds none. The slice is the caller's.
func PersonalFields(typ string) []string { return slices.Clone(personalFields[typ]) }

// HasPersonalData reports whether event type typ has personal-data fields.
func HasPersonalData(typ string) bool { return personalFields[typ] != nil }

// ErasedName is what a practitioner's name reads as once their personal
// data is erased, and UnavailableName what it reads as when it was sealed
// with a key this ledger does not hold (a copy of the history imported
// without its key store).
const (
	ErasedName      = "[erased]"
	UnavailableName = "[unavailable]"
)
