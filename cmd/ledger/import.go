package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"

	"github.com/imattertraining/ledger/api"
	"github.com/imattertraining/ledger/api/auth"
	"github.com/imattertraining/ledger/api/record"
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/checkpoint"
	"github.com/imattertraining/ledger/eventstore/export"
	"github.com/imattertraining/ledger/eventstore/keystore"
)

// CSV import: one row per fact, with a header row naming the columns:
//
//	stream       practitioner-<uuid> or organisation-<uuid> (required)
//	type         the event type, e.g. CourseCompleted (required)
//	occurred_on  YYYY-MM-DD (required)
//	data         the event's data as a JSON object (required)
//	id           the event's id, a UUID (optional)
//
// A row without an id gets one derived from its content, so that running
// the same import again stores nothing twice.
var csvColumns = []string{"stream", "type", "occurred_on", "data", "id"}

// importNamespace derives the ids of CSV rows that name none.
var importNamespace = uuid.MustParse("3c9d0a41-7e25-4b8f-a6d3-1f5e2c7b9a80")

// maxReported bounds the row errors listed before giving up.
const maxReported = 20

func runImport(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("import")
	sf := addStoreFlags(fs)
	format := fs.String("format", "", "csv or jsonl (default: from the file's extension)")
	by := fs.String("recorded-by", "import", "principal `name` recorded on CSV rows, and on JSON lines imported as new facts")
	cpFile := fs.String("checkpoint", "", "with --format jsonl: a checkpoint `FILE` signed by the source ledger that covers the file, to restore it with its recorded times into a store that holds other history")
	keyFile := fs.String("key", "", "with --checkpoint: the source ledger's public key `FILE`, as its `ledger key show` printed it")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*cpFile == "") != (*keyFile == "") {
		return usageError("--checkpoint and --key go together: the checkpoint, and the public key of the ledger that signed it")
	}
	if fs.NArg() != 1 {
		return usageError("import needs one FILE (CSV or JSON lines)")
	}
	if err := sf.check(); err != nil {
		return err
	}
	path := fs.Arg(0)
	if *format == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".jsonl", ".ndjson":
			*format = "jsonl"
		default:
			*format = "csv"
		}
	}
	if *format != "csv" && *format != "jsonl" {
		return usageError("--format must be csv or jsonl, not %q", *format)
	}
	if *cpFile != "" && *format != "jsonl" {
		return usageError("--checkpoint vouches for exported history: it goes with --format jsonl")
	}
	var vouch *checkpoint.Checkpoint
	if *cpFile != "" {
		var err error
		if vouch, err = openCheckpoint(*cpFile, *keyFile); err != nil {
			return err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	store, err := openImportTarget(ctx, sf)
	if err != nil {
		return err
	}
	defer store.Close()
	keys, err := keystore.Open(sf.data)
	if err != nil {
		return err
	}
	defer keys.Close()
	bar := func(total int, what string) *progressbar.ProgressBar {
		return progressbar.NewOptions(total, progressbar.OptionSetWriter(e.stderr),
			progressbar.OptionSetDescription(what), progressbar.OptionShowCount(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(e.stderr) }))
	}
	var n int
	switch *format {
	case "csv":
		n, err = importCSV(ctx, store, keys, f, api.Principal{Name: *by, Role: api.RoleAdmin}, time.Now, e.stderr, bar)
	case "jsonl":
		n, err = importJSONL(ctx, store, keys, f, vouch, api.Principal{Name: *by, Role: api.RoleAdmin}, time.Now, e.stderr, bar)
	}
	if err != nil {
		return err
	}
	// The names the imported events were recorded by are never given to a
	// token. Without a token file, the first serve reserves them, as it
	// makes the first admin token (--bootstrap-admin).
	if tokens := auth.Open(sf.data); sf.data != "" && tokens.Exists() {
		if err := reserveRecordedBy(ctx, store, tokens); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stderr, "Imported %d events from %s.\n", n, path)
	return nil
}

