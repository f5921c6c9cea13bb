package projections

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/keystore"
)

// Rebuild builds the models afresh from the whole store beside the served
// ones, which keep answering meanwhile; catches the new models up with the
// served ones' checkpoint; then swaps them in at once, so no query ever sees
// half-built models. It then writes a snapshot. progress, when not nil, is
// called as events are read (total 0: not yet known) and as they are folded
// (total: every event read), never by two goroutines at once.
func (p *Projector) Rebuild(ctx context.Context, progress func(done, total uint64)) error {
	if progress == nil {
		progress = func(uint64, uint64) {}
	}
	// Workers report as they go; the caller sees one call at a time.
	var progressMu sync.Mutex
	report := progress
	progress = func(done, total uint64) {
		progressMu.Lock()
		defer progressMu.Unlock()
		report(done, total)
	}
	today := p.opts.Today()
	m, err := p.build(ctx, today, progress)
	if err != nil {
		return err
	}
	// Catch up without holding up the served models, until close behind...
	for {
		old := p.cur.Load()
		if old == nil || m.pos >= p.Checkpoint() {
			break
		}
		before := m.pos
		if err := p.catchUp(ctx, m, p.Checkpoint()); err != nil {
			return err
		}
		if m.pos == before {
			break
		}
	}
	// ...then finish under the writers' lock and swap.
	p.applyMu.Lock()
	defer p.applyMu.Unlock()
	if old := p.cur.Load(); old != nil {
		old.mu.RLock()
		pos, date := old.pos, old.date
		old.mu.RUnlock()
		if err := p.catchUp(ctx, m, pos); err != nil {
			return err
		}
		if date > m.date {
			if err := p.advanceLocked(ctx, m, date); err != nil {
				return err
			}
		}
	}
	p.cur.Store(m)
	p.bumpSeen(m.pos)
	p.moved()
	p.sinceSnap.Store(1)
	if p.opts.SnapshotPath != "" {
		return p.snapshotLocked()
	}
	return nil
}

// catchUp folds into m every event after m's checkpoint up to and including
// upTo, in batches.
func (p *Projector) catchUp(ctx context.Context, m *models, upTo eventstore.Position) error {
	batch := make([]eventstore.RecordedEvent, 0, 4096)
	var sc foldScratch // this goroutine's: the first catch-up runs beside applyBatch
	for e, err := range p.store.ReadAll(ctx, m.pos) {
		if err != nil {
			return fmt.Errorf("projections: catch up: %w", err)
		}
		if e.Position > upTo {
			break
		}
		batch = append(batch, e)
		if len(batch) == cap(batch) {
			if _, err := p.applyTo(ctx, m, batch, &sc); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		if _, err := p.applyTo(ctx, m, batch, &sc); err != nil {
			return err
		}
	}
	return nil
}

// build reads the whole store once and folds it into fresh models, in four
// phases: read and decode the store (readStore), group the decoded facts
// by stream (gather), fold the organisations (foldOrganisations), then
// fold the practitioners, who are evaluated against the organisations,
// into the models (foldPractitioners). Decoding is the cost, so it runs
// in parallel with the read, and each fold runs on the workers.
func (p *Projector) build(ctx context.Context, today domain.Date, progress func(done, total uint64)) (*models, error) {
	rd, err := p.readStore(ctx, progress)
	if err != nil {
		return nil, err
	}
	n := rd.gather()
	var done atomic.Uint64
	report := func(k int) {
		if d := done.Add(uint64(k)); d%65536 < uint64(k) || d == n {
			progress(d, n)
		}
	}
	orgOuts, err := p.foldOrganisations(ctx, rd.orgStreams, report)
	if err != nil {
		return nil, err
	}
	m := newModels()
	m.date, m.pos = dayOf(today), rd.pos
	if err := p.foldPractitioners(ctx, m, orgOuts, rd, today, report); err != nil {
		return nil, err
	}
	return m, nil
}

// streamGroup is one stream's share of the store: the reader counts its
// events and names each event's group, so that grouping the decoded facts
// afterwards needs no map lookup and no copy of the events.
type streamGroup struct {
	stream    string
	n         int
	facts     []domain.Fact
	positions []eventstore.Position
	revision  uint64
	// chunk and start locate the group's events when they lie together
	// in one chunk (apart: -1), as an import's do: then the group's facts
	// are that chunk's, not a copy.
	chunk, start int
}

// readChunk is a run of the store's events, read in order and decoded by
// one worker.
type readChunk struct {
	events    []eventstore.RecordedEvent // dropped once decoded
	positions []eventstore.Position
	groups    []*streamGroup // nil: a stream of no ledger shape, never decoded
	facts     []domain.Fact
	decisions int // how many of facts are decisions
	err       error
}

const readChunkSize = 1024

// storeRead is the store as read and decoded by build's first phase.
type storeRead struct {
	chunks                  []*readChunk
	orgStreams, pracStreams []*streamGroup // in order of their first event
	decisions               int
	pos                     eventstore.Position // of the last event read
}

// readStore reads the whole store into chunks, handing each to the
// decoding workers as soon as it is full.
func (p *Projector) readStore(ctx context.Context, progress func(done, total uint64)) (*storeRead, error) {
	work := make(chan *readChunk, 4*p.opts.Workers)
	free := make(chan []eventstore.RecordedEvent, 4*p.opts.Workers+2) // decoded chunks' buffers
	var decoded atomic.Uint64
	var wg sync.WaitGroup
	for range p.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dates := make(dateCache)
			for c := range work {
				c.decode(dates, p.keys)
				if d := decoded.Add(uint64(len(c.events))); d%(64*readChunkSize) < readChunkSize {
					progress(d, 0)
				}
				// The payloads are decoded: hand the buffer back to the
				// reader rather than hold the whole store until the fold.
				select {
				case free <- c.events[:0]:
				default:
				}
				c.events = nil
			}
		}()
	}
	rd := &storeRead{}
	readErr := rd.read(ctx, p.store, work, free)
	close(work)
	wg.Wait()
	if readErr != nil {
		return nil, readErr
	}
	for _, c := range rd.chunks {
		if c.err != nil {
			return nil, fmt.Errorf("projections: rebuild: %w", c.err)
		}
		rd.decisions += c.decisions
	}
	return rd, nil
}

