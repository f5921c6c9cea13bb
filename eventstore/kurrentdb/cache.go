package kurrentdb

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/eventstore"
)

// summary is what an append needs to know about an event already in its
// stream: its ID and content digest (for idempotent retries), its recorded
// time (to keep a stream's times non-decreasing), its hash (to chain the next
// event) and its position (to answer a retry with the original result).
type summary struct {
	id         uuid.UUID
	digest     [sha256.Size]byte
	recordedAt time.Time
	position   eventstore.Position
	hash       eventstore.Hash
}

// streamState is the adapter's view of one stream: a summary per revision,
// from 0 up to the last one it has read. It only ever grows, because the
// ledger's streams are append-only; every append first reads whatever other
// writers added since (see Store.refresh) and is then conditional on the
// exact revision it saw, so a stale view can cost a retry but never a fork.
type streamState struct {
	// mu is held for a whole append, so that appends to one stream from this
	// process take turns instead of conflicting with each other.
	mu     sync.Mutex
	events []summary
	byID   map[uuid.UUID]uint64
}

// tip returns the stream's last revision and whether it has any event.
func (st *streamState) tip() (uint64, bool) {
	if len(st.events) == 0 {
		return 0, false
	}
	return uint64(len(st.events) - 1), true
}

func (st *streamState) add(s summary) {
	if st.byID == nil {
		st.byID = make(map[uuid.UUID]uint64)
	}
	st.byID[s.id] = uint64(len(st.events))
	st.events = append(st.events, s)
}

// streamCache holds streamStates for recently appended streams, bounded by
// their total number of events. Evicting a state only costs the next append
// to that stream a full read of it.
type streamCache struct {
	mu      sync.Mutex
	limit   int
	total   int
	streams map[string]*streamState
	sizes   map[string]int
}

func (c *streamCache) init(limit int) {
	c.limit = limit
	c.streams = make(map[string]*streamState)
	c.sizes = make(map[string]int)
}

// get returns the state of the server stream name, creating it if needed.
func (c *streamCache) get(name string) *streamState {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.streams[name]
	if !ok {
		st = &streamState{}
		c.streams[name] = st
	}
	return st
}

// resized records that name's state now holds n events, and evicts other
// streams while the cache is over its limit. Map iteration order makes the
// victims random, which is good enough and needs no bookkeeping.
func (c *streamCache) resized(name string, st *streamState, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.streams[name] != st {
		return // evicted meanwhile
	}
	c.total += n - c.sizes[name]
	c.sizes[name] = n
	for victim := range c.streams {
		if c.total <= c.limit {
			break
		}
		if victim == name {
			continue
		}
		c.total -= c.sizes[victim]
		delete(c.sizes, victim)
		delete(c.streams, victim)
	}
}
