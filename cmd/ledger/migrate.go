package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"

	"github.com/imattertraining/ledger/eventstore"
)

// runMigrate copies the whole ledger from one backend into the other with
// eventstore.Copy, then proves the copy: the target's chains verify and
// every stream ends on the source's last hash, so every hash is the same.
func runMigrate(ctx context.Context, e *env, args []string) (err error) {
	fs := e.newFlags("migrate")
	from := fs.String("from", "", "source store: bolt or kurrentdb")
	to := fs.String("to", "", "target store: bolt or kurrentdb")
	dir := fs.String("data", "./data", "data `directory` of the bolt side")
	url := fs.String("kurrentdb", "", "KurrentDB connection `URL` of the kurrentdb side")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("migrate takes no arguments, got %q", fs.Args())
	}
	if err := checkStoreKind("--from", *from); err != nil {
		return err
	}
	if err := checkStoreKind("--to", *to); err != nil {
		return err
	}
	if *from == *to {
		return usageError("--from and --to must differ (both are %s)", *from)
	}
	if *url == "" {
		return usageError("migrate needs --kurrentdb URL for the kurrentdb side (e.g. esdb://127.0.0.1:2113?tls=false)")
	}

	m := &migration{dir: *dir, stdout: e.stdout, stderr: e.stderr}
	// The source first: a source that cannot be read leaves no empty
	// target behind.
	m.src, err = m.open(ctx, *from, *url, false)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer closeInto(m.src, &err)
	if empty, err := isEmpty(ctx, m.src); err != nil {
		return fmt.Errorf("source: %w", err)
	} else if empty {
		return fmt.Errorf("the source (%s) holds no ledger events: nothing to migrate", m.describe(*from))
	}
	m.dst, err = m.open(ctx, *to, *url, true)
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	defer closeInto(m.dst, &err)
	return m.run(ctx, *from, *to)
}

// migration is one run of ledger migrate.
type migration struct {
	dir            string
	src, dst       eventstore.Store
	stdout, stderr io.Writer
}

// open opens one side. A bolt source must already hold a ledger; a bolt
// target is created when missing. Either must be free of a running server:
// the copy and its checks need the embedded store to themselves.
func (m *migration) open(ctx context.Context, kind, url string, target bool) (eventstore.Store, error) {
	if kind == storeKurrentDB {
		return openKurrentDB(ctx, url)
	}
	if !target {
		if _, err := os.Stat(filepath.Join(m.dir, eventsFile)); err != nil {
			return nil, fmt.Errorf("no ledger in %s (no %s): %w", m.dir, eventsFile, err)
		}
	}
	s, err := openBolt(m.dir, time.Second)
	if errors.Is(err, errServing) {
		return nil, fmt.Errorf("%w: stop it before migrating (the copy and its checks need the store to themselves)", err)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (m *migration) describe(kind string) string {
	if kind == storeBolt {
		return "bolt in " + m.dir
	}
	return "kurrentdb"
}

func (m *migration) run(ctx context.Context, from, to string) error {
	held, err := streamTips(ctx, m.dst)
	if err != nil {
		return fmt.Errorf("reading the target: %w", err)
	}
	before := 0
	for _, t := range held {
		before += int(t.events)
	}
	total, bad, err := checkTarget(ctx, m.src, held)
	if err != nil {
		return fmt.Errorf("reading the source: %w", err)
	}
	if len(bad) > 0 {
		report(m.stderr, bad)
		return &exitError{code: 1, msg: fmt.Sprintf("the target (%s) already holds other events in %d streams; nothing was copied. Migrate into an empty store, or into the one an interrupted run of the same migration filled", m.describe(to), len(bad))}
	}

	pb := progressbar.NewOptions(total-before, progressbar.OptionSetWriter(m.stderr),
		progressbar.OptionSetDescription("migrating"), progressbar.OptionShowCount(),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(m.stderr) }))
	counts := make(map[string]uint64, len(held))
	for stream, t := range held {
		counts[stream] = t.events
	}
	// Resumed: only what the target lacks is copied.
	n, err := eventstore.Copy(ctx, m.src, m.dst, counts, func(n int) { _ = pb.Set(n) })
	_ = pb.Finish()
	switch {
	case errors.Is(err, eventstore.ErrRevisionConflict), errors.Is(err, eventstore.ErrIdempotencyMismatch):
		return fmt.Errorf("the target (%s) holds other events than the source (did something write to either during the migration?): %w", m.describe(to), err)
	case err != nil:
		return fmt.Errorf("migration stopped with %d of %d events in the target: %w; run the same command again to resume (it copies only what is missing)", before+n, total, err)
	}

	rep, err := eventstore.Verify(ctx, m.dst)
	if err != nil {
		return fmt.Errorf("verifying the target stopped after %d events: %w", rep.EventsChecked, err)
	}
	if !rep.OK {
		f := rep.FirstFailure
		return &exitError{code: 1, msg: fmt.Sprintf("the target does not verify: %s in %s at revision %d: %s", f.EventID, f.Stream, f.Revision, f.Reason)}
	}
	srcTips, err := streamTips(ctx, m.src)
	if err != nil {
		return fmt.Errorf("reading the source: %w", err)
	}
	dstTips, err := streamTips(ctx, m.dst)
	if err != nil {
		return fmt.Errorf("reading the target: %w", err)
	}
	if diffs := compareTips(srcTips, dstTips); len(diffs) > 0 {
		report(m.stderr, diffs)
		return &exitError{code: 1, msg: fmt.Sprintf("the target differs from the source in %d streams (did something write to either during the migration?)", len(diffs))}
	}

	fmt.Fprintf(m.stdout, "Migrated %s to %s: %d events in %d streams (%d copied now, %d already there).\n",
		m.describe(from), m.describe(to), rep.EventsChecked, len(dstTips), rep.EventsChecked-before, before)
	fmt.Fprintf(m.stdout, "Target verified: %d events, every hash chain verifies.\n", rep.EventsChecked)
	fmt.Fprintf(m.stdout, "Hashes identical: every stream ends on the source's last hash.\n")
	// The read models' snapshot in the data directory records a position
	// in the store it was built from; positions differ between backends, so
	// a server started on the other store must rebuild instead.
	snap := filepath.Join(m.dir, snapshotFile)
	if err := os.Remove(snap); err == nil {
		fmt.Fprintf(m.stdout, "Removed %s (its positions are the old store's); the next serve rebuilds the read models.\n", snap)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove the stale read-model snapshot: %w", err)
	}
	return nil
}

