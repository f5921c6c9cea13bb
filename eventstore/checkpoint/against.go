package checkpoint

import (
	"context"
	"fmt"
	"iter"
	"slices"

	"github.com/imattertraining/ledger/eventstore"
)

// maxDifferences bounds how many differences a Report lists; the count of
// all of them is kept.
const maxDifferences = 100

// Difference is one way the store fails to extend a checkpoint.
type Difference struct {
	// Stream is the stream at fault ("" for the store as a whole).
	Stream string `json:"stream,omitempty"`
	// Revision is the revision at fault, when there is one.
	Revision *uint64 `json:"revision,omitempty"`
	// Reason says what differs, in words.
	Reason string `json:"reason"`
}

func (d Difference) String() string {
	switch {
	case d.Stream == "":
		return d.Reason
	case d.Revision == nil:
		return d.Stream + ": " + d.Reason
	}
	return fmt.Sprintf("%s at revision %d: %s", d.Stream, *d.Revision, d.Reason)
}

// Report is the outcome of Against and Covers.
type Report struct {
	// OK is true when the store extends the checkpoint.
	OK bool `json:"ok"`
	// EventsChecked counts the events read and chain-checked.
	EventsChecked uint64 `json:"events_checked"`
	// StreamsMatched counts the checkpoint's streams found intact.
	StreamsMatched uint64 `json:"streams_matched"`
	// Position is the store's last position.
	Position eventstore.Position `json:"position"`
	// Differences lists what differs (at most 100), and DifferencesFound
	// counts them all.
	Differences      []Difference `json:"differences"`
	DifferencesFound int          `json:"differences_found"`
}

func (r *Report) differ(stream string, rev *uint64, format string, args ...any) {
	r.DifferencesFound++
	if len(r.Differences) < maxDifferences {
		r.Differences = append(r.Differences, Difference{Stream: stream, Revision: rev, Reason: fmt.Sprintf(format, args...)})
	}
}

// tip is a stream's chain as read so far.
type tip struct {
	next   uint64
	hash   eventstore.Hash
	broken bool
}

// walk checks the chain of every event events yields, as eventstore.Verify
// does, and each checkpoint head against the event at the head's revision.
// It returns the streams' tips; a stream whose chain breaks is reported
// once and not compared further.
func walk(events iter.Seq2[eventstore.RecordedEvent, error], c *Checkpoint, rep *Report) (map[string]*tip, error) {
	heads := make(map[string]Head, len(c.Heads))
	for _, h := range c.Heads {
		heads[h.Stream] = h
	}
	tips := make(map[string]*tip)
	for e, err := range events {
		if err != nil {
			return tips, err
		}
		rep.EventsChecked++
		rep.Position = e.Position
		t := tips[e.Stream]
		if t == nil {
			t = &tip{}
			tips[e.Stream] = t
		}
		if t.broken {
			continue
		}
		rev := e.Revision
		broken := ""
		switch {
		case e.Revision != t.next:
			broken = fmt.Sprintf("revision %d where %d was expected", e.Revision, t.next)
		case e.PrevHash != t.hash:
			broken = "prev_hash does not match the previous event's hash"
		case eventstore.ComputeHash(eventstore.ChainFieldsOf(e)) != e.Hash:
			broken = "hash does not match the event's contents"
		}
		if broken != "" {
			t.broken = true
			rep.differ(e.Stream, &rev, "the hash chain breaks: %s", broken)
			continue
		}
		t.next, t.hash = e.Revision+1, e.Hash
		if h, ok := heads[e.Stream]; ok && h.Revision == e.Revision {
			if h.Hash != e.Hash {
				t.broken = true
				rep.differ(e.Stream, &rev, "hash %s where the checkpoint signed %s: history up to here was rewritten", e.Hash, h.Hash)
				continue
			}
			rep.StreamsMatched++
		}
	}
	return tips, nil
}

// Against checks that the store r reads still extends checkpoint c: every
// chain verifies; every stream of c is present, at least as long as it was,
// with the very hash c signed at c's revision (so no event up to it was
// rewritten, even with every later hash recomputed); and the store has at
// least c's events, up to at least c's position (so it was neither cut
// short nor rolled back to an older copy). Events after c are welcome.
//
// Check c's signature first (Open does both). Against names every
// difference in the report (OK false); an error means the store could not
// be read, with the report of what was read.
func Against(ctx context.Context, r Reader, c *Checkpoint) (Report, error) {
	var rep Report
	tips, err := walk(r.ReadAll(ctx, eventstore.Start), c, &rep)
	if err != nil {
		return rep, fmt.Errorf("checkpoint: reading the store: %w", err)
	}
	missing(tips, c, &rep)
	if rep.Position < c.Statement.Position {
		rep.differ("", nil, "the store ends at position %d, before the checkpoint's %d: it was cut short or rolled back", rep.Position, c.Statement.Position)
	}
	if rep.EventsChecked < c.Statement.Events {
		rep.differ("", nil, "the store holds %d events, fewer than the checkpoint's %d: it was cut short or rolled back", rep.EventsChecked, c.Statement.Events)
	}
	rep.OK = rep.DifferencesFound == 0
	return rep, nil
}

// missing reports each head of c whose stream never reached the head's
// revision.
func missing(tips map[string]*tip, c *Checkpoint, rep *Report) {
	for _, h := range c.Heads {
		t := tips[h.Stream]
		switch {
		case t == nil:
			rep.differ(h.Stream, nil, "missing: the checkpoint signed it at revision %d", h.Revision)
		case !t.broken && t.next <= h.Revision:
			rep.differ(h.Stream, nil, "ends at revision %d, before the checkpoint's %d: it was cut short or rolled back", int64(t.next)-1, h.Revision)
		}
	}
}

// Covers tells whether checkpoint c vouches for events: a set of whole
// streams (each from revision 0, in revision order; streams may be
// interleaved), such as a history being imported from another ledger with
// its original recorded times. It holds when every chain verifies, every
// stream of events is in c, and each ends exactly at c's head for it, with
// the hash c signed. Streams of c that events leave out are not required.
//
// Check c's signature with the source ledger's public key first (Open),
// or the answer means nothing. Covers reports, like Against, every
// difference; a stream that goes past c's head is not covered.
func Covers(c *Checkpoint, events []eventstore.RecordedEvent) Report {
	var rep Report
	seq := func(yield func(eventstore.RecordedEvent, error) bool) {
		for _, e := range events {
			if !yield(e, nil) {
				return
			}
		}
	}
	tips, _ := walk(seq, c, &rep) // seq yields no errors
	rep.Position = 0              // positions are the source's, not compared
	streams := make([]string, 0, len(tips))
	for s := range tips {
		streams = append(streams, s)
	}
	slices.Sort(streams)
	for _, s := range streams {
		t := tips[s]
		i, found := slices.BinarySearchFunc(c.Heads, s, func(h Head, s string) int {
			switch {
			case h.Stream < s:
				return -1
			case h.Stream > s:
				return 1
			}
			return 0
		})
		switch {
		case !found:
			rep.differ(s, nil, "not in the checkpoint")
		case t.broken:
		case t.next <= c.Heads[i].Revision:
			rep.differ(s, nil, "ends at revision %d, before the checkpoint's %d", int64(t.next)-1, c.Heads[i].Revision)
		case t.next > c.Heads[i].Revision+1:
			rev := c.Heads[i].Revision + 1
			rep.differ(s, &rev, "goes past the checkpoint's head: events after revision %d are not covered", c.Heads[i].Revision)
		}
	}
	rep.OK = rep.DifferencesFound == 0
	return rep
}
