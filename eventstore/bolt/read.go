package bolt

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"math"

	bbolt "go.etcd.io/bbolt"

	"github.com/imattertraining/ledger/eventstore"
)

// maxChunkBytes bounds the records one read transaction copies out, so that
// a chunk of large events does not hold a transaction (and its memory) long.
const maxChunkBytes = 4 << 20

// ReadStream returns the stream's events in revision order; see
// eventstore.Store. It finds the stream's positions in the index, then reads
// them in one short transaction, begun after the lookup so that it holds
// every position found: streams are short. A stream read never answers from
// an index older than what the transaction sees, so that whoever has seen
// an event (through ReadAll or Subscribe) finds it in its stream. The
// events' Data and Metadata share one buffer per call.
func (s *Store) ReadStream(ctx context.Context, stream string, opts eventstore.ReadOptions) ([]eventstore.RecordedEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for {
		out, behind, err := s.readStream(stream, opts)
		if err != nil || behind == 0 {
			return out, err
		}
		// The transaction saw a commit the index does not hold yet (a
		// subscriber handed its event on at once): wait, then read again.
		if err := s.awaitIndexed(ctx, behind); err != nil {
			return nil, err
		}
	}
}

// readStream is one attempt of ReadStream. If its transaction holds events
// past the index's last position, it reads nothing and returns that
// transaction's last position as behind.
func (s *Store) readStream(stream string, opts eventstore.ReadOptions) (out []eventstore.RecordedEvent, behind eventstore.Position, err error) {
	positions, through, lookupErr := s.idx.lookup(stream)
	if lookupErr == nil && positions == nil {
		lookupErr = fmt.Errorf("%w: %q", eventstore.ErrStreamNotFound, stream)
	}
	err = guard("reading stream "+stream, func() error {
		return dbErr(s.db.View(func(tx *bbolt.Tx) error {
			events := tx.Bucket(bucketEvents)
			if events == nil {
				return corruptf("the events bucket is missing")
			}
			if last, err := lastPosition(events); err != nil {
				return err
			} else if last > through {
				behind = last
				return nil
			}
			if lookupErr != nil {
				return lookupErr
			}
			if opts.UpToRevision != nil && *opts.UpToRevision < uint64(len(positions)-1) {
				positions = positions[:*opts.UpToRevision+1]
			}
			vals := make([][]byte, 0, len(positions))
			payload := 0
			// A stream's events are often neighbours in the events bucket
			// (appended together): the next one is then the events
			// cursor's next key, which is cheaper than a search.
			ec := events.Cursor()
			var ek, ev []byte
			var key [8]byte
			var rec rawRecord
			for rev, pos := range positions {
				want := appendPositionKey(key[:0], pos)
				if ek != nil {
					ek, ev = ec.Next()
				}
				if ek == nil || !bytes.Equal(ek, want) {
					ek, ev = ec.Seek(want)
				}
				if ek == nil || !bytes.Equal(ek, want) {
					return corruptf("stream %q: revision %d is at position %d, which holds no event", stream, rev, pos)
				}
				if err := parseRecord(pos, ev, &rec); err != nil {
					return err
				}
				vals = append(vals, ev)
				payload += len(rec.data) + len(rec.metadata)
			}
			// The records are the file's memory, valid only inside this
			// transaction: decoding copies the strings, and the payloads
			// are copied into one buffer.
			buf := make([]byte, 0, payload)
			keep := func(b []byte) []byte {
				off := len(buf)
				buf = append(buf, b...)
				return nilIfEmpty(buf[off:len(buf):len(buf)])
			}
			out = make([]eventstore.RecordedEvent, 0, len(vals))
			var e eventstore.RecordedEvent
			var strs recentStrings
			for i, v := range vals {
				if err := strs.decodeRecord(stream, positions[i], v, &e); err != nil {
					return err
				}
				e.Data, e.Metadata = keep(e.Data), keep(e.Metadata)
				if e.Stream != stream || e.Revision != uint64(i) {
					return corruptf("stream %q revision %d: position %d holds %q revision %d", stream, i, positions[i], e.Stream, e.Revision)
				}
				if !opts.KnownAt.IsZero() && e.RecordedAt.After(opts.KnownAt) {
					continue
				}
				out = append(out, e)
			}
			return nil
		}))
	})
	if err != nil {
		return nil, 0, err
	}
	return out, behind, nil
}

// ReadAll yields every event after from in global order; see
// eventstore.Store. It reads in chunks, each in its own short read
// transaction, so that a slow consumer holds no transaction open (a held
// transaction would stop bbolt reusing freed pages and block the file from
// growing). The events of one chunk share one buffer for their Data and
// Metadata.
func (s *Store) ReadAll(ctx context.Context, from eventstore.Position) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		r := s.newReader(from)
		for {
			if err := ctx.Err(); err != nil {
				yield(eventstore.RecordedEvent{}, err)
				return
			}
			more, err := r.fill()
			if err != nil {
				yield(eventstore.RecordedEvent{}, err)
				return
			}
			var e eventstore.RecordedEvent
			for i := range r.refs {
				r.event(i, &e)
				if !yield(e, nil) {
					return
				}
			}
			if !more {
				return
			}
		}
	}
}