// decode decodes the chunk's events of the ledger's streams.
func (c *readChunk) decode(dates dateCache, keys *keystore.Keys) {
	c.facts = make([]domain.Fact, len(c.events))
	c.positions = make([]eventstore.Position, len(c.events))
	for i := range c.events {
		c.positions[i] = c.events[i].Position
		if c.groups[i] == nil {
			continue
		}
		f, err := factOf(c.events[i], dates, keys)
		if err != nil {
			c.err = err
			return
		}
		c.facts[i] = f
		if _, ok := domain.DecisionOf(f.Event); ok {
			c.decisions++
		}
	}
}

// read reads the store in order, naming each event's stream group, and
// sends every full chunk to work; buffers come back on free.
func (rd *storeRead) read(ctx context.Context, store eventstore.Store, work chan<- *readChunk, free <-chan []eventstore.RecordedEvent) error {
	streams := make(map[string]*streamGroup)
	newChunk := func() *readChunk {
		c := &readChunk{groups: make([]*streamGroup, 0, readChunkSize)}
		select {
		case c.events = <-free:
		default:
			c.events = make([]eventstore.RecordedEvent, 0, readChunkSize)
		}
		return c
	}
	cur := newChunk()
	var readErr error
	var last *streamGroup
	for e, err := range store.ReadAll(ctx, eventstore.Start) {
		if err != nil {
			readErr = fmt.Errorf("projections: rebuild: %w", err)
			break
		}
		// A stream's events usually lie together (an import appends many
		// at once), so the last group is tried before the map.
		g := last
		if g == nil || g.stream != e.Stream {
			g = streams[e.Stream]
		}
		if g == nil {
			g = &streamGroup{stream: e.Stream, chunk: len(rd.chunks), start: len(cur.events)}
			switch kind, _, ok := streamKind(e.Stream); {
			case !ok:
				g = nil // not the ledger's: never decoded, never folded
			case kind == 'o':
				rd.orgStreams = append(rd.orgStreams, g)
			default:
				rd.pracStreams = append(rd.pracStreams, g)
			}
			streams[e.Stream] = g
		}
		if g != nil {
			if g.chunk >= 0 && (g.chunk != len(rd.chunks) || g.start+g.n != len(cur.events)) {
				g.chunk = -1
			}
			g.n++
			g.revision = e.Revision
		}
		last = g
		cur.events = append(cur.events, e)
		cur.groups = append(cur.groups, g)
		rd.pos = e.Position
		if len(cur.events) == readChunkSize {
			rd.chunks = append(rd.chunks, cur)
			work <- cur
			cur = newChunk()
		}
	}
	if len(cur.events) > 0 {
		rd.chunks = append(rd.chunks, cur)
		work <- cur
	}
	return readErr
}

// gather gives each stream group its facts and positions, then lets the
// chunks go, and returns how many events the groups hold. A stream whose
// events lie together in one chunk keeps that chunk's facts (capped, so
// nothing appends into its neighbours'); the others are gathered in order.
func (rd *storeRead) gather() uint64 {
	var n uint64
	for _, gs := range [2][]*streamGroup{rd.orgStreams, rd.pracStreams} {
		for _, g := range gs {
			n += uint64(g.n)
			if g.chunk < 0 {
				g.facts = make([]domain.Fact, 0, g.n)
				g.positions = make([]eventstore.Position, 0, g.n)
				continue
			}
			c, i, j := rd.chunks[g.chunk], g.start, g.start+g.n
			g.facts, g.positions = c.facts[i:j:j], c.positions[i:j:j]
		}
	}
	for _, c := range rd.chunks {
		for i, g := range c.groups {
			if g == nil || g.chunk >= 0 {
				continue
			}
			g.facts = append(g.facts, c.facts[i])
			g.positions = append(g.positions, c.positions[i])
		}
	}
	rd.chunks = nil
	return n
}

