package eventstore

import (
	"context"
	"fmt"
)

// copyBatch bounds how many consecutive events of one stream Copy appends
// in one call.
const copyBatch = 100

// Copy copies every event of from into to, in from's global order, and
// returns how many it copied. It is the migration path between backends (the
// embedded store to KurrentDB, say).
//
// Each event keeps its stream, revision, ID, type, schema version,
// occurred-on date, recorder, recorded time (passed as EventData.RecordedAt),
// data and metadata byte for byte, so the target recomputes exactly the same
// hash chain and Verify passes on the copy with the same hashes as on the
// source. Positions are the target's own. Consecutive events of one stream
// are appended together, each append conditional on the revision before it,
// so that a stream that already holds other events in the target fails the
// copy with a *RevisionConflictError instead of being mixed into.
//
// Copy is safe to run again after an interruption: events already copied
// are recognised as idempotent retries by their IDs and stored once. progress,
// when not nil, is called with the running count after every append.
func Copy(ctx context.Context, from AllReader, to Store, progress func(n int)) (int, error) {
	n := 0
	var batch []RecordedEvent
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		first := batch[0]
		expected := NoStream()
		if first.Revision > 0 {
			expected = Exact(first.Revision - 1)
		}
		events := make([]EventData, len(batch))
		for i, e := range batch {
			events[i] = EventData{
				ID: e.ID, Type: e.Type, SchemaVersion: e.SchemaVersion,
				OccurredOn: e.OccurredOn, RecordedBy: e.RecordedBy, RecordedAt: e.RecordedAt,
				Data: e.Data, Metadata: e.Metadata,
			}
		}
		res, err := to.Append(ctx, first.Stream, expected, events...)
		if err != nil {
			return fmt.Errorf("eventstore: copy %s revisions %d-%d: %w", first.Stream, first.Revision, batch[len(batch)-1].Revision, err)
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
