package export_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/export"
)

// TestRoundTrip: every stored event comes back from its export, through
// JSON, byte for byte, so that its hash recomputes; the payload is JSON
// when the stored bytes are compact JSON and base64 otherwise.
func TestRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name           string
		data, metadata []byte
		wantB64        bool
	}{
		{"compact JSON", []byte(`{"course":"foundation_b"}`), []byte(`{"via":"import"}`), false},
		{"JSON with spaces", []byte(`{"course": "foundation_b"}`), nil, true},
		{"not JSON", []byte{0xff, 0x00, 'x'}, []byte("plain"), true},
		{"no payload", nil, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := eventstore.RecordedEvent{
				ID: uuid.MustParse("0b9f3f5e-6c1d-4e8a-9b7c-2d3e4f5a6b7c"), Stream: "practitioner-7d0c8f2e-1a3b-4c5d-8e9f-0a1b2c3d4e01",
				Type: "CourseCompleted", SchemaVersion: 2, Revision: 3, Position: 17, OccurredOn: "2024-03-01",
				RecordedAt: time.Date(2024, 3, 2, 9, 30, 0, 123456789, time.UTC), RecordedBy: "Test Administrator",
				Data: c.data, Metadata: c.metadata, PrevHash: eventstore.Hash{1},
			}
			e.Hash = eventstore.ComputeHash(eventstore.ChainFieldsOf(e))
			x := export.From(e)
			assert.Equal(t, c.wantB64, x.DataB64 != "", "data as base64")
			line, err := json.Marshal(x)
			require.NoError(t, err)
			var back export.Event
			require.NoError(t, json.Unmarshal(line, &back))
			got, err := back.Recorded()
			require.NoError(t, err)
			assert.Equal(t, e, got)
			assert.Equal(t, e.Hash, eventstore.ComputeHash(eventstore.ChainFieldsOf(got)))
		})
	}
}

// TestRecordedRefusesBadFields: an export line whose time, base64 or
// hashes do not parse is refused, naming the field.
func TestRecordedRefusesBadFields(t *testing.T) {
	good := export.From(eventstore.RecordedEvent{RecordedAt: time.Unix(0, 0)})
	for field, bad := range map[string]func(*export.Event){
		"recorded_at":  func(x *export.Event) { x.RecordedAt = "yesterday" },
		"data_b64":     func(x *export.Event) { x.DataB64 = "%%" },
		"metadata_b64": func(x *export.Event) { x.MetadataB64 = "%%" },
		"hash":         func(x *export.Event) { x.Hash = "abc" },
		"prev_hash":    func(x *export.Event) { x.PrevHash = "abc" },
	} {
		t.Run(field, func(t *testing.T) {
			x := good
			bad(&x)
			_, err := x.Recorded()
			require.Error(t, err)
			assert.Contains(t, err.Error(), field+":")
		})
	}
}
