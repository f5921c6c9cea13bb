package eventstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Hash is a SHA-256 digest in an event's hash chain.
type Hash [sha256.Size]byte

// String renders h as lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is the zero hash (the PrevHash of revision 0).
func (h Hash) IsZero() bool { return h == Hash{} }

// ParseHash parses a 64-character hex hash.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("eventstore: invalid hash %q", s)
	}
	copy(h[:], b)
	return h, nil
}

// hashDomain separates this chain's hashes from any other use of SHA-256.
const hashDomain = "imatter-ledger/event/v1"

// ChainFields are the envelope fields an event's hash covers. The global
// position is deliberately left out: it is the backend's, and a copy of a
// stream into another backend must keep its hashes.
type ChainFields struct {
	ID            uuid.UUID
	Stream        string
	Type          string
	SchemaVersion uint16
	Revision      uint64
	RecordedAt    time.Time
	OccurredOn    string
	RecordedBy    string
	// DataSum and MetadataSum are the SHA-256 of the stored payload bytes.
	DataSum     Hash
	MetadataSum Hash
	PrevHash    Hash
}

// ComputeHash returns the chain hash of an event: SHA-256 over a canonical,
// length-prefixed encoding of its envelope fields, the SHA-256 of its stored
// data and metadata bytes, and the previous event's hash. Every variable-length
// field is prefixed with its length so that no two different envelopes encode
// to the same bytes.
func ComputeHash(f ChainFields) Hash {
	h := sha256.New()
	var buf [8]byte
	// The length prefix has its own buffer: fixed-size fields are encoded in
	// buf, and writing their prefix there would overwrite them.
	var prefix [4]byte
	writeBytes := func(b []byte) {
		binary.BigEndian.PutUint32(prefix[:], uint32(len(b)))
		h.Write(prefix[:])
		h.Write(b)
	}
	writeBytes([]byte(hashDomain))
	writeBytes(f.ID[:])
	writeBytes([]byte(f.Stream))
	writeBytes([]byte(f.Type))
	binary.BigEndian.PutUint16(buf[:2], f.SchemaVersion)
	writeBytes(buf[:2])
	binary.BigEndian.PutUint64(buf[:], f.Revision)
	writeBytes(buf[:8])
	binary.BigEndian.PutUint64(buf[:], uint64(f.RecordedAt.UnixNano()))
	writeBytes(buf[:8])
	writeBytes([]byte(f.OccurredOn))
	writeBytes([]byte(f.RecordedBy))
	writeBytes(f.DataSum[:])
	writeBytes(f.MetadataSum[:])
	writeBytes(f.PrevHash[:])
	var out Hash
	h.Sum(out[:0])
	return out
}

// ChainFieldsOf returns the fields of e that its hash covers, summing its
// payload bytes as they were read from the store.
func ChainFieldsOf(e RecordedEvent) ChainFields {
	return ChainFields{
		ID: e.ID, Stream: e.Stream, Type: e.Type, SchemaVersion: e.SchemaVersion,
		Revision: e.Revision, RecordedAt: e.RecordedAt, OccurredOn: e.OccurredOn,
		RecordedBy: e.RecordedBy, DataSum: sha256.Sum256(e.Data),
		MetadataSum: sha256.Sum256(e.Metadata), PrevHash: e.PrevHash,
	}
}

// VerifyFailure names the first event whose chain does not verify.
type VerifyFailure struct {
	Stream   string    `json:"stream"`
	Revision uint64    `json:"revision"`
	EventID  uuid.UUID `json:"event_id"`
	Position Position  `json:"position"`
	Reason   string    `json:"reason"`
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	OK            bool           `json:"ok"`
	EventsChecked int            `json:"events_checked"`
	FirstFailure  *VerifyFailure `json:"first_failure"`
}

// Verify reads every event in global order and recomputes every stream's
// chain: each event's PrevHash must equal the previous event's Hash, its
// revision must follow on, and its Hash must equal ComputeHash over the bytes
// read. It stops at the first failure and names that event. An error that
// stops the read itself (a damaged file, say) is returned as the error, with
// the report of what was checked so far.
func Verify(ctx context.Context, s Store) (VerifyReport, error) {
	type tip struct {
		next uint64
		hash Hash
	}
	tips := make(map[string]tip)
	var rep VerifyReport
	for e, err := range s.ReadAll(ctx, Start) {
		if err != nil {
			return rep, err
		}
		t := tips[e.Stream]
		fail := func(reason string) (VerifyReport, error) {
			rep.FirstFailure = &VerifyFailure{Stream: e.Stream, Revision: e.Revision, EventID: e.ID, Position: e.Position, Reason: reason}
			return rep, nil
		}
		switch {
		case e.Revision != t.next:
			return fail(fmt.Sprintf("revision %d where %d was expected", e.Revision, t.next))
		case e.PrevHash != t.hash:
			return fail("prev_hash does not match the previous event's hash")
		case ComputeHash(ChainFieldsOf(e)) != e.Hash:
			return fail("hash does not match the event's contents")
		}
		tips[e.Stream] = tip{next: e.Revision + 1, hash: e.Hash}
		rep.EventsChecked++
	}
	rep.OK = true
	return rep, nil
}
