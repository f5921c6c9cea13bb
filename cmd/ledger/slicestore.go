package main

import (
	"context"
	"errors"
	"iter"

	"github.com/imattertraining/ledger/eventstore"
)

// sliceStore is history held in memory, in global order: the events of an
// export file, which eventstore.Verify checks and eventstore.Copy copies
// before any of them reaches the real store. It is read-only.
type sliceStore []eventstore.RecordedEvent

var errReadOnly = errors.New("ledger: the file's events are read-only")

func (s sliceStore) Append(context.Context, string, eventstore.ExpectedRevision, ...eventstore.EventData) (eventstore.AppendResult, error) {
	return eventstore.AppendResult{}, errReadOnly
}

func (s sliceStore) ReadStream(_ context.Context, stream string, _ eventstore.ReadOptions) ([]eventstore.RecordedEvent, error) {
	var out []eventstore.RecordedEvent
	for _, e := range s {
		if e.Stream == stream {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, eventstore.ErrStreamNotFound
	}
	return out, nil
}

func (s sliceStore) ReadAll(ctx context.Context, from eventstore.Position) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		for _, e := range s {
			if e.Position <= from {
				continue
			}
			if err := ctx.Err(); err != nil {
				yield(eventstore.RecordedEvent{}, err)
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

func (s sliceStore) Subscribe(context.Context, eventstore.Position, func(eventstore.RecordedEvent) error) error {
	return errReadOnly
}

func (s sliceStore) Close() error { return nil }
