package bolt

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"

	bbolt "go.etcd.io/bbolt"

	"github.com/imattertraining/ledger/eventstore"
)

// streamIndex is what the store knows of its streams: each stream's
// positions by revision, its last hash and recorded time, and the position
// of every event id. It lives in memory only. The events bucket is the one
// truth on disk, and Open rebuilds the index from it with one scan, so that
// a commit writes the events and nothing else: with the index in the file,
// every append dirtied a leaf and a branch page of a stream index tree at a
// random place, and a commit of eight appends to eight streams wrote some
// twenty scattered pages instead of six.
//
// The writer is its only writer. It changes it under mu, after a commit
// has reached the disk and before the commit's appends are answered; it
// reads it without mu, since nothing else changes it. Readers take mu to
// look a stream up, then read the events bucket in a transaction begun
// after, which therefore holds every position they found.
type streamIndex struct {
	mu      sync.RWMutex
	streams map[string]*streamEntry
	ids     map[idKey]eventstore.Position
	// through is the last position the index holds: a commit is on disk,
	// and visible to new read transactions, a moment before it is here.
	through eventstore.Position
	// damaged is set when Open met a record it could not read far enough to
	// tell whose it is: any stream may then miss an event, so every stream
	// read and every append is refused with it.
	damaged error
}

// streamEntry is one stream in the index.
type streamEntry struct {
	// num is the stream's number in idKey.
	num uint32
	// positions holds each revision's position. The writer only appends to
	// it, so a reader may keep a copy of the slice after unlocking.
	positions []eventstore.Position
	lastHash  eventstore.Hash
	lastAt    int64 // the last event's recorded time, Unix nanoseconds
	// damaged is set when Open found the stream's records inconsistent (a
	// revision missing or repeated, an event id repeated): its reads and
	// appends are refused with it.
	damaged error
}

// idKey finds an event id within one stream (by its number): an id is a
// retry only in the stream that holds it. It holds no pointer, so that the
// garbage collector need not scan a map of millions of them.
type idKey struct {
	stream uint32
	id     [16]byte
}

