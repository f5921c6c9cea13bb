package projections

import (
	"sync"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
)

// DefaultCachedFacts is how many decoded facts a Views keeps by default.
const DefaultCachedFacts = 1 << 16

// factCache remembers streams' decoded facts, so that a stream read again
// (a standing asked for again, a practitioner re-folded after a new event)
// decodes only the events it has not decoded before. Decoding the JSON of
// every event is most of what a view or a re-fold costs.
//
// It is a memo, not a model: whatever reads it has read the stream from the
// store first, and takes from the cache only the facts of events it holds
// itself, matched by revision, id and position. A stream's event at a
// revision never changes once stored, so a match is the same event; the
// cache cannot make anything stale.
//
// An entry is a prefix of one stream, revisions 0 to len-1, and no element
// it holds is ever written to once published: a longer prefix replaces it.
// Its slices are shared read-only with the streamFacts built from it,
// capped so that no append can reach the cache's copy. A longer prefix may
// share the arrays of the entry it replaces (see grow), so that following a
// stream event by event copies its history only now and then rather than
// on every event: it then writes only past every end ever published over
// those arrays, which no reader can see. Bounded by a count of facts (the
// room kept for growth, at most a quarter more, is not counted): when full,
// entries are dropped at random. Safe for concurrent use.
type factCache struct {
	mu      sync.Mutex
	max     int
	n       int
	streams map[string]cachedStream
}

type cachedStream struct {
	facts     []domain.Fact
	positions []eventstore.Position
	// erased is whether the stream's personal data was erased when its
	// facts were decoded: an entry decoded before an erasure holds the name
	// and is never used after it.
	erased bool
	// written, shared by every entry over the same arrays, is how many of
	// their elements have been written: grow may hand out the room past an
	// entry's end only when it is also past every write (nil: the arrays
	// have no room, or came from elsewhere).
	written *int
}

// newFactCache returns a cache of at most max facts; max <= 0: no cache.
func newFactCache(max int) *factCache {
	if max <= 0 {
		return nil
	}
	return &factCache{max: max, streams: make(map[string]cachedStream)}
}