// openCheckpoint reads a checkpoint file and checks its signature with the
// public key in keyFile.
func openCheckpoint(file, keyFile string) (*checkpoint.Checkpoint, error) {
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	pub, err := checkpoint.ParsePublicKey(kb)
	if err != nil {
		return nil, fmt.Errorf("--key %s: %w", keyFile, err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	c, err := checkpoint.Open(b, pub)
	if err != nil {
		return nil, fmt.Errorf("--checkpoint %s: %w", file, err)
	}
	return c, nil
}

// openImportTarget opens the store an import writes to. The embedded store
// is held exclusively, so the checks made before appending still hold when
// the import appends. KurrentDB cannot be held: a server writing to a stream
// of the file meanwhile makes that stream's append fail with a conflict,
// after other streams may have been stored; running the import again
// stores nothing twice.
func openImportTarget(ctx context.Context, sf *storeFlags) (eventstore.Store, error) {
	if sf.store == storeKurrentDB {
		return openKurrentDB(ctx, sf.kurrentdb)
	}
	store, err := openBolt(sf.data, time.Second)
	if errors.Is(err, errServing) {
		return nil, fmt.Errorf("%w: stop it before importing (an import is all or nothing, which needs the store to itself)", err)
	}
	if err != nil {
		return nil, err
	}
	return store, nil
}

// rowError is one rejected row.
type rowError struct {
	line int
	err  error
}

// importCSV validates every row first, against the store's history and the
// rows before it, exactly as the API would; reports every bad row with its
// line number; and appends only when all are good. It returns how many
// events were stored (rows already stored by an earlier run count as none).
func importCSV(ctx context.Context, store eventstore.Store, keys *keystore.Keys, r io.Reader, by api.Principal, now func() time.Time, report io.Writer, bar func(int, string) *progressbar.ProgressBar) (int, error) {
	col, rows, bad, err := readCSV(r)
	if err != nil {
		return 0, err
	}
	batch := record.NewBatch(store, now)
	batch.Recorder().UseKeys(keys) // names and emails are sealed, as the API seals them
	for _, row := range rows {
		if len(bad) >= maxReported {
			break
		}
		if err := stageRow(ctx, batch, by, row.fields, col); err != nil {
			bad = append(bad, rowError{row.line, err})
		}
	}
	return commitBatch(ctx, batch, bad, len(rows), "rows", report, bar)
}

// commitBatch reports the refused rows (or lines) of an import, if any,
// and stores nothing; otherwise it commits batch: on the embedded store
// all at once (see record.Batch.Commit).
func commitBatch(ctx context.Context, batch *record.Batch, bad []rowError, checked int, what string, report io.Writer, bar func(int, string) *progressbar.ProgressBar) (int, error) {
	if len(bad) > 0 {
		slices.SortStableFunc(bad, func(a, b rowError) int { return a.line - b.line })
		for _, b := range bad {
			fmt.Fprintf(report, "line %d: %s\n", b.line, domain.ErrorMessage(b.err))
		}
		return 0, &exitError{code: 1, msg: fmt.Sprintf("%d %s refused; nothing was imported", len(bad), what)}
	}
	total := batch.Len()
	fmt.Fprintf(report, "All %d %s checked: %d events to store.\n", checked, what, total)
	pb := bar(total, "importing")
	err := batch.Commit(ctx, func(done int) { _ = pb.Set(done) })
	_ = pb.Finish()
	return total, err
}

// csvRow is one record of a CSV file and the line it starts on.
type csvRow struct {
	line   int
	fields []string
}

// readCSV reads the header and every record of a CSV import. A header it
// cannot use is an error; a record the CSV reader cannot parse stops the
// reading and is reported in bad with the line of the fault (the reader
// cannot resynchronise after a stray quote).
func readCSV(r io.Reader) (col map[string]int, rows []csvRow, bad []rowError, err error) {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("line 1: a header row is required (%s): %w", strings.Join(csvColumns, ","), err)
	}
	col = map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if !slices.Contains(csvColumns, h) {
			return nil, nil, nil, fmt.Errorf("line 1: unknown column %q; the columns are %s", h, strings.Join(csvColumns, ", "))
		}
		if _, dup := col[h]; dup {
			return nil, nil, nil, fmt.Errorf("line 1: column %q appears twice", h)
		}
		col[h] = i
	}
	for _, need := range csvColumns[:4] {
		if _, ok := col[need]; !ok {
			return nil, nil, nil, fmt.Errorf("line 1: column %q is missing", need)
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return col, rows, bad, nil
		}
		if err != nil {
			// FieldPos may only be asked about a record Read returned
			// without error: after a parse error it panics. The error
			// knows its own line.
			line, what := 0, err
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line, what = pe.Line, fmt.Errorf("column %d: %w", pe.Column, pe.Err)
			}
			err = domain.Errorf(domain.EINVALID, "", "not valid CSV (%v); nothing after it was read", what)
			return col, rows, append(bad, rowError{line, err}), nil
		}
		line, _ := cr.FieldPos(0)
		rows = append(rows, csvRow{line, rec})
	}
}

