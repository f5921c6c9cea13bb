package kurrentdb

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
	"unicode/utf8"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/imattertraining/ledger/eventstore"
)

// maxAnyConflicts bounds how often an append with expected revision Any is
// retried when other writers keep getting in first.
const maxAnyConflicts = 50

// Append adds events to the end of stream atomically; see eventstore.Store.
//
// KurrentDB cannot compute the hash chain, so every append is a
// read-then-write: the adapter reads what the stream gained since it last
// looked, checks the caller's expected revision and event IDs against that,
// chains the new events to the last hash, and appends them with KurrentDB's
// expected revision set to exactly the revision it read (or NoStream). Any,
// NoStream and Exact(n) from the caller are all enforced by that one exact
// condition: if another writer got in between, KurrentDB answers
// WrongExpectedVersion and the adapter looks again, so that an Any append is
// retried on the new tip, a NoStream or Exact append fails with a
// *eventstore.RevisionConflictError naming the current revision, and a retry
// of an append that landed after all is recognised by its first event ID.
// The stream's chain therefore cannot fork, however many ledger processes
// write to one KurrentDB.
//
// Idempotency is the adapter's, not KurrentDB's (the server only recognises
// a repeated append made with the same expected revision, and for Any only
// while the IDs are in its cache): when the first event's ID is anywhere in
// the stream, Append returns the original result, or ErrIdempotencyMismatch
// if the events differ from those stored. The same check makes it safe to
// resend an append whose reply was lost in a network failure.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := s.validate(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	if s.isClosed() {
		return eventstore.AppendResult{}, eventstore.ErrClosed
	}
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	server := s.serverName(stream)
	st := s.cache.get(server)
	st.mu.Lock()
	defer st.mu.Unlock()

	for conflicts := 0; ; {
		if err := s.refresh(ctx, stream, st); err != nil {
			return eventstore.AppendResult{}, s.wrap("append to "+stream, err)
		}
		if res, retry, err := st.retried(stream, events); retry || err != nil {
			return res, err
		}
		cur, exists := st.tip()
		if !expected.Check(cur, exists) {
			return eventstore.AppendResult{}, &eventstore.RevisionConflictError{Stream: stream, Expected: expected, Current: cur, Exists: exists}
		}
		proposals, err := s.chain(stream, st, events)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		var want esdb.ExpectedRevision = esdb.NoStream{}
		if exists {
			want = esdb.Revision(cur)
		}
		first := uint64(len(st.events))
		_, err = do(s, ctx, "append to "+stream, func(ctx context.Context, c *esdb.Client) (*esdb.WriteResult, error) {
			return c.AppendToStream(ctx, server, esdb.AppendToStreamOptions{ExpectedRevision: want, Deadline: s.deadline()}, proposals...)
		})
		switch kind := classify(err); {
		case err == nil:
			// Read the events back: their positions are only known from a
			// read (the append's reply gives one position for the whole
			// transaction), and the read also advances the cached view.
			if err := s.refresh(ctx, stream, st); err != nil {
				return eventstore.AppendResult{}, s.wrap("append to "+stream+" (stored; reading it back failed, retry to get the result)", err)
			}
			return st.result(stream, first, events)
		case kind == errWrongExpectedVersion:
			conflicts++
			if conflicts > maxAnyConflicts {
				cur, exists := st.tip()
				return eventstore.AppendResult{}, fmt.Errorf("kurrentdb: append to %s lost the race to other writers %d times: %w", stream, conflicts, &eventstore.RevisionConflictError{Stream: stream, Expected: expected, Current: cur, Exists: exists})
			}
			if conflicts > 3 {
				// Let the other writers through before trying again.
				sleep := time.Duration(rand.N(conflicts*5)+1) * time.Millisecond
				select {
				case <-time.After(sleep):
				case <-ctx.Done():
					return eventstore.AppendResult{}, s.wrap("append to "+stream, ctx.Err())
				}
			}
		case kind == errInvalidArgument:
			return eventstore.AppendResult{}, fmt.Errorf("kurrentdb: append to %s: %w: refused by the server: %w", stream, eventstore.ErrInvalidEvent, err)
		default:
			return eventstore.AppendResult{}, s.wrap("append to "+stream, err)
		}
	}
}

