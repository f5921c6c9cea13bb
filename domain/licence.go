package domain

import "github.com/google/uuid"

// Licences, held by practitioners or organisations: "Licences are by
// subscription: they have a validity period and are renewed" (DOMAIN.md).
// Rulebook v1 reads valid_until as inclusive: a licence is active through
// its valid_until and expired from the day after.

// LicenceStatus is a licence's status on a date.
type LicenceStatus string

// Licence statuses. When more than one applies, the first listed wins:
// revoked, then suspended, then expired.
const (
	LicenceStatusActive    LicenceStatus = "active"
	LicenceStatusSuspended LicenceStatus = "suspended"
	LicenceStatusRevoked   LicenceStatus = "revoked"
	LicenceStatusExpired   LicenceStatus = "expired"
)

// Licence is a licence and its status on a date.
type Licence struct {
	LicenceID string
	Kind      LicenceKind
	Scope     LicenceScope
	Status    LicenceStatus
	GrantedOn Date
	// ValidUntil is the last day the licence is valid, extended by renewals.
	ValidUntil Date
	// Evidence holds the grant, every renewal, and the decision behind a
	// suspended or revoked status.
	Evidence []uuid.UUID
}

// Current reports whether l is active: granted, neither suspended nor
// revoked, and not past its valid_until.
func (l *Licence) Current() bool { return l.Status == LicenceStatusActive }

type licenceOp uint8

const (
	licenceGrant licenceOp = iota + 1
	licenceRenew
	licenceSuspend
	licenceReinstate
	licenceRevoke
)

type licenceRec struct {
	meta
	licenceID  string
	op         licenceOp
	kind       LicenceKind
	scope      LicenceScope
	validUntil Date
	// exception is set on a decision recorded as an exception.
	exception bool
}

// licenceBook keeps licence decisions in date order; practitioners and
// organisations both hold one.
type licenceBook struct {
	events []licenceRec
}

// apply folds a licence decision and returns its Decision part.
func (b *licenceBook) apply(m meta, e Event) (Decision, bool) {
	r := licenceRec{meta: m}
	var d Decision
	switch v := e.(type) {
	case *LicenceGranted:
		r.licenceID, r.op, r.kind, r.scope, r.validUntil, d = v.LicenceID, licenceGrant, v.Kind, v.Scope, v.ValidUntil, v.Decision
	case *LicenceRenewed:
		r.licenceID, r.op, r.validUntil, d = v.LicenceID, licenceRenew, v.ValidUntil, v.Decision
	case *LicenceSuspended:
		r.licenceID, r.op, d = v.LicenceID, licenceSuspend, v.Decision
	case *LicenceReinstated:
		r.licenceID, r.op, d = v.LicenceID, licenceReinstate, v.Decision
	case *LicenceRevoked:
		r.licenceID, r.op, d = v.LicenceID, licenceRevoke, v.Decision
	default:
		return d, false
	}
	r.exception = d.Exception
	b.events = insertByDate(b.events, r)
	return d, true
}

// licenceState is the working state of one licence while walking decisions.
type licenceState struct {
	Licence
	granted, suspended, revoked bool
	statusEvent                 uuid.UUID
}

// step applies one decision to s; decisions before the grant are ignored.
func (s *licenceState) step(r *licenceRec) {
	switch r.op {
	case licenceGrant:
		// A second grant of the same licence id re-grants it: a licence
		// revoked or lapsed may be granted again under its old id.
		if !s.granted {
			s.GrantedOn = r.On
		}
		s.granted, s.suspended, s.revoked = true, false, false
		s.Kind, s.Scope = r.kind, r.scope
		if r.validUntil.After(s.ValidUntil) {
			s.ValidUntil = r.validUntil
		}
		s.Evidence = append(s.Evidence, r.ID)
	case licenceRenew:
		if !s.granted {
			return
		}
		// "renewals extend": a renewal never shortens a licence.
		if r.validUntil.After(s.ValidUntil) {
			s.ValidUntil = r.validUntil
		}
		s.Evidence = append(s.Evidence, r.ID)
	case licenceSuspend:
		if s.granted && !s.revoked {
			s.suspended, s.statusEvent = true, r.ID
		}
	case licenceReinstate:
		// Within the rules only a suspended licence is reinstated; one
		// recorded as an exception also restores a revoked licence.
		switch {
		case s.revoked && r.exception:
			s.revoked, s.suspended, s.statusEvent = false, false, uuid.Nil
		case s.suspended && !s.revoked:
			s.suspended, s.statusEvent = false, uuid.Nil
		}
	case licenceRevoke:
		if s.granted {
			s.revoked, s.statusEvent = true, r.ID
		}
	}
}

// finish sets the status on date on.
func (s *licenceState) finish(on Date) {
	switch {
	case s.revoked:
		s.Status = LicenceStatusRevoked
	case s.suspended:
		s.Status = LicenceStatusSuspended
	case on.After(s.ValidUntil):
		s.Status = LicenceStatusExpired
	default:
		s.Status = LicenceStatusActive
	}
	if s.statusEvent != uuid.Nil {
		s.Evidence = append(s.Evidence, s.statusEvent)
	}
}

// Licence returns licence id and its status on date on; ok is false when it
// was not granted on or before on.
func (b *licenceBook) Licence(id string, on Date) (Licence, bool) {
	var s licenceState
	for i := range b.events {
		r := &b.events[i]
		if r.licenceID == id && r.counts(on) {
			s.step(r)
		}
	}
	if !s.granted {
		return Licence{}, false
	}
	s.LicenceID = id
	s.finish(on)
	return s.Licence, true
}

// Licences returns every licence granted on or before on, with its status
// that day, in order of grant.
func (b *licenceBook) Licences(on Date) []Licence {
	states := b.states(on, nil)
	out := make([]Licence, 0, len(states))
	for i := range states {
		if states[i].granted {
			out = append(out, states[i].Licence)
		}
	}
	return out
}

// states walks every decision once, reusing buf.
func (b *licenceBook) states(on Date, buf []licenceState) []licenceState {
	out := buf[:0]
	for i := range b.events {
		r := &b.events[i]
		if !r.counts(on) {
			continue
		}
		j := 0
		for j < len(out) && out[j].LicenceID != r.licenceID {
			j++
		}
		if j == len(out) {
			if r.op != licenceGrant {
				continue
			}
			out = append(out, licenceState{Licence: Licence{LicenceID: r.licenceID}})
		}
		out[j].step(r)
	}
	for i := range out {
		out[i].finish(on)
	}
	return out
}

// currentOfKinds returns the first licence of one of kinds that is active
// on date on.
func (b *licenceBook) currentOfKinds(kinds []LicenceKind, on Date) (Licence, bool) {
	var buf [8]licenceState
	for _, s := range b.states(on, buf[:0]) {
		if s.Status == LicenceStatusActive && containsKind(kinds, s.Kind) {
			return s.Licence, true
		}
	}
	return Licence{}, false
}

func containsKind(kinds []LicenceKind, k LicenceKind) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

// grantOf returns the first unretracted grant of licence id, whatever its
// date.
func (b *licenceBook) grantOf(id string) (uuid.UUID, bool) {
	for i := range b.events {
		r := &b.events[i]
		if r.licenceID == id && r.op == licenceGrant && !r.Retracted {
			return r.ID, true
		}
	}
	return uuid.Nil, false
}
