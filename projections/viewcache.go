package projections

import (
	"bytes"
	"container/list"
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
)

// DefaultCachedViewBytes bounds the practitioner views a Projector keeps
// rendered (Options.CachedViewBytes): 32 MiB, some 10,000 views of a
// long history, 330 bytes per practitioner at 100,000.
const DefaultCachedViewBytes = 32 << 20

// viewCache keeps practitioner views rendered as JSON with their tags, so
// that asking again for a view nothing has changed since (the current view
// above all: today, as known now) answers without reading the stream or
// folding it. Folding a long history is most of what a view costs: 230
// events are ~1 ms of CPU, a cached view a map lookup.
//
// It is fed by the subscription, not by time: every change the models take
// in for a practitioner (an event in its stream, a change of an
// organisation it names, a re-fold when a date passes) goes through
// models.putPractitioner, which forgets every view of that practitioner.
// A view is only ever kept for the exact as_of and known_at it was
// rendered for, so a new day asks for a new view: nothing is carried past
// a date whose rules may read differently.
//
// A view rendered from the store while the models forgot that practitioner
// could be older than what made them forget it: put refuses it (see
// forgotten). Bounded by the bytes of the views kept, least recently used
// practitioner first out. Safe for concurrent use.
type viewCache struct {
	mu      sync.Mutex
	max     int64
	size    int64
	entries map[uuid.UUID]*list.Element // of *pracViews
	lru     list.List                   // most recently used first

	// gen counts forgets; recent holds the last ones, so that put can
	// tell whether the practitioner it renders was forgotten meanwhile.
	gen    uint64
	recent [512]forgotten
}

type forgotten struct {
	id  uuid.UUID
	gen uint64
}

// viewKey is what a view is rendered for besides the practitioner.
type viewKey struct {
	asOf    day
	knownAt int64 // UnixNano; 0: as known now
}

// pracViews are one practitioner's cached views, at most maxViewsPer.
type pracViews struct {
	id    uuid.UUID
	views []cachedView
	size  int64
}

type cachedView struct {
	key  viewKey
	body []byte
	tag  string
}

// maxViewsPer is how many (as_of, known_at) variants are kept per
// practitioner: today's view and a few past ones a client pages through.
const maxViewsPer = 4

// viewOverhead is what a cached view costs besides its body and tag: the
// map entry, the list element and the slices' headers, roughly.
const viewOverhead = 160

func newViewCache(max int64) *viewCache {
	if max <= 0 {
		return nil
	}
	return &viewCache{max: max, entries: make(map[uuid.UUID]*list.Element)}
}

func (c *viewCache) get(id uuid.UUID, k viewKey) ([]byte, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.entries[id]
	if el == nil {
		return nil, "", false
	}
	pv := el.Value.(*pracViews)
	for _, v := range pv.views {
		if v.key == k {
			c.lru.MoveToFront(el)
			return v.body, v.tag, true
		}
	}
	return nil, "", false
}

// start returns the generation a render begins at, for put.
func (c *viewCache) start() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put keeps a view of id rendered from a read that began at generation
// since, unless id was forgotten after since (or too many forgets happened
// since to tell).
func (c *viewCache) put(id uuid.UUID, k viewKey, body []byte, tag string, since uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen-since >= uint64(len(c.recent)) {
		return
	}
	for g := since + 1; g <= c.gen; g++ {
		if c.recent[g%uint64(len(c.recent))].id == id {
			return
		}
	}
	cost := int64(len(body)+len(tag)) + viewOverhead
	if cost > c.max/8 {
		return // one view must not flush the cache
	}
	el := c.entries[id]
	if el == nil {
		el = c.lru.PushFront(&pracViews{id: id})
		c.entries[id] = el
	} else {
		c.lru.MoveToFront(el)
	}
	pv := el.Value.(*pracViews)
	pv.views = slices.DeleteFunc(pv.views, func(v cachedView) bool {
		if v.key == k {
			c.size -= int64(len(v.body)+len(v.tag)) + viewOverhead
			pv.size -= int64(len(v.body)+len(v.tag)) + viewOverhead
			return true
		}
		return false
	})
	if len(pv.views) == maxViewsPer {
		old := pv.views[len(pv.views)-1]
		c.size -= int64(len(old.body)+len(old.tag)) + viewOverhead
		pv.size -= int64(len(old.body)+len(old.tag)) + viewOverhead
		pv.views = pv.views[:len(pv.views)-1]
	}
	pv.views = slices.Insert(pv.views, 0, cachedView{key: k, body: body, tag: tag})
	pv.size += cost
	c.size += cost
	for c.size > c.max {
		last := c.lru.Back()
		c.drop(last.Value.(*pracViews))
	}
}

// forget drops every view of id.
func (c *viewCache) forget(id uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.recent[c.gen%uint64(len(c.recent))] = forgotten{id: id, gen: c.gen}
	if el := c.entries[id]; el != nil {
		c.drop(el.Value.(*pracViews))
	}
}

func (c *viewCache) drop(pv *pracViews) {
	c.lru.Remove(c.entries[pv.id])
	delete(c.entries, pv.id)
	c.size -= pv.size
}

// bytes returns the bytes the cache accounts for.
func (c *viewCache) bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

// viewCache returns m's cache of rendered views, made on first use.
func (m *models) viewCache(max int64) *viewCache {
	if vc := m.views.Load(); vc != nil {
		return vc
	}
	m.views.CompareAndSwap(nil, newViewCache(max))
	return m.views.Load()
}

// forgetView drops the cached views of practitioner id; models call it on
// every change they take in for id.
func (m *models) forgetView(id uuid.UUID) {
	if vc := m.views.Load(); vc != nil {
		vc.forget(id)
	}
}

// covers reports whether a change to any of orgs re-folds practitioner id
// in m (so forgets its views): each is among the organisations its history
// names as m holds it.
func (m *models) covers(id uuid.UUID, orgs []uuid.UUID) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := m.practitioners[id]
	if s == nil {
		return false
	}
	for _, o := range orgs {
		if !slices.Contains(s.Refs, o) {
			return false
		}
	}
	return true
}

// PractitionerJSON is Practitioner rendered as the API sends it (JSON, no
// HTML escaping, a final newline), with the view's Tag. A view asked for
// again, with nothing changed for that practitioner since, is answered
// from the cache of rendered views without reading the stream; a view is
// only answered from the cache while the models are ready and include the
// event at position fresh (the caller's latest append, so that it reads
// its own writes), else it is folded from the store.
func (p *Projector) PractitionerJSON(ctx context.Context, id uuid.UUID, asOf domain.Date, knownAt time.Time, fresh eventstore.Position) ([]byte, string, error) {
	var vc *viewCache
	m := p.cur.Load()
	if m != nil && p.opts.CachedViewBytes > 0 && p.Checkpoint() >= fresh && p.Ready() == nil {
		vc = m.viewCache(p.opts.CachedViewBytes)
	}
	k := viewKey{asOf: dayOf(asOf)}
	if !knownAt.IsZero() {
		k.knownAt = knownAt.UnixNano()
	}
	var since uint64
	if vc != nil {
		if body, tag, ok := vc.get(id, k); ok {
			return body, tag, nil
		}
		since = vc.start()
	}
	view, err := p.Practitioner(ctx, id, asOf, knownAt)
	if err != nil {
		return nil, "", err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(view); err != nil {
		return nil, "", err
	}
	body := bytes.Clone(buf.Bytes())
	if vc != nil && m.covers(id, view.orgs) {
		vc.put(id, k, body, view.tag, since)
	}
	return body, view.tag, nil
}
