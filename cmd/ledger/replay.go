package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/projections"
)

func runReplay(ctx context.Context, e *env, args []string) (err error) {
	fs := e.newFlags("replay")
	sf := addStoreFlags(fs)
	who := fs.String("practitioner", "", "practitioner `id` (a UUID, or practitioner-<uuid>)")
	asOfS := fs.String("as-of", "", "effective `date` YYYY-MM-DD (default today)")
	knownAtS := fs.String("known-at", "", "recorded `time` RFC 3339: what the ledger knew then (default now)")
	if err := parse(fs, args); err != nil {
		return err
	}
	id, perr := uuid.Parse(strings.TrimPrefix(*who, domain.StreamPrefix(domain.PractitionerStream)))
	if *who == "" || perr != nil {
		return usageError("replay needs --practitioner ID (a UUID)")
	}
	asOf := domain.DateOf(time.Now().UTC())
	if *asOfS != "" {
		if asOf, err = domain.ParseDate(*asOfS); err != nil {
			return usageError("--as-of: %v", err)
		}
	}
	var knownAt time.Time
	if *knownAtS != "" {
		if knownAt, err = time.Parse(time.RFC3339Nano, *knownAtS); err != nil {
			return usageError("--known-at: %q is not an RFC 3339 time", *knownAtS)
		}
		if knownAt.IsZero() {
			// The zero time means "now" to the reads; 0001-01-01 is a
			// moment when nothing was known yet.
			knownAt = knownAt.Add(time.Nanosecond)
		}
	}
	if err := sf.check(); err != nil {
		return err
	}
	src, err := sf.openSource(ctx, "replay")
	if err != nil {
		return err
	}
	defer func() {
		if cerr := src.close(); err == nil {
			err = cerr
		}
	}()
	hist, err := src.history(ctx, projections.PractitionerStream(id), knownAt)
	if err != nil {
		return err
	}
	view, err := src.practitioner(ctx, id, asOf, knownAt)
	if err != nil {
		return err
	}
	printReplay(e.stdout, view, hist, asOf, knownAt)
	return nil
}

// printReplay writes a practitioner's timeline and standing for a terminal.
func printReplay(w io.Writer, v projections.PractitionerView, hist []projections.HistoryItem, asOf domain.Date, knownAt time.Time) {
	known := "now"
	if !knownAt.IsZero() {
		known = knownAt.UTC().Format(time.RFC3339Nano)
	}
	fmt.Fprintf(w, "%s (%s)\nas of %s, as known at %s\n\nTimeline\n", v.Name, v.ID, asOf, known)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REV\tOCCURRED\tRECORDED\tBY\tEVENT\tDETAIL")
	for _, h := range hist {
		mark := ""
		if h.RetractedBy != nil {
			mark = " [retracted]"
		} else if h.OccurredOn > asOf.String() {
			mark = " [after as-of]"
		}
		rec := h.RecordedAt
		if t, err := time.Parse(time.RFC3339Nano, rec); err == nil {
			rec = t.Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s%s\t%s\n", h.Revision, h.OccurredOn, rec, h.RecordedBy, h.Type, mark, detail(h.Data))
	}
	_ = tw.Flush()

	fmt.Fprintf(w, "\nLevel %d", v.Level)
	if len(v.Roles) > 0 {
		roles := make([]string, len(v.Roles))
		for i, r := range v.Roles {
			roles[i] = string(r)
		}
		fmt.Fprintf(w, "; roles: %s", strings.Join(roles, ", "))
	}
	fmt.Fprintln(w)
	if len(v.Licences) > 0 {
		fmt.Fprintln(w, "Licences:")
		for _, l := range v.Licences {
			fmt.Fprintf(w, "  %-12s %-14s %-9s until %s\n", l.LicenceID, l.Kind, l.Status, l.ValidUntil)
		}
	}
	fmt.Fprintf(w, "Standing: %s\n", strings.ToUpper(v.Standing.Status))
	printRequirements(w, v.Standing.Requirements)
	if len(v.NextSteps) > 0 {
		fmt.Fprintln(w, "Next steps:")
		for _, n := range v.NextSteps {
			state := "ready"
			if !n.Ready {
				state = fmt.Sprintf("%d requirement(s) missing", len(n.Missing))
			}
			fmt.Fprintf(w, "  %s (%s): %s\n", n.Role, n.Decision, state)
			printRequirements(w, n.Missing)
		}
	}
}

func printRequirements(w io.Writer, reqs []domain.RequirementResult) {
	for _, r := range reqs {
		mark := "[x]"
		if !r.Met {
			mark = "[ ]"
		}
		line := r.Name
		if r.Description != "" {
			line += ": " + r.Description
		}
		if !r.Met && r.Missing != "" {
			line += " (missing: " + r.Missing + ")"
		}
		fmt.Fprintf(w, "  %s %s\n", mark, line)
	}
}

// detail renders an event's data as short key=value pairs, leaving out the
// evaluation a decision carries (shown in the standing instead).
func detail(data json.RawMessage) string {
	var m map[string]any
	if json.Unmarshal(data, &m) != nil {
		return ""
	}
	delete(m, "evaluation")
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		s := fmt.Sprint(m[k])
		if len(s) > 40 {
			s = s[:37] + "..."
		}
		parts = append(parts, k+"="+s)
	}
	return strings.Join(parts, " ")
}