// buildIndex scans every record of the events bucket, in position order,
// into a new index. Damage it can place is kept on the stream or the index
// for reads to report (see streamIndex.damaged); only a failure of bbolt
// itself fails it.
func buildIndex(db *bbolt.DB) (*streamIndex, error) {
	idx := &streamIndex{streams: map[string]*streamEntry{}, ids: map[idKey]eventstore.Position{}}
	err := guard("indexing streams", func() error {
		return db.View(func(tx *bbolt.Tx) error {
			b, err := openBuckets(tx)
			if err != nil {
				return err
			}
			// Sized for every event at once: growing a map of a million
			// entries step by step rehashes it a dozen times.
			if last, err := lastPosition(b.events); err == nil && last > 0 {
				idx.ids = make(map[idKey]eventstore.Position, last)
			}
			var r rawRecord
			next := eventstore.Position(1)
			c := b.events.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				pos, err := parsePosition(k)
				if err == nil && pos != next {
					err = corruptf("positions %d to %d are missing", next, pos-1)
				}
				if err != nil {
					idx.damage(err)
					if pos > next {
						next = pos
					}
				}
				next++
				idx.add(pos, v, &r)
				idx.through = max(idx.through, pos)
			}
			last := eventstore.Start
			if v := b.meta.Get(metaLastPos); v != nil {
				if last, err = parsePosition(v); err != nil {
					idx.damage(err)
				}
			} else if next > 1 {
				idx.damage(corruptf("the last position is not recorded"))
			}
			if last >= next {
				idx.damage(corruptf("positions %d to %d are missing from the end", next, last))
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return idx, nil
}

// summary returns the damage found when the index was built, in words that
// name no stream: the damage that cannot be placed, and how many streams
// are damaged; nil when none.
func (idx *streamIndex) summary() error {
	n := 0
	for _, e := range idx.streams {
		if e.damaged != nil {
			n++
		}
	}
	switch {
	case n == 0:
		return idx.damaged
	case idx.damaged != nil:
		return fmt.Errorf("%w; and %d streams are damaged", idx.damaged, n)
	}
	return fmt.Errorf("%w: %d streams are damaged: their reads and appends are refused; ledger verify names them", eventstore.ErrCorrupt, n)
}

// damage records the first damage that cannot be placed in one stream.
func (idx *streamIndex) damage(err error) {
	if idx.damaged == nil {
		idx.damaged = fmt.Errorf("%w; which streams it touches cannot be told: run verify", err)
	}
}

// add indexes the record v stored at pos.
func (idx *streamIndex) add(pos eventstore.Position, v []byte, r *rawRecord) {
	if err := parseHead(pos, v, r); err != nil {
		idx.damage(err)
		return
	}
	e := idx.streams[string(r.stream)]
	if e == nil {
		e = idx.newEntry(string(r.stream))
	}
	if e.damaged != nil {
		return
	}
	if r.revision != uint64(len(e.positions)) {
		e.damaged = corruptf("stream %q: position %d holds revision %d where revision %d was expected", r.stream, pos, r.revision, len(e.positions))
		return
	}
	key := idKey{e.num, r.id}
	if at, ok := idx.ids[key]; ok {
		e.damaged = corruptf("stream %q: event %x at positions %d and %d", r.stream, r.id, at, pos)
		return
	}
	idx.ids[key] = pos
	e.positions = append(e.positions, pos)
	e.lastHash = r.hash
	e.lastAt = r.recordedAt
}

// parseHead parses what the index needs of the record b stored at pos: the
// fixed header and the stream. The rest is checked when the record is read.
func parseHead(pos eventstore.Position, b []byte, r *rawRecord) error {
	if len(b) < recordHeader+4 {
		return corruptf("record at position %d: %d bytes, shorter than its header", pos, len(b))
	}
	if b[0] != recordV1 {
		return corruptf("record at position %d: unknown format version %d", pos, b[0])
	}
	copy(r.id[:], b[offID:offSchema])
	r.revision = binary.BigEndian.Uint64(b[offRevision:])
	r.recordedAt = int64(binary.BigEndian.Uint64(b[offRecordedAt:]))
	copy(r.hash[:], b[offHash:recordHeader])
	var ok bool
	if r.stream, _, ok = cutField(b[recordHeader:]); !ok {
		return fieldErr(pos, 0, b[recordHeader:])
	}
	return nil
}

// newEntry adds stream to the index.
func (idx *streamIndex) newEntry(stream string) *streamEntry {
	e := &streamEntry{num: uint32(len(idx.streams))}
	idx.streams[stream] = e
	return e
}

// lookup returns the positions of stream (nil if there is no such stream)
// or the damage that stops it being read, and the last position the index
// holds.
func (idx *streamIndex) lookup(stream string) ([]eventstore.Position, eventstore.Position, error) {
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	if idx.damaged != nil {
		return nil, idx.through, idx.damaged
	}
	e := idx.streams[stream]
	switch {
	case e == nil:
		return nil, idx.through, nil
	case e.damaged != nil:
		return nil, idx.through, e.damaged
	}
	return e.positions, idx.through, nil
}

// indexed returns the last position the index holds.
func (idx *streamIndex) indexed() eventstore.Position {
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	return idx.through
}

// awaitIndexed waits until the index holds position pos, which a read
// transaction has seen committed: the writer adds a commit to the index,
// then signals it (Store.published), right after the commit.
func (s *Store) awaitIndexed(ctx context.Context, pos eventstore.Position) error {
	for {
		s.mu.Lock()
		ch := s.indexed
		s.mu.Unlock()
		if s.idx.indexed() >= pos {
			return nil
		}
		select {
		case <-ch:
		case <-s.closed:
			return eventstore.ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// pendingStream is a stream as one batch's transaction sees it: the
// committed entry (nil for a new stream) and what the batch has added.
type pendingStream struct {
	entry     *streamEntry
	positions []eventstore.Position
	ids       map[[16]byte]eventstore.Position
	lastHash  eventstore.Hash
	lastAt    int64
}

// count is the number of events in the stream.
func (p *pendingStream) count() int {
	n := len(p.positions)
	if p.entry != nil {
		n += len(p.entry.positions)
	}
	return n
}

// position returns the position of revision rev, which is below count.
func (p *pendingStream) position(rev uint64) eventstore.Position {
	if p.entry != nil {
		if rev < uint64(len(p.entry.positions)) {
			return p.entry.positions[rev]
		}
		rev -= uint64(len(p.entry.positions))
	}
	return p.positions[rev]
}

// find returns the position of event id in the stream, if it is there.
func (p *pendingStream) find(idx *streamIndex, id [16]byte) (eventstore.Position, bool) {
	if pos, ok := p.ids[id]; ok {
		return pos, true
	}
	if p.entry == nil {
		return 0, false
	}
	pos, ok := idx.ids[idKey{p.entry.num, id}]
	return pos, ok
}

// add records an event the batch writes to the stream.
func (p *pendingStream) add(e *eventstore.RecordedEvent) {
	if p.ids == nil {
		p.ids = make(map[[16]byte]eventstore.Position, 4)
	}
	p.positions = append(p.positions, e.Position)
	p.ids[e.ID] = e.Position
	p.lastHash = e.Hash
	p.lastAt = e.RecordedAt.UnixNano()
}

// pending returns stream as the batch st sees it, or the damage that stops
// appends to it.
func (s *Store) pending(st *batchState, stream string) (*pendingStream, error) {
	if p := st.pending[stream]; p != nil {
		return p, nil
	}
	if s.idx.damaged != nil {
		return nil, s.idx.damaged
	}
	e := s.idx.streams[stream]
	p := &pendingStream{entry: e}
	if e != nil {
		if e.damaged != nil {
			return nil, e.damaged
		}
		p.lastHash, p.lastAt = e.lastHash, e.lastAt
	}
	if st.pending == nil {
		st.pending = make(map[string]*pendingStream)
	}
	st.pending[stream] = p
	return p, nil
}

// merge adds what a committed batch, whose last position is through, wrote
// to the index.
func (idx *streamIndex) merge(pending map[string]*pendingStream, through eventstore.Position) {
	idx.mu.Lock()
	defer idx.mu.Unlock()
	idx.through = through
	for name, p := range pending {
		if len(p.positions) == 0 {
			continue
		}
		e := p.entry
		if e == nil {
			e = idx.newEntry(name)
		}
		e.positions = append(e.positions, p.positions...)
		for id, pos := range p.ids {
			idx.ids[idKey{e.num, id}] = pos
		}
		e.lastHash, e.lastAt = p.lastHash, p.lastAt
	}
}
