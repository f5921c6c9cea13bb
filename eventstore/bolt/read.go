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
// eventstore.Store. It reads in one short transaction: streams are short.
// The events' Data and Metadata share one buffer per call.
func (s *Store) ReadStream(ctx context.Context, stream string, opts eventstore.ReadOptions) ([]eventstore.RecordedEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []eventstore.RecordedEvent
	err := guard("reading stream "+stream, func() error {
		return dbErr(s.db.View(func(tx *bbolt.Tx) error {
			b, err := openBuckets(tx)
			if err != nil {
				return err
			}
			raw := b.streams.Get([]byte(stream))
			if raw == nil {
				return fmt.Errorf("%w: %q", eventstore.ErrStreamNotFound, stream)
			}
			tip, err := decodeTip(stream, raw)
			if err != nil {
				return err
			}
			upTo := tip.lastRevision
			if opts.UpToRevision != nil && *opts.UpToRevision < upTo {
				upTo = *opts.UpToRevision
			}
			var prefix [8]byte
			var key [16]byte
			sidKey := appendPositionKey(prefix[:0], eventstore.Position(tip.sid))
			var vals [][]byte
			var positions []eventstore.Position
			total := 0
			c := b.revisions.Cursor()
			k, v := c.Seek(appendRevisionKey(key[:0], tip.sid, 0))
			for rev := uint64(0); rev <= upTo; rev++ {
				if k == nil || !bytes.HasPrefix(k, sidKey) {
					return corruptf("stream %q: revision %d of %d is not indexed", stream, rev, tip.lastRevision)
				}
				if len(k) != 16 || beUint64(k[8:]) != rev {
					return corruptf("stream %q: index key %x where revision %d was expected", stream, k, rev)
				}
				pos, err := parsePosition(v)
				if err != nil {
					return err
				}
				rec := b.events.Get(v)
				if rec == nil {
					return corruptf("stream %q: revision %d indexes position %d, which holds no event", stream, rev, pos)
				}
				vals = append(vals, rec)
				positions = append(positions, pos)
				total += len(rec)
				k, v = c.Next()
			}
			buf := make([]byte, total)
			out = make([]eventstore.RecordedEvent, 0, len(vals))
			off := 0
			var e eventstore.RecordedEvent
			for i, rec := range vals {
				n := copy(buf[off:], rec)
				if err := decodeRecord(positions[i], buf[off:off+n:off+n], nil, &e); err != nil {
					return err
				}
				off += n
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
		return nil, err
	}
	return out, nil
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
			chunk, more, err := r.next()
			if err != nil {
				yield(eventstore.RecordedEvent{}, err)
				return
			}
			for i := range chunk {
				if !yield(chunk[i], nil) {
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
	chunk []eventstore.RecordedEvent
	vals  [][]byte
	keys  [][]byte
}

func (s *Store) newReader(after eventstore.Position) *reader {
	return &reader{s: s, after: after, in: newInterner()}
}

// next returns the next chunk of events (reusing the slice of the previous
// one) and whether more may follow in the same snapshot of the file. An
// empty chunk means the reader has caught up.
func (r *reader) next() (chunk []eventstore.RecordedEvent, more bool, err error) {
	r.chunk = r.chunk[:0]
	if r.after == math.MaxUint64 {
		return r.chunk, false, nil
	}
	err = guard("reading events", func() error {
		return dbErr(r.s.db.View(func(tx *bbolt.Tx) error {
			events := tx.Bucket(bucketEvents)
			if events == nil {
				return corruptf("the events bucket is missing")
			}
			r.vals, r.keys = r.vals[:0], r.keys[:0]
			var key [8]byte
			c := events.Cursor()
			total := 0
			k, v := c.Seek(appendPositionKey(key[:0], r.after+1))
			for ; k != nil; k, v = c.Next() {
				if len(r.vals) == r.s.opts.ReadChunk || (total > 0 && total+len(v) > maxChunkBytes) {
					more = true
					break
				}
				r.keys = append(r.keys, k)
				r.vals = append(r.vals, v)
				total += len(v)
			}
			// One buffer per chunk: the events handed out point into it,
			// so it is never reused.
			buf := make([]byte, total)
			off := 0
			var e eventstore.RecordedEvent
			for i, v := range r.vals {
				pos, err := parsePosition(r.keys[i])
				if err != nil {
					return err
				}
				n := copy(buf[off:], v)
				if err := decodeRecord(pos, buf[off:off+n:off+n], r.in, &e); err != nil {
					return err
				}
				off += n
				r.chunk = append(r.chunk, e)
			}
			return nil
		}))
	})
	clear(r.vals)
	clear(r.keys)
	if err != nil {
		return nil, false, err
	}
	if len(r.chunk) > 0 {
		r.after = r.chunk[len(r.chunk)-1].Position
	}
	return r.chunk, more, nil
}
