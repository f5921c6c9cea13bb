package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"

	"github.com/imattertraining/ledger/eventstore"
)

// fnError carries the subscriber's own error out of the receive loop, so
// that it is returned as is and never retried.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// Subscribe calls fn for every ledger event after from in global order; see
// eventstore.Store.
//
// It is a KurrentDB catch-up subscription to $all, filtered on the server to
// the ledger's stream prefixes: the server reads the log from the position
// onwards and then switches to live events itself, so nothing is missed or
// repeated at the hand-over. When the connection drops (a node restarts, a
// leader changes, the network fails) Subscribe subscribes again after the
// last event it delivered, and skips anything at or before it, so a
// reconnection neither loses nor repeats an event. It gives up with an error
// wrapping eventstore.ErrUnavailable when it cannot resubscribe for
// Options.RetryFor, so that the caller learns of an outage: a caller that
// must stay subscribed (the read models' Projector.Run) subscribes again
// from its checkpoint, with its own backoff, for as long as it runs.
func (s *Store) Subscribe(ctx context.Context, from eventstore.Position, fn func(eventstore.RecordedEvent) error) error {
	if s.isClosed() {
		return eventstore.ErrClosed
	}
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	stop := func(err error) error {
		if s.isClosed() {
			return eventstore.ErrClosed
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}

	last := from // the last position delivered (or not wanted)
	start, err := s.subscribeStart(ctx, from)
	if err != nil {
		return stop(fmt.Errorf("kurrentdb: subscribe: %w", err))
	}
	backoff := 20 * time.Millisecond
	failingSince := time.Time{}
	for {
		delivered, err := s.subscribeOnce(ctx, start, &last, fn)
		var fe fnError
		if errors.As(err, &fe) {
			return fe.err
		}
		if s.isClosed() || ctx.Err() != nil {
			return stop(err)
		}
		switch kind := classify(err); {
		case kind == errInvalidArgument && grpcCode(err) == codes.InvalidArgument:
			// The start is not where a record begins (only possible for a
			// from this store did not hand out): look it up and go again.
			b, err := s.boundaryAtOrBefore(ctx, last)
			if err != nil {
				return stop(fmt.Errorf("kurrentdb: subscribe: %w", err))
			}
			start = allPosition(b)
			continue
		case isFatalSubscriptionError(err):
			return stop(fmt.Errorf("kurrentdb: subscribe: %w", err))
		}
		if delivered > 0 || failingSince.IsZero() {
			failingSince = time.Now()
			backoff = 20 * time.Millisecond
		}
		if time.Since(failingSince) > s.opts.RetryFor {
			return stop(fmt.Errorf("kurrentdb: subscribe: %w: no connection for %s: %w", eventstore.ErrUnavailable, s.opts.RetryFor, err))
		}
		s.opts.Logger.Info("kurrentdb: subscription dropped, resubscribing", "after", last, "err", err)
		t := time.NewTimer(backoff/2 + rand.N(backoff/2+1))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return stop(ctx.Err())
		}
		backoff = min(backoff*2, 2*time.Second)
		if last != from || start == nil {
			start = allPosition(last)
		}
	}
}

// isFatalSubscriptionError reports errors that resubscribing cannot cure.
func isFatalSubscriptionError(err error) bool {
	switch grpcCode(err) {
	case codes.PermissionDenied, codes.Unauthenticated, codes.Unimplemented:
		return true
	}
	if e, ok := esdbError(err); ok {
		switch e.Code() {
		case esdb.ErrorCodeAccessDenied, esdb.ErrorCodeUnauthenticated, esdb.ErrorCodeUnsupportedFeature:
			return true
		}
	}
	return errors.Is(err, eventstore.ErrCorrupt)
}

// subscribeStart returns where a subscription for events after from may
// start: from itself when a record begins there, else the last event before
// it. A subscription starts after its position, so the event at the
// returned position is not delivered again.
func (s *Store) subscribeStart(ctx context.Context, from eventstore.Position) (esdb.AllPosition, error) {
	if from == eventstore.Start {
		return esdb.Start{}, nil
	}
	page, err := s.readPage(ctx, "", allPosition(from), esdb.Forwards, 1)
	switch {
	case err == nil && len(page) > 0:
		return allPosition(from), nil
	case err == nil:
		// from is at or past the end of the log: start after the last event.
		last, err := s.lastPosition(ctx)
		if err != nil {
			return nil, err
		}
		return allPosition(min(last, from)), nil
	case classify(err) == errInvalidArgument:
		b, err := s.boundaryAtOrBefore(ctx, from)
		if err != nil {
			return nil, err
		}
		return allPosition(b), nil
	default:
		return nil, err
	}
}

// subscribeOnce runs one subscription from start until it drops, calling fn
// for each ledger event after *last and advancing *last. It returns how many
// events it delivered and why it stopped.
func (s *Store) subscribeOnce(ctx context.Context, start esdb.AllPosition, last *eventstore.Position, fn func(eventstore.RecordedEvent) error) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	filter := &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: s.prefixes}
	sub, c, err := call(s, ctx, func(ctx context.Context, cl *esdb.Client) (*esdb.Subscription, error) {
		sub, err := cl.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: start, Filter: filter})
		if err == nil && ctx.Err() != nil {
			// The caller has gone: nobody else will close it.
			sub.Close()
		}
		return sub, err
	})
	if err != nil {
		if c != nil && classify(err) == errClientDead {
			s.replace(c)
		}
		return 0, err
	}
	// Keep the connection registered while the subscription reads from it.
	if c, err = s.acquire(); err != nil {
		sub.Close()
		return 0, err
	}
	defer c.inflight.Done()
	defer sub.Close()

	delivered := 0
	for {
		ev := sub.Recv()
		switch {
		case ev.SubscriptionDropped != nil:
			err := ev.SubscriptionDropped.Error
			if err == nil {
				err = errors.New("subscription dropped")
			}
			return delivered, err
		case ev.EventAppeared != nil:
			re := ev.EventAppeared.Event
			if re == nil {
				continue
			}
			pos := eventstore.Position(re.Position.Prepare)
			if pos <= *last {
				continue
			}
			name, ok := s.ledgerName(re.StreamID)
			if !ok {
				continue
			}
			e, err := decodeEvent(name, re)
			if err != nil {
				return delivered, err
			}
			if err := fn(e); err != nil {
				return delivered, fnError{err}
			}
			*last = pos
			delivered++
		}
		// Checkpoints are not used to move the restart point: a checkpoint
		// may name the next record rather than the last one read, and a
		// subscription starts after its position.
	}
}
