package projections

import (
	"bufio"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/eventstore"
)

// projectionVersion names what the models hold and how they are computed.
// Change it whenever either changes: a snapshot of another version is never
// loaded, so the next start rebuilds.
// 3: rulebook v1.1 reviewed (a school's licence counts only while it is a
// registered service), with the version string unchanged. 4: an exception
// reinstatement restores a withdrawn role or a revoked licence.
const projectionVersion = "projections/4"

// snapshotFormat is the layout of the snapshot file itself.
const snapshotFormat = 1

// errNoSnapshot is returned by loadSnapshot when there is no snapshot file.
var errNoSnapshot = errors.New("projections: no snapshot")

// snapshotData is the snapshot file's content: the models' records and the
// checkpoint they include, with the versions they were computed under.
// Indexes are derived on load.
type snapshotData struct {
	Format        int
	Projection    string
	Rulebook      string
	Position      eventstore.Position
	Date          day
	Practitioners []summary
	// Orgs are the organisations' ids only: they are few and their folded
	// state is the domain's, so a load re-folds them from the store.
	Orgs      []uuid.UUID
	Decisions []decisionRec
	Reviews   []reviewRec
}

// Snapshot writes the served models and their checkpoint to the snapshot
// file atomically (a temporary file, fsynced, renamed over the old one, and
// the directory fsynced), so a crash leaves the old snapshot or the new one,
// never half of either. Without a SnapshotPath it does nothing.
func (p *Projector) Snapshot() error {
	if p.opts.SnapshotPath == "" {
		return nil
	}
	p.applyMu.Lock()
	defer p.applyMu.Unlock()
	return p.snapshotLocked()
}

func (p *Projector) snapshotIfDirty() error {
	p.applyMu.Lock()
	defer p.applyMu.Unlock()
	if p.sinceSnap.Load() == 0 || p.opts.SnapshotPath == "" {
		return nil
	}
	return p.snapshotLocked()
}

// snapshotLocked writes the snapshot; callers hold applyMu, so the models
// cannot move while they are copied out.
func (p *Projector) snapshotLocked() error {
	m := p.cur.Load()
	if m == nil {
		return nil
	}
	m.mu.RLock()
	data := m.export(p.rules.version)
	m.mu.RUnlock()
	if err := writeSnapshot(p.opts.SnapshotPath, data); err != nil {
		return err
	}
	p.sinceSnap.Store(0)
	return nil
}

// export copies m's records out; callers hold m.mu.
func (m *models) export(rulebook string) *snapshotData {
	d := &snapshotData{
		Format: snapshotFormat, Projection: projectionVersion, Rulebook: rulebook,
		Position: m.pos, Date: m.date,
		Practitioners: make([]summary, 0, len(m.order)),
		Orgs:          make([]uuid.UUID, 0, len(m.orgs)),
		Decisions:     make([]decisionRec, 0, len(m.decisions)),
	}
	for _, id := range m.order {
		d.Practitioners = append(d.Practitioners, *m.practitioners[id])
	}
	for id := range m.orgs {
		d.Orgs = append(d.Orgs, id)
	}
	for _, dec := range m.decisions {
		d.Decisions = append(d.Decisions, *dec)
	}
	for _, rs := range m.reviews {
		d.Reviews = append(d.Reviews, rs...)
	}
	return d
}

func writeSnapshot(path string, data *snapshotData) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("projections: snapshot: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	if err = gob.NewEncoder(w).Encode(data); err != nil {
		return fmt.Errorf("projections: snapshot: encode: %w", err)
	}
	if err = w.Flush(); err != nil {
		return fmt.Errorf("projections: snapshot: write: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("projections: snapshot: fsync: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("projections: snapshot: close: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("projections: snapshot: rename: %w", err)
	}
	// The rename is durable only once the directory entry is.
	if d, derr := os.Open(dir); derr == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("projections: snapshot: fsync directory: %w", err)
		}
	}
	return nil
}

// loadSnapshot reads a snapshot, re-folds its organisations from the store
// and derives the models' indexes. A snapshot of another format, projection
// or rulebook version is refused.
func loadSnapshot(ctx context.Context, store eventstore.Store, r *rules, path string) (*models, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoSnapshot
	}
	if err != nil {
		return nil, fmt.Errorf("projections: snapshot: %w", err)
	}
	defer f.Close()
	var d snapshotData
	if err := gob.NewDecoder(bufio.NewReaderSize(f, 1<<20)).Decode(&d); err != nil {
		return nil, fmt.Errorf("projections: snapshot %s: decode: %w", path, err)
	}
	if d.Format != snapshotFormat || d.Projection != projectionVersion || d.Rulebook != r.version {
		return nil, fmt.Errorf("projections: snapshot %s is of format %d, %s, rulebook %s; want %d, %s, rulebook %s",
			path, d.Format, d.Projection, d.Rulebook, snapshotFormat, projectionVersion, r.version)
	}
	m := newModels()
	m.pos, m.date = d.Position, d.Date
	m.order = make([]uuid.UUID, 0, len(d.Practitioners))
	for i := range d.Practitioners {
		s := &d.Practitioners[i]
		m.practitioners[s.ID] = s
		m.order = append(m.order, s.ID)
		m.index(s)
	}
	slices.SortFunc(m.order, lessID)
	for _, id := range d.Orgs {
		events, err := store.ReadStream(ctx, OrganisationStream(id), eventstore.ReadOptions{})
		if err != nil {
			return nil, fmt.Errorf("projections: snapshot: read organisation %s: %w", id, err)
		}
		sf, err := decodeStream(events, nil) // organisations: no personal data
		if err != nil {
			return nil, fmt.Errorf("projections: snapshot: %s: %w", OrganisationStream(id), err)
		}
		if m.orgs[id], _, _, err = r.organisation(id, sf); err != nil {
			return nil, err
		}
	}
	byStream := make(map[string][]decisionRec)
	for _, dec := range d.Decisions {
		byStream[dec.Stream] = append(byStream[dec.Stream], dec)
	}
	revs := make(map[string][]reviewRec)
	for _, r := range d.Reviews {
		revs[r.Stream] = append(revs[r.Stream], r)
	}
	for stream, ds := range byStream {
		m.putStreamRecords(stream, ds, revs[stream])
		delete(revs, stream)
	}
	for stream, rs := range revs {
		m.putStreamRecords(stream, nil, rs)
	}
	return m, nil
}
