package eventstore

import (
	"context"
	"fmt"
)

// StreamAppend is one stream's share of a multi-stream append: what one
// Append call would take.
type StreamAppend struct {
	Stream   string
	Expected ExpectedRevision
	Events   []EventData
}

// MultiAppender is implemented by a Store that can append to several
// streams in one transaction. The embedded store (eventstore/bolt) is one;
// KurrentDB has no multi-stream transaction, and its adapter is not.
type MultiAppender interface {
	// AppendMany applies parts in order, each as Append would (its expected
	// revision checked against the stream as the parts before it left it,
	// so a stream may appear in several parts), all in one transaction:
	// every event lands or none does. A part whose first event is already
	// stored in its stream is an idempotent retry of that part and stores
	// nothing. A refusal of any part (a *RevisionConflictError,
	// ErrInvalidEvent, ErrIdempotencyMismatch) refuses the whole call and
	// stores nothing. On success it returns one AppendResult per part, and
	// every event is durable.
	AppendMany(ctx context.Context, parts ...StreamAppend) ([]AppendResult, error)
}

// AppendAll appends parts to store and reports whether it did so
// atomically. When store is a MultiAppender the parts go in one AppendMany
// call, all or nothing. Otherwise each part is one Append, in order, and a
// failure stops there: the parts before it stay stored (appended again,
// with the same event ids, they are idempotent retries, so running the
// same AppendAll again finishes the job). progress, when not nil, is called
// with the running count of events after each call.
func AppendAll(ctx context.Context, store Store, parts []StreamAppend, progress func(done int)) (atomic bool, err error) {
	total := 0
	for _, p := range parts {
		total += len(p.Events)
	}
	if total == 0 {
		return true, nil
	}
	if m, ok := store.(MultiAppender); ok {
		if _, err := m.AppendMany(ctx, parts...); err != nil {
			return true, fmt.Errorf("eventstore: append to %d streams at once: %w", len(parts), err)
		}
		if progress != nil {
			progress(total)
		}
		return true, nil
	}
	done := 0
	for _, p := range parts {
		if len(p.Events) == 0 {
			continue
		}
		if _, err := store.Append(ctx, p.Stream, p.Expected, p.Events...); err != nil {
			return false, fmt.Errorf("eventstore: append to %s: %w", p.Stream, err)
		}
		done += len(p.Events)
		if progress != nil {
			progress(done)
		}
	}
	return false, nil
}
