package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/imattertraining/ledger/eventstore"
)

// readPage reads one page of a stream (stream != "") or of $all, collecting
// it whole so that no server stream is left open between pages.
func (s *Store) readPage(ctx context.Context, server string, from any, dir esdb.Direction, count int) ([]*esdb.RecordedEvent, error) {
	op := "read $all"
	if server != "" {
		op = "read " + server
	}
	return do(s, ctx, op, func(ctx context.Context, c *esdb.Client) ([]*esdb.RecordedEvent, error) {
		var page []*esdb.RecordedEvent
		var rs *esdb.ReadStream
		var err error
		if server != "" {
			rs, err = c.ReadStream(ctx, server, esdb.ReadStreamOptions{Direction: dir, From: from.(esdb.StreamPosition), Deadline: s.deadline()}, uint64(count))
		} else {
			rs, err = c.ReadAll(ctx, esdb.ReadAllOptions{Direction: dir, From: from.(esdb.AllPosition), Deadline: s.deadline()}, uint64(count))
		}
		if err != nil {
			return nil, err
		}
		defer rs.Close()
		for {
			ev, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				return page, nil
			}
			if err != nil {
				return nil, err
			}
			if ev.Event == nil {
				continue // an unresolved link; the ledger writes none
			}
			page = append(page, ev.Event)
		}
	})
}

// readStreamFrom reads server stream name from revision from to its end (or
// to upTo, when not nil), calling fn for every event. found is false when
// the stream has no events.
func (s *Store) readStreamFrom(ctx context.Context, server string, from uint64, upTo *uint64, fn func(*esdb.RecordedEvent) error) (found bool, err error) {
	batch := s.opts.ReadBatchSize
	for {
		count := batch
		if upTo != nil {
			if from > *upTo {
				return true, nil
			}
			if left := *upTo - from + 1; left < uint64(count) {
				count = int(left)
			}
		}
		page, err := s.readPage(ctx, server, esdb.Revision(from), esdb.Forwards, count)
		if classify(err) == errStreamNotFound {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		for _, re := range page {
			if re.EventNumber != from {
				return true, fmt.Errorf("%w: %s: revision %d where %d was expected (was the stream truncated or scavenged?)", eventstore.ErrCorrupt, server, re.EventNumber, from)
			}
			if err := fn(re); err != nil {
				return true, err
			}
			from++
		}
		if len(page) < count {
			return true, nil
		}
	}
}

// ReadStream returns the stream's events in revision order, read from the
// server (the leader, by default). An unknown stream gives ErrStreamNotFound.
func (s *Store) ReadStream(ctx context.Context, stream string, opts eventstore.ReadOptions) ([]eventstore.RecordedEvent, error) {
	if s.isClosed() {
		return nil, eventstore.ErrClosed
	}
	var out []eventstore.RecordedEvent
	found, err := s.readStreamFrom(ctx, s.serverName(stream), 0, opts.UpToRevision, func(re *esdb.RecordedEvent) error {
		e, err := decodeEvent(stream, re)
		if err != nil {
			return err
		}
		// Recorded times never decrease along a stream, but filtering
		// rather than stopping keeps a read correct on a stream that broke
		// that rule some other way.
		if opts.KnownAt.IsZero() || !e.RecordedAt.After(opts.KnownAt) {
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("kurrentdb: read %s: %w", stream, err)
	}
	if !found {
		return nil, fmt.Errorf("kurrentdb: read %s: %w", stream, eventstore.ErrStreamNotFound)
	}
	return out, nil
}

// ReadAll yields the ledger's events with a position after from, in global
// order, reading $all page by page and keeping only the ledger's streams.
//
// A read of $all must start where a log record starts, and KurrentDB refuses
// any other position as invalid. Positions this store handed out always
// qualify; for any other from (a position plus one, say) ReadAll looks
// backwards from the end of the log for the last event at or before it and
// starts there.
func (s *Store) ReadAll(ctx context.Context, from eventstore.Position) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		fail := func(err error) { yield(eventstore.RecordedEvent{}, fmt.Errorf("kurrentdb: read all: %w", err)) }
		if s.isClosed() {
			yield(eventstore.RecordedEvent{}, eventstore.ErrClosed)
			return
		}
		batch := max(s.opts.ReadBatchSize, 2)
		start := allPosition(from)
		skip := from // events at or before skip were delivered or are not wanted
		first := true
		for {
			page, err := s.readPage(ctx, "", start, esdb.Forwards, batch)
			if err != nil && first && from != eventstore.Start && classify(err) == errInvalidArgument {
				b, err := s.boundaryAtOrBefore(ctx, from)
				if err != nil {
					fail(err)
					return
				}
				start, first = allPosition(b), false
				continue
			}
			if err != nil {
				fail(err)
				return
			}
			first = false
			for _, re := range page {
				if eventstore.Position(re.Position.Prepare) <= skip {
					continue
				}
				skip = eventstore.Position(re.Position.Prepare)
				name, ok := s.ledgerName(re.StreamID)
				if !ok {
					continue
				}
				e, err := decodeEvent(name, re)
				if err != nil {
					fail(err)
					return
				}
				if !yield(e, nil) {
					return
				}
			}
			if len(page) < batch {
				return
			}
			last := page[len(page)-1].Position
			// Forward reads include the event at their start: the page's last
			// event comes again first and is skipped.
			start = esdb.Position{Commit: last.Commit, Prepare: last.Prepare}
		}
	}
}

// lastPosition returns the position of the last event in $all (Start when
// there is none).
func (s *Store) lastPosition(ctx context.Context) (eventstore.Position, error) {
	page, err := s.readPage(ctx, "", esdb.End{}, esdb.Backwards, 1)
	if err != nil || len(page) == 0 {
		return eventstore.Start, err
	}
	return eventstore.Position(page[0].Position.Prepare), nil
}

// boundaryAtOrBefore returns the position of the last event of $all at or
// before p (Start when there is none): a place a read may start from.
func (s *Store) boundaryAtOrBefore(ctx context.Context, p eventstore.Position) (eventstore.Position, error) {
	var from esdb.AllPosition = esdb.End{}
	batch := s.opts.ReadBatchSize
	for {
		page, err := s.readPage(ctx, "", from, esdb.Backwards, batch)
		if err != nil {
			return 0, err
		}
		for _, re := range page {
			if eventstore.Position(re.Position.Prepare) <= p {
				return eventstore.Position(re.Position.Prepare), nil
			}
		}
		if len(page) < batch {
			return eventstore.Start, nil
		}
		// Backward reads exclude the event at their start.
		last := page[len(page)-1].Position
		from = esdb.Position{Commit: last.Commit, Prepare: last.Prepare}
	}
}
