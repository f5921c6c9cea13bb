package eventstore

import (
	"errors"
	"fmt"
)

var (
	// ErrStreamNotFound is returned when a stream read names a stream with no events.
	ErrStreamNotFound = errors.New("eventstore: stream not found")
	// ErrIdempotencyMismatch is returned when an append reuses event IDs
	// already stored but with different content.
	ErrIdempotencyMismatch = errors.New("eventstore: event id already stored with different content")
	// ErrInvalidEvent is returned when an append is malformed: no events, a nil
	// or repeated event ID, an empty type or stream name, or an oversized field.
	ErrInvalidEvent = errors.New("eventstore: invalid event")
	// ErrClosed is returned when the store has been closed.
	ErrClosed = errors.New("eventstore: store closed")
	// ErrCorrupt is returned when stored bytes cannot be decoded.
	ErrCorrupt = errors.New("eventstore: stored data is corrupt")
	// ErrUnavailable is returned when the backend cannot be reached.
	ErrUnavailable = errors.New("eventstore: backend unavailable")
	// ErrNoSpace is returned when an append failed because the disk the
	// store writes to is full (or the quota on it is used up): nothing was
	// stored, and the same append may succeed once space is freed.
	ErrNoSpace = errors.New("eventstore: no space left to store events")
)

// RevisionConflictError is returned when an append's expected revision does
// not match the stream. errors.Is(err, ErrRevisionConflict) holds for it.
type RevisionConflictError struct {
	Stream   string
	Expected ExpectedRevision
	// Current is the stream's last revision; Exists is false when the stream
	// has no events.
	Current uint64
	Exists  bool
}

// ErrRevisionConflict is the sentinel matched by every *RevisionConflictError.
var ErrRevisionConflict = errors.New("eventstore: revision conflict")

func (e *RevisionConflictError) Error() string {
	cur := "no_stream"
	if e.Exists {
		cur = fmt.Sprint(e.Current)
	}
	return fmt.Sprintf("eventstore: revision conflict on %s: expected %s, current %s", e.Stream, e.Expected, cur)
}

// Is makes errors.Is(err, ErrRevisionConflict) true.
func (e *RevisionConflictError) Is(target error) bool { return target == ErrRevisionConflict }