// wrap adds context to err unless it is a plain sentinel the caller tests
// for by identity anyway.
func (s *Store) wrap(op string, err error) error {
	if s.isClosed() {
		return eventstore.ErrClosed
	}
	return fmt.Errorf("kurrentdb: %s: %w", op, err)
}

// validate refuses what the store contract calls malformed, and what
// KurrentDB or JSON could not store byte for byte.
func (s *Store) validate(stream string, events []eventstore.EventData) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("kurrentdb: append to %q: %w: %s", stream, eventstore.ErrInvalidEvent, fmt.Sprintf(format, args...))
	}
	switch {
	case stream == "":
		return bad("empty stream name")
	case !utf8.ValidString(stream):
		return bad("stream name is not UTF-8")
	case len(events) == 0:
		return bad("no events")
	}
	if _, ok := s.ledgerName(s.serverName(stream)); !ok {
		return bad("stream is outside the ledger's stream prefixes %q", s.opts.StreamPrefixes)
	}
	seen := make(map[uuid.UUID]bool, len(events))
	for i, e := range events {
		switch {
		case e.ID == uuid.Nil:
			return bad("event %d has no ID", i)
		case seen[e.ID]:
			return bad("event ID %s appears twice", e.ID)
		case e.Type == "":
			return bad("event %s has no type", e.ID)
		case !utf8.ValidString(e.Type) || !utf8.ValidString(e.OccurredOn) || !utf8.ValidString(e.RecordedBy):
			return bad("event %s has a type, occurred-on date or recorder that is not UTF-8", e.ID)
		}
		seen[e.ID] = true
	}
	return nil
}

// refresh reads what stream gained since st last looked.
func (s *Store) refresh(ctx context.Context, stream string, st *streamState) error {
	server := s.serverName(stream)
	found, err := s.readStreamFrom(ctx, server, uint64(len(st.events)), nil, func(re *esdb.RecordedEvent) error {
		e, err := decodeEvent(stream, re)
		if err != nil {
			return err
		}
		st.add(summary{
			id:         e.ID,
			digest:     contentDigest(e.Type, e.SchemaVersion, e.OccurredOn, e.RecordedBy, e.Data, e.Metadata),
			recordedAt: e.RecordedAt,
			position:   e.Position,
			hash:       e.Hash,
		})
		return nil
	})
	if err != nil {
		return err
	}
	if !found && len(st.events) > 0 {
		return fmt.Errorf("%w: stream %s had %d events and is now not found (was it deleted?)", eventstore.ErrCorrupt, stream, len(st.events))
	}
	s.cache.resized(server, st, len(st.events))
	return nil
}

// retried reports whether events are a retry of an append already stored,
// and if so its original result, or ErrIdempotencyMismatch when they reuse
// stored IDs with different content.
func (st *streamState) retried(stream string, events []eventstore.EventData) (eventstore.AppendResult, bool, error) {
	mismatch := func(format string, args ...any) (eventstore.AppendResult, bool, error) {
		return eventstore.AppendResult{}, true, fmt.Errorf("kurrentdb: append to %s: %w: %s", stream, eventstore.ErrIdempotencyMismatch, fmt.Sprintf(format, args...))
	}
	at, ok := st.byID[events[0].ID]
	if !ok {
		for _, e := range events[1:] {
			if rev, ok := st.byID[e.ID]; ok {
				return mismatch("event %s is already stored at revision %d", e.ID, rev)
			}
		}
		return eventstore.AppendResult{}, false, nil
	}
	if at+uint64(len(events)) > uint64(len(st.events)) {
		return mismatch("the stored append starting at revision %d has fewer events than the retry", at)
	}
	for i, e := range events {
		got := st.events[at+uint64(i)]
		switch {
		case got.id != e.ID:
			return mismatch("revision %d is event %s, the retry has %s", at+uint64(i), got.id, e.ID)
		case got.digest != digestOf(e):
			return mismatch("event %s differs from the one stored at revision %d", e.ID, at+uint64(i))
		case !e.RecordedAt.IsZero() && !e.RecordedAt.Equal(got.recordedAt):
			return mismatch("event %s was recorded at %s, the retry says %s", e.ID, got.recordedAt, e.RecordedAt)
		}
	}
	last := at + uint64(len(events)) - 1
	return eventstore.AppendResult{
		FirstRevision: at, LastRevision: last,
		FirstPosition: st.events[at].position, LastPosition: st.events[last].position,
	}, true, nil
}