// orgOut is one organisation folded by a rebuild.
type orgOut struct {
	o  *domain.Organisation
	ds []decisionRec
	rs []reviewRec
}

// foldOrganisations folds the organisations' streams on the workers.
func (p *Projector) foldOrganisations(ctx context.Context, streams []*streamGroup, report func(int)) ([]orgOut, error) {
	outs := make([]orgOut, len(streams))
	err := p.parallel(ctx, len(streams), func(i int) error {
		g := streams[i]
		_, id, _ := streamKind(g.stream)
		o, ds, rs, err := p.rules.organisation(id, settle(g.facts, g.positions, g.revision))
		if err != nil {
			return err
		}
		outs[i] = orgOut{o, ds, rs}
		report(g.n)
		*g = streamGroup{}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return outs, nil
}

// foldPractitioners fills m with the organisations and the practitioners
// as they are folded: the fold runs in blocks on the workers, and this
// goroutine merges each block once folded, in stream order, while the
// workers go on with the next ones. The maps are sized up front (growing
// maps of 100,000 entries costs more than filling them) and the id order
// is sorted meanwhile.
func (p *Projector) foldPractitioners(ctx context.Context, m *models, orgOuts []orgOut, rd *storeRead, today domain.Date, report func(int)) error {
	orgs := make(domain.OrganisationSet, len(orgOuts))
	for _, r := range orgOuts {
		orgs[r.o.ID] = r.o
	}
	pracStreams := rd.pracStreams
	m.orgs = orgs
	m.practitioners = make(map[uuid.UUID]*summary, len(pracStreams))
	m.decisions = make(map[uuid.UUID]*decisionRec, rd.decisions)
	m.order = make([]uuid.UUID, len(pracStreams))
	for i, g := range pracStreams {
		_, m.order[i], _ = streamKind(g.stream)
	}
	sorted := make(chan struct{})
	go func() {
		slices.SortFunc(m.order, lessID)
		close(sorted)
	}()
	defer func() { <-sorted }()
	for _, r := range orgOuts {
		m.putStreamRecords(OrganisationStream(r.o.ID), r.ds, r.rs)
	}

	const block = 128
	pracOuts := make([]pracResult, len(pracStreams))
	blocks := make([]chan struct{}, (len(pracStreams)+block-1)/block)
	for b := range blocks {
		blocks[b] = make(chan struct{})
	}
	folded := make(chan struct{})
	var err error
	go func() {
		defer close(folded)
		err = p.parallel(ctx, len(blocks), func(b int) error {
			var sc foldScratch
			for i := b * block; i < min((b+1)*block, len(pracStreams)); i++ {
				g := pracStreams[i]
				_, id, _ := streamKind(g.stream)
				s, ds, rs, err := p.rules.practitioner(&sc, id, g.stream, settle(g.facts, g.positions, g.revision), orgs, today)
				if err != nil {
					return err
				}
				pracOuts[i] = pracResult{g.stream, s, ds, rs}
				report(g.n)
				*g = streamGroup{} // done with: let the collector have it
			}
			close(blocks[b])
			return nil
		})
	}()
	for b, ready := range blocks {
		select {
		case <-ready:
		case <-folded:
			select {
			case <-ready:
			default: // the fold stopped short
				return err
			}
		}
		for i := b * block; i < min((b+1)*block, len(pracOuts)); i++ {
			r := &pracOuts[i]
			m.practitioners[r.s.ID] = r.s
			m.index(r.s)
			if len(r.ds)+len(r.rs) > 0 {
				m.putStreamRecords(r.stream, r.ds, r.rs)
			}
			*r = pracResult{}
		}
	}
	<-folded
	return err
}

// parallel runs fn(0..n-1) on the configured number of workers and returns
// the first error.
func (p *Projector) parallel(ctx context.Context, n int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	workers := min(p.opts.Workers, max(n, 1))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// advance moves the served models' date to today when today is later,
// re-folding only the practitioners whose NextChange has come.
func (p *Projector) advance(ctx context.Context, m *models, today day) error {
	m.mu.RLock()
	current := m.date
	m.mu.RUnlock()
	if today <= current {
		return nil
	}
	p.applyMu.Lock()
	defer p.applyMu.Unlock()
	return p.advanceLocked(ctx, m, today)
}

// advanceLocked is advance for callers holding applyMu.
func (p *Projector) advanceLocked(ctx context.Context, m *models, today day) error {
	if today <= m.date {
		return nil
	}
	var ids []uuid.UUID
	m.mu.RLock()
	for d, b := range m.due {
		if d <= today {
			for id := range b {
				ids = append(ids, id)
			}
		}
	}
	m.mu.RUnlock()
	res, err := p.practitioners(ctx, ids, m.orgs, today.date())
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range res {
		m.putPractitioner(r.s)
		m.putStreamRecords(r.stream, r.ds, r.rs)
	}
	m.date = today
	return nil
}
