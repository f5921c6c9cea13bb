package eventstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
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

// VerifyFailure names the first event whose chain does not verify, or
// the first place where the store's own account of what it holds (see
// SelfChecker) disagrees with the events read: then Stream, Revision and
// EventID name what they can (an event missing from the end of the store
// belongs to no stream that can be told) and Position the position missing.
type VerifyFailure struct {
	Stream   string    `json:"stream,omitempty"`
	Revision uint64    `json:"revision"`
	EventID  uuid.UUID `json:"event_id,omitzero"`
	Position Position  `json:"position"`
	Reason   string    `json:"reason"`
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	OK            bool           `json:"ok"`
	EventsChecked int            `json:"events_checked"`
	FirstFailure  *VerifyFailure `json:"first_failure"`
}

// SelfChecker is implemented by a backend that keeps its own account of
// what it holds beside the events: the embedded store records its last
// position with every commit and builds a stream index at open. Events
// removed cleanly from the end of such a store leave every chain that
// remains intact, yet the store cannot serve (it refuses reads and appends
// it cannot vouch for); Verify holds the events against the account to find
// them, and a server reports Damage at start and in its health.
type SelfChecker interface {
	// Account returns the store's account of itself as it stands.
	Account(ctx context.Context) (Account, error)
	// Damage returns what the store found wrong with itself when it
	// opened (nil when nothing), in words that name no stream: cheap
	// enough for a health check.
	Damage() error
}

// Account is a store's own account of what it holds.
type Account struct {
	// Last is the position of the last event the store records having
	// stored (Start: none).
	Last Position
	// Streams holds each stream's head as the store would append after it.
	Streams map[string]Head
	// Damage is what the store found wrong with itself that it cannot
	// place in one stream (nil when nothing).
	Damage error
}

// Head is one stream's last revision and hash as the store records them.
type Head struct {
	Revision uint64
	Hash     Hash
	// Damage is what the store found wrong with this stream (nil when
	// nothing): its reads and appends are refused.
	Damage error
}

// Verify reads every event in global order and recomputes every stream's
// chain: each event's PrevHash must equal the previous event's Hash, its
// revision must follow on, and its Hash must equal ComputeHash over the bytes
// read. When the store keeps its own account of what it holds (SelfChecker),
// the events must also match it: the last position it records must hold an
// event, each stream must reach the head it records with the hash it
// records, and whatever damage it found itself is a failure. Verify stops
// at the first failure and names it. An error that stops the read itself (a
// damaged file, say) is returned as the error, with the report of what was
// checked so far.
//
// The account is taken before the events are read, so a store appended to
// meanwhile (a running server's) verifies: the events read then reach past
// it.
func Verify(ctx context.Context, s AllReader) (VerifyReport, error) {
	var account *Account
	if sc, ok := s.(SelfChecker); ok {
		h, err := sc.Account(ctx)
		if err != nil {
			return VerifyReport{}, err
		}
		account = &h
	}
	type tip struct {
		next uint64
		hash Hash
	}
	tips := make(map[string]tip)
	var rep VerifyReport
	last := Start
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
		if account != nil {
			if h, ok := account.Streams[e.Stream]; ok && h.Revision == e.Revision && h.Hash != e.Hash {
				return fail(fmt.Sprintf("the store records hash %s for this stream's head, but the event there hashes %s", h.Hash, e.Hash))
			}
		}
		tips[e.Stream] = tip{next: e.Revision + 1, hash: e.Hash}
		last = e.Position
		rep.EventsChecked++
	}
	if account != nil {
		rep.FirstFailure = account.check(last, func(stream string) (uint64, bool) {
			t, ok := tips[stream]
			return t.next, ok
		})
		if rep.FirstFailure != nil {
			return rep, nil
		}
	}
	rep.OK = true
	return rep, nil
}

// check holds the account against the events read: the last at position
// last, and read(stream) giving how many events of a stream were read.
// It returns the first disagreement, nil if none.
func (h *Account) check(last Position, read func(stream string) (uint64, bool)) *VerifyFailure {
	if h.Last > last {
		what := fmt.Sprintf("the last one read is at position %d", last)
		if last == Start {
			what = "none was read"
		}
		return &VerifyFailure{Position: h.Last, Reason: fmt.Sprintf(
			"the store records position %d as its last event's, but %s: every event after position %d up to position %d is missing (removed, or cut off the end of the store), and which streams they belonged to cannot be told",
			h.Last, what, last, h.Last)}
	}
	names := make([]string, 0, len(h.Streams))
	for name := range h.Streams {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		head := h.Streams[name]
		n, ok := read(name)
		switch {
		case head.Damage != nil:
			return &VerifyFailure{Stream: name, Revision: head.Revision, Reason: "the store found this stream damaged when it opened: " + head.Damage.Error()}
		case !ok:
			return &VerifyFailure{Stream: name, Revision: head.Revision, Reason: fmt.Sprintf(
				"the store records revision %d as this stream's last, but none of its events was read: revisions 0 to %d are missing", head.Revision, head.Revision)}
		case n <= head.Revision:
			return &VerifyFailure{Stream: name, Revision: head.Revision, Reason: fmt.Sprintf(
				"the store records revision %d as this stream's last, but the last read is revision %d: revisions %d to %d are missing", head.Revision, n-1, n, head.Revision)}
		}
	}
	if h.Damage != nil {
		return &VerifyFailure{Position: last, Reason: "the store found itself damaged when it opened: " + h.Damage.Error()}
	}
	return nil
}
