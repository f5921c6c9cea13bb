// Package eventstore defines the ledger's append-only event store: the
// envelope every fact is stored in, the Store interface every backend
// satisfies, the typed errors they return, and the tamper-evident hash chain
// that lies above the backends so that it holds on all of them.
//
// The package owns no storage itself. Backends live in sub-packages
// (eventstore/bolt, eventstore/kurrentdb) and are checked by the conformance
// suite in eventstore/storetest. It must not import domain, projections or
// api: the store knows streams, revisions and bytes, never business rules.
package eventstore

import (
	"context"
	"iter"
	"time"

	"github.com/google/uuid"
)

// Position is a place in the global order of all events. Positions grow
// strictly with the global order but need not be contiguous (KurrentDB's are
// byte offsets in its log). The zero Position lies before the first event, so
// ReadAll(ctx, 0, …) and Subscribe(ctx, 0, …) start at the beginning.
type Position uint64

// Start is the position before the first event of the store.
const Start Position = 0

// EventData is an event proposed for appending: what the caller knows.
// The store adds the stream, revision, global position, recorded time and
// hashes when it accepts the event.
type EventData struct {
	// ID identifies the event. A retry of an append with the same ID (and the
	// same content) in the same stream is idempotent. Required, never uuid.Nil.
	ID uuid.UUID
	// Type is the event's stable type name, e.g. "CourseCompleted". Required.
	Type string
	// SchemaVersion is the version of Data's schema for Type (1 if unset).
	SchemaVersion uint16
	// OccurredOn is the effective date, YYYY-MM-DD: when it happened in the world.
	OccurredOn string
	// RecordedBy names the principal that recorded the event.
	RecordedBy string
	// RecordedAt, when not zero, is kept as the recorded time instead of the
	// store's clock. Only migrations between backends set it; it must not be
	// earlier than the stream's last recorded time.
	RecordedAt time.Time
	// Data is the event's payload (JSON). Stored byte for byte.
	Data []byte
	// Metadata is optional payload about the payload (JSON). Stored byte for byte.
	Metadata []byte
}

// RecordedEvent is an event as stored: the envelope and its payload.
// Its byte slices must not be modified by the reader.
type RecordedEvent struct {
	ID            uuid.UUID
	Stream        string
	Type          string
	SchemaVersion uint16
	// Revision counts the events of the stream from 0, as in KurrentDB.
	Revision uint64
	// Position is the event's place in the global order.
	Position Position
	// RecordedAt is when the ledger learnt the fact (UTC, nanoseconds kept).
	RecordedAt time.Time
	OccurredOn string
	RecordedBy string
	Data       []byte
	Metadata   []byte
	// PrevHash is the Hash of the previous event in the stream (zero for
	// revision 0) and Hash is this event's chain hash; see ComputeHash.
	PrevHash Hash
	Hash     Hash
}

// AppendResult tells where an accepted append landed.
type AppendResult struct {
	// FirstRevision and LastRevision are the revisions of the first and last
	// events of the append; LastRevision is the stream's revision after it.
	FirstRevision uint64
	LastRevision  uint64
	// FirstPosition and LastPosition are the global positions of the first and
	// last events of the append.
	FirstPosition Position
	LastPosition  Position
}

// ReadOptions narrows a stream read. The zero value reads the whole stream.
type ReadOptions struct {
	// UpToRevision, when not nil, stops after the event with that revision.
	UpToRevision *uint64
	// KnownAt, when not zero, keeps only events recorded at or before it.
	KnownAt time.Time
}

// Store is an append-only event store with optimistic concurrency.
// Implementations are safe for concurrent use by multiple goroutines.
type Store interface {
	// Append adds events to the end of stream atomically: all of them land or
	// none does. expected is checked against the stream's current revision; on
	// mismatch Append returns a *RevisionConflictError and stores nothing.
	// When the first event's ID is already stored in the stream, the call is an
	// idempotent retry: it returns the original AppendResult and stores nothing
	// (ErrIdempotencyMismatch if the retried events differ from the stored ones).
	// A nil error means every event is durable.
	Append(ctx context.Context, stream string, expected ExpectedRevision, events ...EventData) (AppendResult, error)

	// ReadStream returns the stream's events in revision order. An unknown
	// stream gives ErrStreamNotFound.
	ReadStream(ctx context.Context, stream string, opts ReadOptions) ([]RecordedEvent, error)

	// ReadAll yields every event with a position after from, in global order.
	// Iteration stops at the first error, which is yielded with a zero event.
	ReadAll(ctx context.Context, from Position) iter.Seq2[RecordedEvent, error]

	// Subscribe calls fn for every event after from in global order: first
	// those already stored (catch-up), then each new one as it is appended
	// (live), with nothing missed or repeated at the hand-over. It blocks until
	// ctx is done (returning ctx.Err()), fn returns an error (returned as is),
	// or the store fails or closes (ErrClosed).
	Subscribe(ctx context.Context, from Position, fn func(RecordedEvent) error) error

	// Close releases the store. Appends in flight either complete or fail.
	Close() error
}