// closeInto closes s, keeping the first error in *err.
func closeInto(s eventstore.Store, err *error) {
	if cerr := s.Close(); *err == nil {
		*err = cerr
	}
}

// isEmpty reports whether s holds no events.
func isEmpty(ctx context.Context, s eventstore.Store) (bool, error) {
	for _, err := range s.ReadAll(ctx, eventstore.Start) {
		return false, err
	}
	return true, nil
}

// checkTarget reads the source and compares it with what the target
// already holds: each target stream must be absent or a prefix of the
// source's stream (what an earlier or interrupted run of this migration
// copied), or the copy would stop half-way on it or leave the target unlike
// the source. A prefix is recognised by its last hash, which covers every
// event before it. It returns how many events the source holds and what
// differs, by stream.
func checkTarget(ctx context.Context, src eventstore.Store, held map[string]tip) (int, map[string]string, error) {
	total := 0
	have := map[string]uint64{}  // source events per stream
	clash := map[string]string{} // what differs, per stream
	for e, err := range src.ReadAll(ctx, eventstore.Start) {
		if err != nil {
			return total, nil, err
		}
		total++
		have[e.Stream] = e.Revision + 1
		t, ok := held[e.Stream]
		switch {
		case !ok || e.Revision+1 != t.events:
		case t.id != e.ID:
			clash[e.Stream] = fmt.Sprintf("%s: the target holds event %s at revision %d, the source %s", e.Stream, t.id, e.Revision, e.ID)
		case t.last != e.Hash:
			clash[e.Stream] = fmt.Sprintf("%s: the target's history up to event %s (revision %d) differs from the source's: hash %s, not %s", e.Stream, e.ID, e.Revision, t.last, e.Hash)
		}
	}
	for stream, t := range held {
		if _, seen := clash[stream]; !seen && t.events > have[stream] {
			clash[stream] = fmt.Sprintf("%s: the target holds %d events, the source %d", stream, t.events, have[stream])
		}
	}
	return total, clash, nil
}

// tip is the end of one stream.
type tip struct {
	events uint64
	id     uuid.UUID
	last   eventstore.Hash
}

// streamTips returns every stream's event count and last hash.
func streamTips(ctx context.Context, s eventstore.Store) (map[string]tip, error) {
	out := map[string]tip{}
	for e, err := range s.ReadAll(ctx, eventstore.Start) {
		if err != nil {
			return nil, err
		}
		out[e.Stream] = tip{events: e.Revision + 1, id: e.ID, last: e.Hash}
	}
	return out, nil
}

// compareTips says, by stream, how the streams whose ends differ differ.
// With both chains verified, equal ends mean equal hashes throughout: each
// hash covers the one before it.
func compareTips(src, dst map[string]tip) map[string]string {
	diff := map[string]string{}
	for stream, s := range src {
		d, ok := dst[stream]
		switch {
		case !ok:
			diff[stream] = fmt.Sprintf("%s: missing from the target", stream)
		case d.events != s.events:
			diff[stream] = fmt.Sprintf("%s: %d events on the target, %d on the source", stream, d.events, s.events)
		case d.last != s.last:
			diff[stream] = fmt.Sprintf("%s: last hash %s on the target, %s on the source", stream, d.last, s.last)
		}
	}
	for stream := range dst {
		if _, ok := src[stream]; !ok {
			diff[stream] = fmt.Sprintf("%s: on the target only", stream)
		}
	}
	return diff
}

// report writes the first maxReported of problems, by stream, to w.
func report(w io.Writer, problems map[string]string) {
	streams := slices.Sorted(maps.Keys(problems))
	for _, s := range streams[:min(len(streams), maxReported)] {
		fmt.Fprintln(w, problems[s])
	}
	if len(streams) > maxReported {
		fmt.Fprintf(w, "… and %d more streams\n", len(streams)-maxReported)
	}
}