func (c *factCache) get(stream string, erased bool) cachedStream {
	if c == nil {
		return cachedStream{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.streams[stream]
	if s.erased != erased {
		return cachedStream{erased: erased}
	}
	// The room past the end is grow's to hand out: no reader's append may
	// reach it.
	s.facts, s.positions = s.facts[:len(s.facts):len(s.facts)], s.positions[:len(s.positions):len(s.positions)]
	return s
}

// put offers a prefix of stream; it is kept if longer than what the cache
// holds. facts and positions must not be written to afterwards.
func (c *factCache) put(stream string, facts []domain.Fact, positions []eventstore.Position, erased bool) {
	c.putGrown(stream, facts, positions, erased, nil)
}

// grow returns facts and positions of length len(s.facts)+k, beginning with
// s (an entry get returned for stream), whose last k elements no one else
// can see: the caller fills them and offers the result to putGrown with
// written. They are in s's own arrays when the cache still holds s, its
// arrays have room, and nothing has been written past its end (claimed
// here, under the lock, so no two callers are ever given the same
// elements); else in new arrays with room for a quarter more (and two).
func (c *factCache) grow(stream string, s cachedStream, k int) (facts []domain.Fact, positions []eventstore.Position, written *int) {
	n := len(s.facts)
	if c != nil && s.written != nil {
		c.mu.Lock()
		cur := c.streams[stream]
		if cur.written == s.written && len(cur.facts) == n && *cur.written == n && cap(cur.facts) >= n+k && cap(cur.positions) >= n+k {
			*cur.written = n + k
			facts, positions = cur.facts[:n+k], cur.positions[:n+k]
		}
		c.mu.Unlock()
		if facts != nil {
			return facts, positions, s.written
		}
	}
	size := n + k + (n+k)/4 + 2
	facts = make([]domain.Fact, n+k, size)
	positions = make([]eventstore.Position, n+k, size)
	copy(facts, s.facts)
	copy(positions, s.positions)
	written = new(int)
	*written = n + k
	return facts, positions, written
}

// putGrown is put for arrays from grow: the entry keeps their room, and
// written, for the next grow.
func (c *factCache) putGrown(stream string, facts []domain.Fact, positions []eventstore.Position, erased bool, written *int) {
	if c == nil || len(facts) == 0 || len(facts) > c.max/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.streams[stream]
	if old.erased == erased && len(old.facts) >= len(facts) || old.erased && !erased {
		return
	}
	if c.n-len(old.facts)+len(facts) > c.max {
		for name, e := range c.streams {
			if c.n <= c.max*3/4 {
				break
			}
			c.n -= len(e.facts)
			delete(c.streams, name)
		}
		old = c.streams[stream]
	}
	c.n += len(facts) - len(old.facts)
	c.streams[stream] = cachedStream{facts: facts, positions: positions, erased: erased, written: written}
}

// has reports whether the cached entry holds e, at its revision.
func (s cachedStream) has(e *eventstore.RecordedEvent) bool {
	return e.Revision < uint64(len(s.facts)) && s.facts[e.Revision].ID == e.ID && s.positions[e.Revision] == e.Position
}

// decode is decodeStreamAsOf through the cache: events (one stream's, in
// revision order, at least one) are decoded unless the cache holds them,
// and when they are the whole stream from revision 0 they are offered to
// the cache. Events that occurred after asOf (non-zero) are left undecoded
// only when the read cannot be cached (a known_at cut), exactly as
// decodeStreamAsOf leaves them; the facts that come out qualify alike.
func (v *Views) decode(stream string, events []eventstore.RecordedEvent, asOf domain.Date) (*streamFacts, error) {
	erased := v.erased(stream)
	cached := v.cache.get(stream, erased)
	prefix := v.cache != nil
	for i := range events {
		if events[i].Revision != uint64(i) {
			prefix = false
			break
		}
	}
	facts := make([]domain.Fact, len(events))
	positions := make([]eventstore.Position, len(events))
	for i := range events {
		e := &events[i]
		positions[i] = e.Position
		if cached.has(e) {
			facts[i] = cached.facts[e.Revision]
			continue
		}
		if !prefix {
			if later, ok, err := notYetOccurred(e, asOf); err != nil {
				return nil, err
			} else if ok {
				facts[i] = later
				continue
			}
		}
		f, err := factOf(*e, nil, v.keys)
		if err != nil {
			return nil, err
		}
		facts[i] = f
	}
	if prefix && len(events) > len(cached.facts) {
		v.cache.put(stream, facts, positions, erased)
	}
	return settle(facts, positions, events[len(events)-1].Revision), nil
}

// extend is decode for a stream whose new events a batch delivers: when the
// cache holds the stream up to just before them, the stream is the cached
// facts plus the new events decoded, with no read of the store. ok is
// false when the cache does not reach them.
func (v *Views) extend(stream string, fresh []eventstore.RecordedEvent) (sf *streamFacts, ok bool, err error) {
	erased := v.erased(stream)
	cached := v.cache.get(stream, erased)
	n := uint64(len(cached.facts))
	if n == 0 || len(fresh) == 0 {
		return nil, false, nil
	}
	// Events the cache already holds are skipped (a batch overlapping a
	// read); the rest must follow on without a gap.
	i := 0
	for i < len(fresh) && fresh[i].Revision < n {
		if !cached.has(&fresh[i]) {
			return nil, false, nil
		}
		i++
	}
	rest := fresh[i:]
	for j := range rest {
		if rest[j].Revision != n+uint64(j) {
			return nil, false, nil
		}
	}
	if len(rest) == 0 {
		return settle(cached.facts, cached.positions, n-1), true, nil
	}
	// A fact that does not decode leaves the room claimed and unpublished:
	// the next grow of the stream copies into new arrays.
	facts, positions, written := v.cache.grow(stream, cached, len(rest))
	for j := range rest {
		f, err := factOf(rest[j], nil, v.keys)
		if err != nil {
			return nil, false, err
		}
		facts[int(n)+j] = f
		positions[int(n)+j] = rest[j].Position
	}
	v.cache.putGrown(stream, facts, positions, erased, written)
	total := len(facts)
	return settle(facts[:total:total], positions[:total:total], uint64(total-1)), true, nil
}

// erased reports whether stream's personal data is erased, as the key store
// says; read before decoding, so that facts decoded while an erasure
// happens are cached as not erased and dropped at the next read.
func (v *Views) erased(stream string) bool {
	_, ok := v.keys.Erased(stream)
	return ok
}
