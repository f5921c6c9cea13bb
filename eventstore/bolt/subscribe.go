package bolt

import (
	"context"

	"github.com/imattertraining/ledger/eventstore"
)

// Subscribe calls fn for every event after from, in global order: the
// events already stored, then each new one as it is committed; see
// eventstore.Store. It returns ctx.Err() when ctx ends, fn's error as is, or
// eventstore.ErrClosed when the store closes.
//
// There is no separate live mode to hand over to: the subscription always
// reads on from the last event it delivered, in chunks, and when it has
// caught up it waits for the writer's next commit. It takes the commit
// signal before reading, so a commit that lands during the read wakes it
// again; nothing is missed and nothing is delivered twice.
func (s *Store) Subscribe(ctx context.Context, from eventstore.Position, fn func(eventstore.RecordedEvent) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.isClosing() {
		return eventstore.ErrClosed
	}
	r := s.newReader(from)
	for {
		s.mu.Lock()
		notify := s.notify
		s.mu.Unlock()
		for {
			more, err := r.fill()
			if err != nil {
				return err
			}
			var e eventstore.RecordedEvent
			for i := range r.refs {
				if err := ctx.Err(); err != nil {
					return err
				}
				r.event(i, &e)
				if err := fn(e); err != nil {
					return err
				}
			}
			if !more {
				break
			}
		}
		select {
		case <-notify:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closed:
			return eventstore.ErrClosed
		}
	}
}
