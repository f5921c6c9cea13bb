package record

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/projections"
)

// Batch stages many facts for `ledger import`: each is checked by the
// Recorder exactly as the API checks it, against the store's history plus
// the facts staged before it, and nothing reaches the store until Commit,
// which is all or nothing only on a store that is an
// eventstore.MultiAppender (see Commit). Not safe for concurrent use.
type Batch struct {
	base    eventstore.Store
	overlay *overlay
	rec     *Recorder
	// practitioners are the practitioner streams of base, read once by
	// the first organisation decision that needs its members.
	practitioners []string
	scanned       bool
}

// NewBatch returns an empty batch over store with now as its clock.
func NewBatch(store eventstore.Store, now func() time.Time) *Batch {
	if now == nil {
		now = time.Now
	}
	o := &overlay{base: store, now: now, staged: map[string]*staged{}}
	b := &Batch{base: store, overlay: o, rec: NewRecorder(o, projections.NewViews(o), now)}
	b.rec.members = b.members
	return b
}

// members finds the practitioners, in the store or staged before, whose
// streams name org in a PractitionerJoinedOrganisation: an organisation's
// decision in an import (a school-held licence needs the commitment of a
// member's senior leadership) sees its members as the server's does, and
// the rules judge whether each is still in it. The store's practitioner
// streams are read once, on the first such decision.
func (b *Batch) members(ctx context.Context, org uuid.UUID) ([]uuid.UUID, error) {
	if !b.scanned {
		seen := map[string]bool{}
		for e, err := range b.base.ReadAll(ctx, eventstore.Start) {
			if err != nil {
				return nil, fmt.Errorf("api: members of organisation %s: %w", org, err)
			}
			if k, _, ok := domain.ParseStream(e.Stream); ok && k == domain.PractitionerStream && !seen[e.Stream] {
				seen[e.Stream] = true
				b.practitioners = append(b.practitioners, e.Stream)
			}
		}
		b.scanned = true
	}
	names := slices.Clone(b.practitioners)
	b.overlay.mu.Lock()
	for _, name := range b.overlay.order {
		if k, _, ok := domain.ParseStream(name); ok && k == domain.PractitionerStream && !slices.Contains(b.practitioners, name) {
			names = append(names, name)
		}
	}
	b.overlay.mu.Unlock()
	want := []byte(org.String())
	var ids []uuid.UUID
	for _, name := range names {
		events, err := b.overlay.ReadStream(ctx, name, eventstore.ReadOptions{})
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("api: members of organisation %s: %w", org, err)
		}
		for _, e := range events {
			if e.Type == domain.TypePractitionerJoinedOrganisation && bytes.Contains(e.Data, want) {
				_, id, _ := domain.ParseStream(name)
				ids = append(ids, id)
				break
			}
		}
	}
	return ids, nil
}

// Recorder returns the recorder that stages into the batch.
func (b *Batch) Recorder() *Recorder { return b.rec }

// Len returns how many events are staged.
func (b *Batch) Len() int {
	n := 0
	for _, s := range b.overlay.staged {
		n += len(s.events)
	}
	return n
}

// Commit appends the staged events, one part per stream in the order the
// streams were first written, each conditional on the stream's revision
// when staging began. On a store that can append to several streams in
// one transaction (eventstore.MultiAppender: the embedded store) it is all
// or nothing, even if the process is killed during it. On any other
// (KurrentDB) each stream is one append and a failure stops the commit:
// the streams appended before it stay, and committing the same facts again
// finishes the job (their events are idempotent retries). progress, when
// not nil, gets the running count.
func (b *Batch) Commit(ctx context.Context, progress func(done int)) error {
	parts := make([]eventstore.StreamAppend, 0, len(b.overlay.order))
	for _, name := range b.overlay.order {
		st := b.overlay.staged[name]
		if len(st.events) == 0 {
			continue
		}
		expected := eventstore.NoStream()
		if st.baseExists {
			expected = eventstore.Exact(st.baseRev)
		}
		parts = append(parts, eventstore.StreamAppend{Stream: name, Expected: expected, Events: st.events})
	}
	if _, err := eventstore.AppendAll(ctx, b.base, parts, progress); err != nil {
		return fmt.Errorf("api: commit: %w", err)
	}
	return nil
}

// staged is one stream's events waiting for Commit.
type staged struct {
	baseRev    uint64
	baseExists bool
	events     []eventstore.EventData
	recorded   []eventstore.RecordedEvent
}

// overlay reads streams through to base and keeps appends in memory: the
// Recorder's view of "the history as it will be". It is an
// eventstore.StreamAppender, all the Recorder and the views need.
type overlay struct {
	base   eventstore.StreamReader
	now    func() time.Time
	mu     sync.Mutex
	staged map[string]*staged
	order  []string
}

func (o *overlay) stream(ctx context.Context, name string) (*staged, []eventstore.RecordedEvent, error) {
	base, err := o.base.ReadStream(ctx, name, eventstore.ReadOptions{})
	if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil, nil, err
	}
	st := o.staged[name]
	if st == nil {
		st = &staged{}
		if len(base) > 0 {
			st.baseRev, st.baseExists = base[len(base)-1].Revision, true
		}
		o.staged[name] = st
		o.order = append(o.order, name)
	}
	return st, base, nil
}

func (o *overlay) Append(ctx context.Context, name string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	st, base, err := o.stream(ctx, name)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	all := append(slices.Clone(base), st.recorded...)
	var cur uint64
	exists := len(all) > 0
	if exists {
		cur = all[len(all)-1].Revision
	}
	if !expected.Check(cur, exists) {
		return eventstore.AppendResult{}, &eventstore.RevisionConflictError{Stream: name, Expected: expected, Current: cur, Exists: exists}
	}
	var res eventstore.AppendResult
	for i, e := range events {
		rev := uint64(len(all))
		re := eventstore.RecordedEvent{
			ID: e.ID, Stream: name, Type: e.Type, SchemaVersion: e.SchemaVersion, Revision: rev,
			RecordedAt: o.now().UTC(), OccurredOn: e.OccurredOn, RecordedBy: e.RecordedBy,
			Data: e.Data, Metadata: e.Metadata,
		}
		all = append(all, re)
		st.events = append(st.events, e)
		st.recorded = append(st.recorded, re)
		if i == 0 {
			res.FirstRevision = rev
		}
		res.LastRevision = rev
	}
	return res, nil
}

func (o *overlay) ReadStream(ctx context.Context, name string, opts eventstore.ReadOptions) ([]eventstore.RecordedEvent, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	base, err := o.base.ReadStream(ctx, name, eventstore.ReadOptions{})
	if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil, err
	}
	all := slices.Clone(base)
	if st := o.staged[name]; st != nil {
		all = append(all, st.recorded...)
	}
	out := all[:0]
	for _, e := range all {
		if opts.UpToRevision != nil && e.Revision > *opts.UpToRevision {
			break
		}
		if !opts.KnownAt.IsZero() && e.RecordedAt.After(opts.KnownAt) {
			continue
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, eventstore.ErrStreamNotFound
	}
	return out, nil
}
