package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/keystore"
)

// HistoryItem is one event of a stream as the audit trail shows it. The JSON
// field names are the API's contract.
type HistoryItem struct {
	EventID    uuid.UUID           `json:"event_id"`
	Type       string              `json:"type"`
	OccurredOn string              `json:"occurred_on"`
	RecordedAt string              `json:"recorded_at"`
	RecordedBy string              `json:"recorded_by"`
	Revision   uint64              `json:"revision"`
	Position   eventstore.Position `json:"position"`
	// SchemaVersion is the version of Data's schema, as stored.
	SchemaVersion uint16 `json:"schema_version"`
	// Data is the event's payload byte for byte as stored, so an auditor can
	// recompute its hash: a practitioner's name and email sealed in it (see
	// PersonalData). The one exception: personal data stored in plaintext
	// before sealing existed, once erased, is left out (DataRedacted).
	Data json.RawMessage `json:"data"`
	// PersonalData says, for the events that carry a practitioner's
	// personal data, how it reads: "opened" (sealed; OpenedData holds it),
	// "erased", "unavailable" (sealed with a key this ledger does not
	// hold), or "plaintext" (stored before sealing existed).
	PersonalData string `json:"personal_data,omitempty"`
	// OpenedData is Data with the personal data opened, when it opened.
	OpenedData json.RawMessage `json:"opened_data,omitempty"`
	// DataRedacted is true when Data is not the stored bytes: erased
	// personal data stored in plaintext was left out, so the hash cannot be
	// recomputed from this response (ledger verify still checks it).
	DataRedacted bool   `json:"data_redacted,omitempty"`
	Hash         string `json:"hash"`
	PrevHash     string `json:"prev_hash"`
	// RetractedBy is the id of the retraction that removed this event from
	// every evaluation, among the events known at the time asked; nil when
	// none does.
	RetractedBy *uuid.UUID `json:"retracted_by"`
}

// timeFormat renders recorded times: RFC 3339 in UTC with the fractional
// seconds kept, so a recorded_at passed back as known_at includes its event.
const timeFormat = time.RFC3339Nano

// History returns every event of stream in revision order, as known at
// knownAt (zero: everything recorded), each with the retraction that counts
// against it. An unknown stream, or one with nothing recorded by knownAt,
// gives ErrNotFound.
func (v *Views) History(ctx context.Context, stream string, knownAt time.Time) ([]HistoryItem, error) {
	events, err := v.readStream(ctx, stream, knownAt)
	if err != nil {
		return nil, err
	}
	retracted, err := retractions(events)
	if err != nil {
		return nil, fmt.Errorf("projections: history of %s: %w", stream, err)
	}
	items := make([]HistoryItem, len(events))
	for i, e := range events {
		it := HistoryItem{
			EventID: e.ID, Type: e.Type, OccurredOn: e.OccurredOn,
			RecordedAt: e.RecordedAt.UTC().Format(timeFormat), RecordedBy: e.RecordedBy,
			Revision: e.Revision, Position: e.Position, SchemaVersion: e.SchemaVersion,
			Data: json.RawMessage(e.Data), Hash: e.Hash.String(), PrevHash: e.PrevHash.String(),
		}
		if len(it.Data) == 0 {
			it.Data = json.RawMessage("null")
		}
		if domain.HasPersonalData(e.Type) {
			if err := v.openHistory(&it, &e); err != nil {
				return nil, fmt.Errorf("projections: history of %s: %w", stream, err)
			}
		}
		if by, ok := retracted[e.ID]; ok {
			it.RetractedBy = &by
		}
		items[i] = it
	}
	return items, nil
}

// readStream reads a stream as known at knownAt, mapping "nothing there" to
// ErrNotFound whether the store says so or the cut leaves nothing.
func (v *Views) readStream(ctx context.Context, stream string, knownAt time.Time) ([]eventstore.RecordedEvent, error) {
	events, err := v.store.ReadStream(ctx, stream, eventstore.ReadOptions{KnownAt: knownAt})
	if errors.Is(err, eventstore.ErrStreamNotFound) || err == nil && len(events) == 0 {
		return nil, notFound(stream, knownAt)
	}
	if err != nil {
		return nil, fmt.Errorf("projections: read %s: %w", stream, err)
	}
	return events, nil
}

// openHistory fills in how an event's personal data reads.
func (v *Views) openHistory(it *HistoryItem, e *eventstore.RecordedEvent) error {
	data, state, err := v.keys.Open(e.Stream, e.ID, e.Type, e.Data, domain.PersonalFields(e.Type))
	if err != nil {
		return err
	}
	sealed := keystore.IsSealed(e.Data)
	it.PersonalData = state.String()
	switch {
	case state == keystore.Opened:
		it.OpenedData = data
	case state == keystore.Erased && !sealed:
		it.Data, it.DataRedacted = data, true
	case state == keystore.Plain && holdsAny(e.Data, domain.PersonalFields(e.Type)):
		it.PersonalData = "plaintext"
	case state == keystore.Plain:
		it.PersonalData = "" // none recorded (a details change of profession only)
	}
	return nil
}

// holdsAny reports whether JSON object data has any of fields as a key.
func holdsAny(data []byte, fields []string) bool {
	if !json.Valid(data) || len(data) == 0 || data[0] != '{' {
		return false
	}
	found := false
	_ = domain.ObjectKeys(data, func(key string) error {
		found = found || slices.Contains(fields, key)
		return nil
	})
	return found
}
