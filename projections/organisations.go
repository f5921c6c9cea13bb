package projections

import (
	"errors"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
)

// Licence states as recorded; "expired" is derived from the date.
const (
	licenceActive    = "active"
	licenceSuspended = "suspended"
	licenceRevoked   = "revoked"
	licenceExpired   = "expired"
)

// foldOrganisation folds an organisation's qualifying facts into what the
// models keep of it.
func foldOrganisation(id uuid.UUID, facts []domain.Fact, revision uint64) *orgSummary {
	o := &orgSummary{ID: id, Revision: revision}
	for _, f := range facts {
		if e, ok := f.Event.(*domain.OrganisationRegistered); ok {
			o.Name, o.Kind, o.RegisteredService = e.Name, e.Kind, e.RegisteredService
		}
	}
	o.Licences = foldLicences(facts)
	return o
}

// foldLicences follows each licence through its decisions: granted, renewed,
// suspended, reinstated, revoked. Expiry is left to the date asked.
func foldLicences(facts []domain.Fact) []licenceRec {
	var ls []licenceRec
	find := func(lid string) *licenceRec {
		for i := range ls {
			if ls[i].ID == lid {
				return &ls[i]
			}
		}
		return nil
	}
	for _, f := range facts {
		switch e := f.Event.(type) {
		case *domain.LicenceGranted:
			rec := licenceRec{ID: e.LicenceID, Kind: e.Kind, Status: licenceActive, ValidUntil: dayOf(e.ValidUntil)}
			if l := find(e.LicenceID); l != nil {
				*l = rec
			} else {
				ls = append(ls, rec)
			}
		case *domain.LicenceRenewed:
			if l := find(e.LicenceID); l != nil && l.Status != licenceRevoked {
				l.ValidUntil = dayOf(e.ValidUntil)
			}
		case *domain.LicenceSuspended:
			if l := find(e.LicenceID); l != nil && l.Status != licenceRevoked {
				l.Status = licenceSuspended
			}
		case *domain.LicenceReinstated:
			if l := find(e.LicenceID); l != nil && l.Status == licenceSuspended {
				l.Status = licenceActive
			}
		case *domain.LicenceRevoked:
			if l := find(e.LicenceID); l != nil {
				l.Status = licenceRevoked
			}
		}
	}
	return ls
}

// licenceStatusOn is an organisation licence's status on a date: a recorded
// suspension or revocation, else expired after its valid_until.
func licenceStatusOn(l licenceRec, on domain.Date) string {
	if l.Status == licenceActive && on.After(l.ValidUntil.date()) {
		return licenceExpired
	}
	return l.Status
}

func isNotFound(err error) bool { return errors.Is(err, eventstore.ErrStreamNotFound) }
