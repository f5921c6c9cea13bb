package projections

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/keystore"
)

// PractitionerStream returns the stream name of practitioner id (named in
// domain, the one home of stream names).
func PractitionerStream(id uuid.UUID) string { return domain.StreamName(domain.PractitionerStream, id) }

// OrganisationStream returns the stream name of organisation id.
func OrganisationStream(id uuid.UUID) string { return domain.StreamName(domain.OrganisationStream, id) }

// streamKind tells which kind of stream a name belongs to ('p' or 'o'), and
// its id. Streams of any other shape are not the ledger's and are ignored
// by the global models.
func streamKind(stream string) (kind byte, id uuid.UUID, ok bool) {
	k, id, ok := domain.ParseStream(stream)
	switch {
	case !ok:
		return 0, uuid.Nil, false
	case k == domain.OrganisationStream:
		return 'o', id, true
	}
	return 'p', id, true
}

// FactOf converts a stored event into the fact the domain folds: its
// effective date parsed, its envelope fields copied and its data decoded
// through the domain's stored-event path (which upcasts old schema versions
// and never refuses history that was once accepted).
// Sealed personal data reads as unavailable: FactOf holds no keys (Views do).
func FactOf(e eventstore.RecordedEvent) (domain.Fact, error) {
	return factOf(e, nil, nil)
}

// dateCache remembers parsed effective dates: a rebuild sees the same few
// thousand dates a million times, and parsing one costs more than a lookup.
type dateCache map[string]domain.Date

func (c dateCache) parse(s string) (domain.Date, error) {
	if d, ok := c[s]; ok {
		return d, nil
	}
	d, err := domain.ParseDate(s)
	if err == nil && c != nil && len(c) < 1<<16 {
		c[s] = d
	}
	return d, err
}

// factOf is FactOf with a date cache (nil: none), opening personal data
// with keys.
func factOf(e eventstore.RecordedEvent, dates dateCache, keys *keystore.Keys) (domain.Fact, error) {
	on, err := dates.parse(e.OccurredOn)
	if err != nil {
		return domain.Fact{}, fmt.Errorf("projections: event %s (%s revision %d): occurred_on: %w", e.ID, e.Stream, e.Revision, err)
	}
	ev, err := decodeEvent(&e, keys)
	if err != nil {
		return domain.Fact{}, fmt.Errorf("projections: event %s (%s revision %d): %w", e.ID, e.Stream, e.Revision, err)
	}
	return domain.Fact{ID: e.ID, OccurredOn: on, RecordedAt: e.RecordedAt, RecordedBy: e.RecordedBy, Event: ev}, nil
}

// decodeEvent decodes a stored event's data through the domain's stored-
// event path, its personal data opened with keys first: an erased
// practitioner's name reads as domain.ErasedName, one sealed with a key
// this ledger does not hold as domain.UnavailableName, and their email as
// nothing.
func decodeEvent(e *eventstore.RecordedEvent, keys *keystore.Keys) (domain.Event, error) {
	if !domain.HasPersonalData(e.Type) {
		return domain.DecodeStored(e.Type, e.SchemaVersion, e.Data)
	}
	data, state, err := keys.Open(e.Stream, e.ID, e.Type, e.Data, domain.PersonalFields(e.Type))
	if err != nil {
		return nil, err
	}
	ev, err := domain.DecodeStored(e.Type, e.SchemaVersion, data)
	if err != nil {
		return nil, err
	}
	var mark string
	switch state {
	case keystore.Erased:
		mark = domain.ErasedName
	case keystore.Unavailable:
		mark = domain.UnavailableName
	default:
		return ev, nil
	}
	if r, ok := ev.(*domain.PractitionerRegistered); ok {
		r.Name, r.Email = mark, ""
	}
	return ev, nil
}

// personalDataGone reports whether a name is one of the markers an erased
// or unavailable name reads as.
func personalDataGone(name string) bool {
	return name == domain.ErasedName || name == domain.UnavailableName
}
