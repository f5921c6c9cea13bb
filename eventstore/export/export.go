// Package export is the ledger's interchange format for stored events: one
// JSON object per event with every envelope field and the payload byte for
// byte, so that a copy recomputes the same hash chains. `ledger export`
// writes it one per line, `ledger import --format jsonl` reads it back, and
// the API's GET /v1/events pages through it; api/client decodes it.
//
// It owns the format only: it reads and writes no store and no file. It
// imports eventstore (for the envelope) and never domain, projections, api
// or a store backend.
package export

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/eventstore"
)

// Event is one stored event with every envelope field. The payload is kept
// byte for byte: as JSON when the stored bytes are compact JSON, otherwise
// base64 in data_b64 (and the same for metadata).
type Event struct {
	EventID       uuid.UUID           `json:"event_id"`
	Stream        string              `json:"stream"`
	Type          string              `json:"type"`
	SchemaVersion uint16              `json:"schema_version"`
	Revision      uint64              `json:"revision"`
	Position      eventstore.Position `json:"position"`
	OccurredOn    string              `json:"occurred_on"`
	RecordedAt    string              `json:"recorded_at"`
	RecordedBy    string              `json:"recorded_by"`
	Data          json.RawMessage     `json:"data,omitempty"`
	DataB64       string              `json:"data_b64,omitempty"`
	Metadata      json.RawMessage     `json:"metadata,omitempty"`
	MetadataB64   string              `json:"metadata_b64,omitempty"`
	Hash          string              `json:"hash"`
	PrevHash      string              `json:"prev_hash"`
}

// From returns e in the export format.
func From(e eventstore.RecordedEvent) Event {
	x := Event{
		EventID: e.ID, Stream: e.Stream, Type: e.Type, SchemaVersion: e.SchemaVersion,
		Revision: e.Revision, Position: e.Position, OccurredOn: e.OccurredOn,
		RecordedAt: e.RecordedAt.UTC().Format(time.RFC3339Nano), RecordedBy: e.RecordedBy,
		Hash: e.Hash.String(), PrevHash: e.PrevHash.String(),
	}
	x.Data, x.DataB64 = rawOrBase64(e.Data)
	x.Metadata, x.MetadataB64 = rawOrBase64(e.Metadata)
	return x
}

// rawOrBase64 keeps b as JSON when encoding/json would write it back
// unchanged (valid, compact), and as base64 otherwise.
func rawOrBase64(b []byte) (json.RawMessage, string) {
	if len(b) == 0 {
		return nil, ""
	}
	var buf bytes.Buffer
	if json.Valid(b) && json.Compact(&buf, b) == nil && bytes.Equal(buf.Bytes(), b) {
		return json.RawMessage(b), ""
	}
	return nil, base64.StdEncoding.EncodeToString(b)
}

// Recorded returns x as the stored event it describes, hashes included.
func (x Event) Recorded() (eventstore.RecordedEvent, error) {
	e := eventstore.RecordedEvent{
		ID: x.EventID, Stream: x.Stream, Type: x.Type, SchemaVersion: x.SchemaVersion,
		Revision: x.Revision, Position: x.Position, OccurredOn: x.OccurredOn, RecordedBy: x.RecordedBy,
	}
	var err error
	if e.RecordedAt, err = time.Parse(time.RFC3339Nano, x.RecordedAt); err != nil {
		return e, fmt.Errorf("recorded_at: %q is not an RFC 3339 time", x.RecordedAt)
	}
	if e.Data, err = rawOrDecode(x.Data, x.DataB64); err != nil {
		return e, fmt.Errorf("data_b64: %w", err)
	}
	if e.Metadata, err = rawOrDecode(x.Metadata, x.MetadataB64); err != nil {
		return e, fmt.Errorf("metadata_b64: %w", err)
	}
	if e.Hash, err = eventstore.ParseHash(x.Hash); err != nil {
		return e, fmt.Errorf("hash: %w", err)
	}
	if e.PrevHash, err = eventstore.ParseHash(x.PrevHash); err != nil {
		return e, fmt.Errorf("prev_hash: %w", err)
	}
	return e, nil
}

func rawOrDecode(raw json.RawMessage, b64 string) ([]byte, error) {
	if b64 != "" {
		return base64.StdEncoding.DecodeString(b64)
	}
	if len(raw) == 0 {
		return nil, nil
	}
	return []byte(raw), nil
}
