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
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
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
	by := fs.String("recorded-by", "import", "principal `name` recorded on CSV rows")
	if err := parse(fs, args); err != nil {
		return err
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
	bar := func(total int, what string) *progressbar.ProgressBar {
		return progressbar.NewOptions(total, progressbar.OptionSetWriter(e.stderr),
			progressbar.OptionSetDescription(what), progressbar.OptionShowCount(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(e.stderr) }))
	}
	var n int
	switch *format {
	case "csv":
		n, err = importCSV(ctx, store, f, api.Principal{Name: *by, Role: api.RoleAdmin}, time.Now, e.stderr, bar)
	case "jsonl":
		n, err = importJSONL(ctx, store, f, e.stderr, bar)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Imported %d events from %s.\n", n, path)
	return nil
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
func importCSV(ctx context.Context, store eventstore.Store, r io.Reader, by api.Principal, now func() time.Time, report io.Writer, bar func(int, string) *progressbar.ProgressBar) (int, error) {
	col, rows, bad, err := readCSV(r)
	if err != nil {
		return 0, err
	}
	batch := api.NewBatch(store, now)
	for _, row := range rows {
		if len(bad) >= maxReported {
			break
		}
		if err := stageRow(ctx, batch, by, row.fields, col); err != nil {
			bad = append(bad, rowError{row.line, err})
		}
	}
	if len(bad) > 0 {
		slices.SortStableFunc(bad, func(a, b rowError) int { return a.line - b.line })
		for _, b := range bad {
			fmt.Fprintf(report, "line %d: %s\n", b.line, domain.ErrorMessage(b.err))
		}
		return 0, &exitError{code: 1, msg: fmt.Sprintf("%d rows refused; nothing was imported", len(bad))}
	}
	total := batch.Len()
	fmt.Fprintf(report, "All %d rows checked: %d events to store.\n", len(rows), total)
	pb := bar(total, "importing")
	err = batch.Commit(ctx, func(done int) { _ = pb.Set(done) })
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
func stageRow(ctx context.Context, batch *api.Batch, by api.Principal, rec []string, col map[string]int) error {
	cell := func(name string) string {
		i, ok := col[name]
		if !ok || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	stream := cell("stream")
	p := api.Proposal{Type: cell("type"), OccurredOn: cell("occurred_on"), Data: json.RawMessage(cell("data"))}
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

// importJSONL reads `ledger export` output: stored history, kept byte for
// byte with its ids, recorded times and recorders, so that the copy's hash
// chains are the original's. It checks every line first (it parses, its
// data decodes, and every chain verifies) and appends only when all do.
func importJSONL(ctx context.Context, store eventstore.Store, r io.Reader, report io.Writer, bar func(int, string) *progressbar.ProgressBar) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	var events []eventstore.RecordedEvent
	var lines []int // lines[i] is the line of events[i]
	var bad []rowError
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var x api.ExportedEvent
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
		lines = append(lines, line)
		if len(bad) == maxReported {
			break
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("line %d: %w", line+1, err)
	}
	if len(bad) == 0 {
		rep, err := eventstore.Verify(ctx, sliceStore(events))
		if err != nil {
			return 0, err
		}
		if !rep.OK {
			f := rep.FirstFailure
			return 0, &exitError{code: 1, msg: fmt.Sprintf("line %d (%s revision %d, event %s): %s; nothing was imported", lines[f.Position-1], f.Stream, f.Revision, f.EventID, f.Reason)}
		}
		held, clash := conflicting(ctx, store, events, lines)
		bad = append(bad, clash...)
		// Events an earlier import stored are left out, so that a file
		// that grew since (a later export) adds only its new events:
		// offered again with them in one append, they would not match the
		// append that stored them.
		events = slices.DeleteFunc(events, func(e eventstore.RecordedEvent) bool { return e.Revision < held[e.Stream] })
	}
	if len(bad) > 0 {
		for _, b := range bad {
			fmt.Fprintf(report, "line %d: %s\n", b.line, b.err)
		}
		return 0, &exitError{code: 1, msg: fmt.Sprintf("%d lines refused; nothing was imported", len(bad))}
	}
	pb := bar(len(events), "importing")
	n, err := eventstore.Copy(ctx, sliceStore(events), store, func(n int) { _ = pb.Set(n) })
	_ = pb.Finish()
	return n, err
}

// conflicting checks, before anything is appended, that every stream of
// the file is absent from the store or holds a prefix of the file's events
// (an earlier run of the same import, or of an earlier export), so that the
// copy cannot stop half-way on a stream that holds other history. It
// returns how many events each stream of the file holds in the store.
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
		if e.Revision < uint64(len(have)) && have[e.Revision].ID != e.ID {
			bad = append(bad, rowError{lines[i], fmt.Errorf("%s already holds event %s at revision %d, not %s", e.Stream, have[e.Revision].ID, e.Revision, e.ID)})
		}
	}
	return held, bad
}
