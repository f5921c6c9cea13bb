package eventstore

import (
	"context"
	"iter"
)

// AllReader reads every event in global order. It is all that Verify, Copy
// and a checkpoint need of a store, so that they also run on history that
// is not in a store yet (the events of an export file) or is read through
// a running server's API. Every Store is one.
type AllReader interface {
	// ReadAll is Store.ReadAll.
	ReadAll(ctx context.Context, from Position) iter.Seq2[RecordedEvent, error]
}

// StreamReader reads one stream at a time: all that the views folded on
// demand need of a store. Every Store is one.
type StreamReader interface {
	// ReadStream is Store.ReadStream.
	ReadStream(ctx context.Context, stream string, opts ReadOptions) ([]RecordedEvent, error)
}

// StreamAppender reads and appends to one stream at a time: all that the
// write path needs of a store, so that it also runs over a batch staged in
// memory (an import's, checked before any of it is stored). Every Store is
// one.
type StreamAppender interface {
	StreamReader
	// Append is Store.Append.
	Append(ctx context.Context, stream string, expected ExpectedRevision, events ...EventData) (AppendResult, error)
}

// Events is history held in memory, in global order (positions growing),
// read as an AllReader: the events of an export file, say, checked before
// any of them reaches a store.
type Events []RecordedEvent

// ReadAll yields the events with a position after from, stopping with
// ctx's error if ctx is done.
func (s Events) ReadAll(ctx context.Context, from Position) iter.Seq2[RecordedEvent, error] {
	return func(yield func(RecordedEvent, error) bool) {
		for _, e := range s {
			if e.Position <= from {
				continue
			}
			if err := ctx.Err(); err != nil {
				yield(RecordedEvent{}, err)
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}