// stageRow checks one CSV row and stages it in batch.
func stageRow(ctx context.Context, batch *record.Batch, by api.Principal, rec []string, col map[string]int) error {
	cell := func(name string) string {
		i, ok := col[name]
		if !ok || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	stream := cell("stream")
	p := record.Proposal{Type: cell("type"), OccurredOn: cell("occurred_on"), Data: json.RawMessage(cell("data"))}
	if id := cell("id"); id != "" {
		u, err := uuid.Parse(id)
		if err != nil {
			return domain.Errorf(domain.EINVALID, "id", "%q is not a UUID", id)
		}
		p.ID = u
	} else {
		p.ID = uuid.NewSHA1(importNamespace, []byte(strings.Join([]string{stream, p.Type, p.OccurredOn, string(p.Data)}, "\x00")))
	}
	rec2 := batch.Recorder()
	var err error
	if p.Type == domain.TypePractitionerRegistered || p.Type == domain.TypeOrganisationRegistered {
		_, err = rec2.Open(ctx, by, stream, p)
	} else {
		_, err = rec2.Record(ctx, by, stream, p)
	}
	return err
}

// importJSONL reads `ledger export` output. It checks every line first
// (it parses, its data decodes, and every chain of the file verifies) and
// stores nothing unless all do. Then:
//
//   - into a store that holds nothing but part of the file's own history
//     (an empty store, or an earlier run of the same restore), and only if
//     every event still to copy was recorded after everything the store
//     holds, the file is a restore or a migration: its events are copied
//     byte for byte with their ids, recorded times and recorders, so the
//     copy's hash chains are the original's;
//   - into any other store, the file's events are new facts: each goes
//     through the same checks as the API's (an event already in its stream,
//     by id, is left out), recorded now by the importer, with its id kept
//     so that running the import again stores nothing twice. Copying its
//     recorded times into a ledger with a life of its own would let the
//     file say what that ledger knew, and when;
//   - unless vouch, a checkpoint signed by the source ledger (its
//     signature already checked), covers the file: every stream of the
//     file whole, ending at the checkpoint's head for it with the hash it
//     signed. The file is then restored with its recorded times into any
//     store whose streams of the file are absent or hold a prefix of them;
//     a file it does not cover is refused.
//
// On the embedded store each is one transaction.
func importJSONL(ctx context.Context, store eventstore.Store, keys *keystore.Keys, r io.Reader, vouch *checkpoint.Checkpoint, by api.Principal, now func() time.Time, report io.Writer, bar func(int, string) *progressbar.ProgressBar) (int, error) {
	events, lines, bad, err := readJSONL(r)
	if err != nil {
		return 0, err
	}
	if len(bad) > 0 {
		for _, b := range bad {
			fmt.Fprintf(report, "line %d: %s\n", b.line, b.err)
		}
		return 0, &exitError{code: 1, msg: fmt.Sprintf("%d lines refused; nothing was imported", len(bad))}
	}
	rep, err := eventstore.Verify(ctx, eventstore.Events(events))
	if err != nil {
		return 0, err
	}
	if !rep.OK {
		f := rep.FirstFailure
		return 0, &exitError{code: 1, msg: fmt.Sprintf("line %d (%s revision %d, event %s): %s; nothing was imported", lines[f.Position-1], f.Stream, f.Revision, f.EventID, f.Reason)}
	}
	var held map[string]uint64
	var why string
	if vouch != nil {
		if held, why, err = vouched(ctx, store, vouch, events, lines, report); err != nil {
			return 0, err
		}
	} else if held, why, err = restorable(ctx, store, events); err != nil {
		return 0, err
	}
	if held == nil {
		fmt.Fprintf(report, "%s: the file's events are imported as new facts, recorded now by %s.\n", why, by.Name)
		return importAsNew(ctx, store, keys, events, lines, by, now, report, bar)
	}
	fmt.Fprintf(report, "%s: the file is restored with its recorded times and recorders.\n", why)
	// Events an earlier run stored are left out, so that a file that grew
	// since (a later export) adds only its new events: the copy of
	// `ledger migrate`, appended in one transaction where the store can.
	parts := eventstore.CopyParts(events, held, maxRestorePart)
	total := 0
	for _, p := range parts {
		total += len(p.Events)
	}
	pb := bar(total, "restoring")
	_, err = eventstore.AppendAll(ctx, store, parts, func(n int) { _ = pb.Set(n) })
	_ = pb.Finish()
	if err != nil {
		return 0, err
	}
	return total, nil
}

// readJSONL reads an export file's lines; bad lists those that do not
// parse or whose data does not decode.
func readJSONL(r io.Reader) (events []eventstore.RecordedEvent, lines []int, bad []rowError, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	line := 0
	for sc.Scan() && len(bad) < maxReported {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var x export.Event
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&x); err != nil {
			bad = append(bad, rowError{line, fmt.Errorf("not an exported event: %w", err)})
			continue
		}
		ev, err := x.Recorded()
		if err == nil {
			_, err = domain.DecodeStored(ev.Type, ev.SchemaVersion, ev.Data)
		}
		if err != nil {
			bad = append(bad, rowError{line, err})
			continue
		}
		ev.Position = eventstore.Position(len(events) + 1)
		events = append(events, ev)
		lines = append(lines, line) // lines[i] is the line of events[i]
	}
	if err := sc.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	return events, lines, bad, nil
}

