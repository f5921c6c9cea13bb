package kurrentdb

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/imattertraining/ledger/eventstore"
)

// envelopeVersion is written into every event's KurrentDB metadata so that a
// later layout can be told apart from this one.
const envelopeVersion = 1

// envelope is the JSON the adapter writes as a KurrentDB event's metadata
// ("custom metadata" in the gRPC protocol). KurrentDB keeps the event's ID,
// type, stream, revision and data itself; everything else the ledger's
// envelope and hash chain need travels here. The caller's own metadata is
// nested as a JSON string (or base64 when it is not UTF-8) rather than as raw
// JSON, because re-encoding raw JSON would compact and escape it and change
// the bytes its hash covers.
type envelope struct {
	Version        int    `json:"ledger_envelope"`
	SchemaVersion  uint16 `json:"schema_version"`
	OccurredOn     string `json:"occurred_on"`
	RecordedBy     string `json:"recorded_by"`
	RecordedAt     string `json:"recorded_at"`
	PrevHash       string `json:"prev_hash"`
	Hash           string `json:"hash"`
	Metadata       string `json:"metadata,omitempty"`
	MetadataBase64 string `json:"metadata_base64,omitempty"`
}

// encodeEnvelope renders e's envelope, whose hash and recorded time the
// caller has already computed.
func encodeEnvelope(e eventstore.RecordedEvent) ([]byte, error) {
	env := envelope{
		Version:       envelopeVersion,
		SchemaVersion: e.SchemaVersion,
		OccurredOn:    e.OccurredOn,
		RecordedBy:    e.RecordedBy,
		RecordedAt:    e.RecordedAt.UTC().Format(time.RFC3339Nano),
		PrevHash:      e.PrevHash.String(),
		Hash:          e.Hash.String(),
	}
	switch {
	case len(e.Metadata) == 0:
	case utf8.Valid(e.Metadata):
		env.Metadata = string(e.Metadata)
	default:
		env.MetadataBase64 = base64.StdEncoding.EncodeToString(e.Metadata)
	}
	return json.Marshal(env)
}

// decodeEvent turns a KurrentDB event of a ledger stream into the ledger's
// RecordedEvent. stream is the ledger's name for it (without the namespace).
// It does not check the hash: that is eventstore.Verify's job, and a reader
// must be able to show a tampered event to say what is wrong with it.
func decodeEvent(stream string, re *esdb.RecordedEvent) (eventstore.RecordedEvent, error) {
	fail := func(format string, args ...any) (eventstore.RecordedEvent, error) {
		return eventstore.RecordedEvent{}, fmt.Errorf("%w: %s revision %d: %s", eventstore.ErrCorrupt, stream, re.EventNumber, fmt.Sprintf(format, args...))
	}
	var env envelope
	if err := json.Unmarshal(re.UserMetadata, &env); err != nil {
		return fail("event metadata is not a ledger envelope: %v", err)
	}
	if env.Version != envelopeVersion {
		return fail("unknown envelope version %d", env.Version)
	}
	at, err := time.Parse(time.RFC3339Nano, env.RecordedAt)
	if err != nil {
		return fail("recorded_at: %v", err)
	}
	prev, err := eventstore.ParseHash(env.PrevHash)
	if err != nil {
		return fail("prev_hash: %v", err)
	}
	hash, err := eventstore.ParseHash(env.Hash)
	if err != nil {
		return fail("hash: %v", err)
	}
	var meta []byte
	switch {
	case env.MetadataBase64 != "":
		if meta, err = base64.StdEncoding.DecodeString(env.MetadataBase64); err != nil {
			return fail("metadata_base64: %v", err)
		}
	case env.Metadata != "":
		meta = []byte(env.Metadata)
	}
	pos, err := positionOf(re.Position)
	if err != nil {
		return fail("%v", err)
	}
	return eventstore.RecordedEvent{
		ID:            re.EventID,
		Stream:        stream,
		Type:          re.EventType,
		SchemaVersion: env.SchemaVersion,
		Revision:      re.EventNumber,
		Position:      pos,
		RecordedAt:    at.UTC(),
		OccurredOn:    env.OccurredOn,
		RecordedBy:    env.RecordedBy,
		Data:          re.Data,
		Metadata:      meta,
		PrevHash:      prev,
		Hash:          hash,
	}, nil
}

// noPosition is what the protocol carries for an event whose log position the
// server does not know (KurrentDB sends -1 as an unsigned number).
const noPosition = ^uint64(0)

// positionOf maps a KurrentDB log position to the ledger's Position.
//
// KurrentDB orders $all by (commit, prepare) position, both byte offsets in
// its transaction log. Every event written by a gRPC append is its own
// self-committed record, so the server reports commit == prepare == the
// record's offset, even for each event of a multi-event append; offsets grow
// strictly with the log. The prepare position is therefore unique per event
// and increases strictly in $all order, and it is also a valid place to start
// a read. The adapter uses it as the Position. An event committed by a
// separate commit record (the legacy TCP API's explicit transactions, which
// the ledger never uses) still has a unique prepare position, but a stream
// read cannot say where it was committed; such an event is refused rather
// than given a made-up position.
func positionOf(p esdb.Position) (eventstore.Position, error) {
	if p.Prepare == noPosition || p.Commit == noPosition {
		return 0, fmt.Errorf("the server did not report the event's log position")
	}
	if p.Prepare == 0 {
		// Offset 0 holds the log's first (epoch) record, never an event, and
		// Position 0 is reserved for "before the first event".
		return 0, fmt.Errorf("event at log offset 0")
	}
	return eventstore.Position(p.Prepare), nil
}

// allPosition is the KurrentDB position to start an $all read or
// subscription at, for a Position this adapter handed out.
func allPosition(p eventstore.Position) esdb.AllPosition {
	if p == eventstore.Start {
		return esdb.Start{}
	}
	return esdb.Position{Commit: uint64(p), Prepare: uint64(p)}
}

// contentDigest summarises what an idempotent retry must repeat exactly: every
// field the caller supplies except the recorded time, which a retry may leave
// to the store. Variable-length fields are length-prefixed.
func contentDigest(typ string, schemaVersion uint16, occurredOn, recordedBy string, data, metadata []byte) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	put := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	put([]byte(typ))
	binary.BigEndian.PutUint16(n[:2], schemaVersion)
	h.Write(n[:2])
	put([]byte(occurredOn))
	put([]byte(recordedBy))
	put(data)
	put(metadata)
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}