// result is the AppendResult of events, just appended from revision first.
func (st *streamState) result(stream string, first uint64, events []eventstore.EventData) (eventstore.AppendResult, error) {
	last := first + uint64(len(events)) - 1
	if last >= uint64(len(st.events)) || st.events[first].id != events[0].ID || st.events[last].id != events[len(events)-1].ID {
		return eventstore.AppendResult{}, fmt.Errorf("kurrentdb: append to %s: %w: the events read back are not the ones appended", stream, eventstore.ErrCorrupt)
	}
	return eventstore.AppendResult{
		FirstRevision: first, LastRevision: last,
		FirstPosition: st.events[first].position, LastPosition: st.events[last].position,
	}, nil
}

func schemaVersion(e eventstore.EventData) uint16 {
	if e.SchemaVersion == 0 {
		return 1
	}
	return e.SchemaVersion
}

func digestOf(e eventstore.EventData) [32]byte {
	return contentDigest(e.Type, schemaVersion(e), e.OccurredOn, e.RecordedBy, e.Data, e.Metadata)
}

// chain turns events into KurrentDB proposals that follow st's tip: each
// gets its revision, recorded time, previous hash and hash in its envelope.
// Recorded times are the store's clock (UTC), never earlier than the
// stream's last, unless the caller gave one (a migration), which must not be
// earlier than the stream's last either.
func (s *Store) chain(stream string, st *streamState, events []eventstore.EventData) ([]esdb.EventData, error) {
	var prev eventstore.Hash
	var lastAt time.Time
	if n := len(st.events); n > 0 {
		prev, lastAt = st.events[n-1].hash, st.events[n-1].recordedAt
	}
	now := s.opts.Now().Round(0).UTC()
	rev := uint64(len(st.events))
	out := make([]esdb.EventData, 0, len(events))
	for _, e := range events {
		at := e.RecordedAt.Round(0).UTC()
		switch {
		case e.RecordedAt.IsZero():
			at = now
			if at.Before(lastAt) {
				at = lastAt
			}
		case at.Before(lastAt):
			return nil, fmt.Errorf("kurrentdb: append to %s: %w: event %s recorded at %s, before the stream's last recorded time %s", stream, eventstore.ErrInvalidEvent, e.ID, at, lastAt)
		}
		rec := eventstore.RecordedEvent{
			ID: e.ID, Stream: stream, Type: e.Type, SchemaVersion: schemaVersion(e),
			Revision: rev, RecordedAt: at, OccurredOn: e.OccurredOn, RecordedBy: e.RecordedBy,
			Data: e.Data, Metadata: e.Metadata, PrevHash: prev,
		}
		rec.Hash = eventstore.ComputeHash(eventstore.ChainFieldsOf(rec))
		meta, err := encodeEnvelope(rec)
		if err != nil {
			return nil, fmt.Errorf("kurrentdb: append to %s: %w", stream, err)
		}
		ct := esdb.ContentTypeBinary
		if json.Valid(e.Data) {
			ct = esdb.ContentTypeJson
		}
		out = append(out, esdb.EventData{EventID: e.ID, EventType: e.Type, ContentType: ct, Data: e.Data, Metadata: meta})
		prev, lastAt, rev = rec.Hash, at, rev+1
	}
	return out, nil
}