// restorable decides whether the file's events may keep their recorded
// times and recorders: only when every event of the store is the file's
// own, at the same stream and revision with the same hash (the store is
// empty, or holds an earlier run of this restore or of an earlier export
// of the same ledger), and every event still to copy was recorded after
// the store's last, so that nothing is written into the past of what the
// store already said it knew. It returns how many events of each stream
// the store holds, or nil and why not.
func restorable(ctx context.Context, store eventstore.Store, events []eventstore.RecordedEvent) (map[string]uint64, string, error) {
	type at struct {
		stream   string
		revision uint64
	}
	file := make(map[at]*eventstore.RecordedEvent, len(events))
	for i := range events {
		file[at{events[i].Stream, events[i].Revision}] = &events[i]
	}
	held := map[string]uint64{}
	var last time.Time
	n := 0
	for e, err := range store.ReadAll(ctx, eventstore.Start) {
		if err != nil {
			return nil, "", err
		}
		f := file[at{e.Stream, e.Revision}]
		if f == nil || f.ID != e.ID || f.Hash != e.Hash {
			return nil, fmt.Sprintf("The store holds history that is not in the file (%s revision %d)", e.Stream, e.Revision), nil
		}
		held[e.Stream] = e.Revision + 1
		if e.RecordedAt.After(last) {
			last = e.RecordedAt
		}
		n++
	}
	if n == 0 {
		return held, "The store is empty", nil
	}
	for _, e := range events {
		if e.Revision >= held[e.Stream] && !e.RecordedAt.After(last) {
			return nil, fmt.Sprintf("The file's event %s (%s revision %d) was recorded at %s, before the store's last event", e.ID, e.Stream, e.Revision, e.RecordedAt.Format(time.RFC3339Nano)), nil
		}
	}
	return held, fmt.Sprintf("The store holds %d events, all of them the file's own", n), nil
}

// vouched checks that checkpoint c covers the file's events and that the
// store holds, of each stream of the file, nothing or a prefix of it. It
// returns how many events of each stream the store holds, or an error
// listing what is wrong.
func vouched(ctx context.Context, store eventstore.Store, c *checkpoint.Checkpoint, events []eventstore.RecordedEvent, lines []int, report io.Writer) (map[string]uint64, string, error) {
	st := c.Statement
	if rep := checkpoint.Covers(c, events); !rep.OK {
		for _, d := range rep.Differences {
			fmt.Fprintf(report, "  %s\n", d)
		}
		return nil, "", &exitError{code: 1, msg: fmt.Sprintf("the checkpoint of %s signed by %s does not cover the file (%d differences); nothing was imported", st.TakenAt.Format(time.RFC3339), st.KeyID, rep.DifferencesFound)}
	}
	held, bad := conflicting(ctx, store, events, lines)
	if len(bad) > 0 {
		for _, b := range bad {
			fmt.Fprintf(report, "line %d: %s\n", b.line, b.err)
		}
		return nil, "", &exitError{code: 1, msg: fmt.Sprintf("%d lines clash with the store; nothing was imported", len(bad))}
	}
	return held, fmt.Sprintf("The checkpoint of %s signed by %s covers the file", st.TakenAt.Format(time.RFC3339), st.KeyID), nil
}