// reader reads the events bucket forwards, one chunk per transaction.
type reader struct {
	s     *Store
	after eventstore.Position
	in    *interner
	// The current chunk. Each record's fixed fields are parsed inside the
	// transaction into refs, which holds no pointers (so filling it costs
	// no write barriers and it is reused from chunk to chunk); only data and
	// metadata are copied, into buffers of at most bufBytes, which are
	// fresh for every chunk because the events handed out point into them.
	bufs [][]byte
	refs []recordRef
}

// recordRef is one event of a chunk, ready to be turned into a RecordedEvent.
type recordRef struct {
	pos                                 eventstore.Position
	id                                  [16]byte
	schemaVersion                       uint16
	revision                            uint64
	recordedAt                          int64
	prevHash, hash                      eventstore.Hash
	stream, typ, occurredOn, recordedBy int32 // interner indices
	buf, dataOff, dataEnd, metadataEnd  uint32
}

// bufBytes is the size of the buffers payloads are copied into: small
// allocations, which the runtime recycles without returning pages to the OS.
const bufBytes = 32 << 10

// firstBufBytes is the size of a chunk's first buffer.
const firstBufBytes = 2 << 10

func (s *Store) newReader(after eventstore.Position) *reader {
	return &reader{s: s, after: after, in: newInterner()}
}

// event sets e to the i'th event of the current chunk.
func (r *reader) event(i int, e *eventstore.RecordedEvent) {
	ref := &r.refs[i]
	buf := r.bufs[ref.buf]
	strs := r.in.strs
	*e = eventstore.RecordedEvent{
		ID: ref.id, Stream: strs[ref.stream], Type: strs[ref.typ], SchemaVersion: ref.schemaVersion,
		Revision: ref.revision, Position: ref.pos, RecordedAt: unixTime(ref.recordedAt),
		OccurredOn: strs[ref.occurredOn], RecordedBy: strs[ref.recordedBy],
		Data:     nilIfEmpty(buf[ref.dataOff:ref.dataEnd:ref.dataEnd]),
		Metadata: nilIfEmpty(buf[ref.dataEnd:ref.metadataEnd:ref.metadataEnd]),
		PrevHash: ref.prevHash, Hash: ref.hash,
	}
}

// fill reads the next chunk (up to ReadChunk events or maxChunkBytes) in
// one read transaction and reports whether more may follow in the same
// snapshot of the file. An empty chunk means the reader has caught up.
func (r *reader) fill() (more bool, err error) {
	clear(r.bufs)
	r.bufs, r.refs = r.bufs[:0], r.refs[:0]
	r.in.reset()
	if r.after == math.MaxUint64 {
		return false, nil
	}
	err = guard("reading events", func() error {
		return dbErr(r.s.db.View(func(tx *bbolt.Tx) error {
			events := tx.Bucket(bucketEvents)
			if events == nil {
				return corruptf("the events bucket is missing")
			}
			var key [8]byte
			var rec rawRecord
			var buf []byte
			total := 0
			last := [4]int32{-1, -1, -1, -1}
			c := events.Cursor()
			k, v := c.Seek(appendPositionKey(key[:0], r.after+1))
			for ; k != nil; k, v = c.Next() {
				if len(r.refs) == r.s.opts.ReadChunk || (total > 0 && total+len(v) > maxChunkBytes) {
					more = true
					break
				}
				pos, err := parsePosition(k)
				if err != nil {
					return err
				}
				if err := parseRecord(pos, v, &rec); err != nil {
					return err
				}
				payload := len(rec.data) + len(rec.metadata)
				if payload > cap(buf)-len(buf) {
					if buf != nil {
						r.bufs = append(r.bufs, buf)
					}
					size := bufBytes
					if buf == nil {
						// A subscriber tailing the store reads a few events
						// per commit: start small.
						size = firstBufBytes
					}
					buf = make([]byte, 0, max(size, payload))
				}
				off := len(buf)
				buf = append(append(buf, rec.data...), rec.metadata...)
				r.refs = append(r.refs, recordRef{
					pos: pos, id: rec.id, schemaVersion: rec.schemaVersion,
					revision: rec.revision, recordedAt: rec.recordedAt,
					prevHash: rec.prevHash, hash: rec.hash,
					stream: r.in.id(&last[0], rec.stream), typ: r.in.id(&last[1], rec.typ),
					occurredOn: r.in.id(&last[2], rec.occurredOn), recordedBy: r.in.id(&last[3], rec.recordedBy),
					buf: uint32(len(r.bufs)), dataOff: uint32(off),
					dataEnd: uint32(off + len(rec.data)), metadataEnd: uint32(len(buf)),
				})
				total += len(v)
				r.after = pos
			}
			if buf != nil {
				r.bufs = append(r.bufs, buf)
			}
			return nil
		}))
	})
	if err != nil {
		r.refs = r.refs[:0]
		return false, err
	}
	return more, nil
}
