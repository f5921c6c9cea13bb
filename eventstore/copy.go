package eventstore

import (
	"context"
	"fmt"
)

// copyBatch bounds how many consecutive events of one stream Copy appends
// in one call.
const copyBatch = 100

// Copy copies every event of from that to does not hold yet into to, in
// from's global order, and returns how many it copied. It is the migration
// path between backends (the embedded store to KurrentDB, say).
//
// Each event keeps its stream, revision, ID, type, schema version,
// occurred-on date, recorder, recorded time (passed as EventData.RecordedAt),
// data and metadata byte for byte, so the target recomputes exactly the same
// hash chain and Verify passes on the copy with the same hashes as on the
// source. Positions are the target's own. Consecutive events of one stream
// are appended together (see CopyParts), each append conditional on the
// revision before it, so that a stream that already holds other events in
// the target fails the copy with a *RevisionConflictError instead of being
// mixed into.
//
// held says, per stream, how many of its first events to already holds (as
// an interrupted run of the same copy left them; nil: none): those are
// skipped, so that running Copy again after an interruption copies only
// what is missing. Without held, a second run offers a stream's copied
// events again together with new ones, which a store refuses as a retry
// that does not match the stored append when the stream grew in between.
// progress, when not nil, is called with the running count after every
// append.
func Copy(ctx context.Context, from AllReader, to Store, held map[string]uint64, progress func(n int)) (int, error) {
	n := 0
	var batch []RecordedEvent
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		p := CopyParts(batch, nil, copyBatch)[0] // one stream, at most copyBatch
		first, last := batch[0], batch[len(batch)-1]
		res, err := to.Append(ctx, p.Stream, p.Expected, p.Events...)
		if err != nil {
			return fmt.Errorf("eventstore: copy %s revisions %d-%d: %w", first.Stream, first.Revision, last.Revision, err)
		}
		if res.FirstRevision != first.Revision {
			return fmt.Errorf("eventstore: copy %s: revision %d landed at %d", first.Stream, first.Revision, res.FirstRevision)
		}
		n += len(batch)
		batch = batch[:0]
		if progress != nil {
			progress(n)
		}
		return nil
	}
	for e, err := range from.ReadAll(ctx, Start) {
		if err != nil {
			return n, fmt.Errorf("eventstore: copy: reading the source: %w", err)
		}
		if e.Revision < held[e.Stream] {
			continue
		}
		if len(batch) > 0 && (batch[0].Stream != e.Stream || len(batch) == copyBatch) {
			if err := flush(); err != nil {
				return n, err
			}
		}
		batch = append(batch, e)
	}
	if err := flush(); err != nil {
		return n, err
	}
	return n, nil
}

// CopyParts groups events (in global order) into the appends that copy
// them: runs of consecutive events of one stream, at most max each, each
// expecting the revision before its first event, with every envelope field
// kept (recorded time and recorder included) so that the copy's hash chain
// is the source's. Events before each stream's held count are left out (see
// Copy). Copy appends the parts one by one as it reads; `ledger import`
// restores a file with AppendAll, in one transaction where the store can.
func CopyParts(events []RecordedEvent, held map[string]uint64, max int) []StreamAppend {
	var parts []StreamAppend
	for _, e := range events {
		if e.Revision < held[e.Stream] {
			continue
		}
		n := len(parts)
		if n == 0 || parts[n-1].Stream != e.Stream || len(parts[n-1].Events) == max {
			expected := NoStream()
			if e.Revision > 0 {
				expected = Exact(e.Revision - 1)
			}
			parts = append(parts, StreamAppend{Stream: e.Stream, Expected: expected})
			n++
		}
		parts[n-1].Events = append(parts[n-1].Events, EventData{
			ID: e.ID, Type: e.Type, SchemaVersion: e.SchemaVersion,
			OccurredOn: e.OccurredOn, RecordedBy: e.RecordedBy, RecordedAt: e.RecordedAt,
			Data: e.Data, Metadata: e.Metadata,
		})
	}
	return parts
}