// conflicting checks, before anything is appended, that every stream of
// the file is absent from the store or holds a prefix of the file's events
// (an earlier run of the same import), so that the copy cannot stop
// half-way on a stream that holds other history. It returns how many
// events each stream of the file holds in the store.
func conflicting(ctx context.Context, store eventstore.Store, events []eventstore.RecordedEvent, lines []int) (map[string]uint64, []rowError) {
	var bad []rowError
	held := map[string]uint64{}
	checked := map[string][]eventstore.RecordedEvent{}
	for i, e := range events {
		have, seen := checked[e.Stream]
		if !seen {
			var err error
			have, err = store.ReadStream(ctx, e.Stream, eventstore.ReadOptions{})
			if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
				return held, append(bad, rowError{lines[i], err})
			}
			checked[e.Stream] = have
			held[e.Stream] = uint64(len(have))
		}
		if e.Revision < uint64(len(have)) && (have[e.Revision].ID != e.ID || have[e.Revision].Hash != e.Hash) {
			bad = append(bad, rowError{lines[i], fmt.Errorf("%s already holds event %s at revision %d, not %s", e.Stream, have[e.Revision].ID, e.Revision, e.ID)})
		}
	}
	return held, bad
}

// maxRestorePart bounds the events of one stream in one part of a restore.
const maxRestorePart = 1000

// importAsNew stages the file's events as new facts recorded by by, each
// checked as the API checks it, leaving out those already in their stream.
// A decision is evaluated afresh: the evaluation stored in the file was the
// source ledger's.
func importAsNew(ctx context.Context, store eventstore.Store, keys *keystore.Keys, events []eventstore.RecordedEvent, lines []int, by api.Principal, now func() time.Time, report io.Writer, bar func(int, string) *progressbar.ProgressBar) (int, error) {
	batch := record.NewBatch(store, now)
	rec := batch.Recorder()
	rec.UseKeys(keys) // names and emails are sealed again, as the API seals them
	stored := map[string]map[uuid.UUID]eventstore.RecordedEvent{}
	var bad []rowError
	for i, e := range events {
		if len(bad) >= maxReported {
			break
		}
		have, ok := stored[e.Stream]
		if !ok {
			got, err := store.ReadStream(ctx, e.Stream, eventstore.ReadOptions{})
			if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
				return 0, err
			}
			have = make(map[uuid.UUID]eventstore.RecordedEvent, len(got))
			for _, g := range got {
				have[g.ID] = g
			}
			stored[e.Stream] = have
		}
		if prev, ok := have[e.ID]; ok {
			if prev.Type != e.Type || prev.OccurredOn != e.OccurredOn {
				bad = append(bad, rowError{lines[i], domain.Errorf(domain.ECONFLICT, "id", "%s already holds event %s, a %s of %s, not this %s of %s", e.Stream, e.ID, prev.Type, prev.OccurredOn, e.Type, e.OccurredOn)})
			}
			continue
		}
		// A sealed name opens only with this ledger's keys: a file from
		// another ledger cannot be recorded anew without them.
		ev, err := record.OpenStored(keys, e)
		if err != nil {
			bad = append(bad, rowError{lines[i], err})
			continue
		}
		if dec, ok := domain.DecisionOf(ev); ok {
			dec.RulebookVersion, dec.Evaluation = "", nil
		}
		data, _, err := domain.Encode(ev)
		if err != nil {
			bad = append(bad, rowError{lines[i], err})
			continue
		}
		p := record.Proposal{ID: e.ID, Type: e.Type, OccurredOn: e.OccurredOn, Data: data}
		if p.Type == domain.TypePractitionerRegistered || p.Type == domain.TypeOrganisationRegistered {
			_, err = rec.Open(ctx, by, e.Stream, p)
		} else {
			_, err = rec.Record(ctx, by, e.Stream, p)
		}
		if err != nil {
			bad = append(bad, rowError{lines[i], err})
		}
	}
	return commitBatch(ctx, batch, bad, len(events), "lines", report, bar)
}
