// Package bolt is the ledger's embedded event store, the default backend:
// one bbolt file (go.etcd.io/bbolt) in the data directory, typically
// <data dir>/events.db. It implements eventstore.Store and passes the
// conformance suite in eventstore/storetest.
//
// The package owns the file's layout (buckets, keys and the binary record of
// each event's envelope), the single writer that group-commits appends, and
// the chunked reads behind ReadAll and Subscribe. It must not import domain,
// projections or api: it stores streams, revisions and bytes.
//
// # Layout
//
// The file has two buckets. events maps each global position (8 bytes,
// big-endian, from 1, contiguous) to the event's record: a versioned,
// length-prefixed binary envelope (see record.go) holding the id, stream,
// type, schema version, revision, recorded time, occurred-on date,
// recorder, data, metadata, prev_hash and hash. meta holds the file's
// format version, the greatest recorded time stored and the last position.
//
// The stream index (each stream's positions by revision, its last hash and
// recorded time, and every event id's position within its stream) is kept
// in memory and rebuilt from the events bucket by one scan when the store
// opens (see index.go). A commit therefore writes the new records, the
// branch above them and the meta page, however many streams it touches:
// with the index on disk (file format 2), each append dirtied a leaf and a
// branch of an index tree at a random place, and a commit of eight appends
// wrote about twenty scattered pages instead of six. Damage the scan finds
// is reported by the reads it concerns: a stream whose revisions are out of
// place or repeat an event id is refused on its own; positions missing from
// the middle or the end of the events bucket, which no stream's records can
// be tied to, make every stream read and append fail until the file is
// restored.
//
// # Writing
//
// Append checks what it can on its own (ErrInvalidEvent), then queues the
// request for the store's single writer goroutine. The writer takes every
// queued request, applies each inside one bbolt transaction (each checked
// on its own against the stream as it stands in that transaction: expected
// revision, idempotent retry, recorded time; a refused request writes
// nothing and so cannot affect the others), computes each event's hash
// chained to its stream's previous event, commits (bbolt syncs the file
// before Commit returns), adds the commit's events to the stream index and
// only then answers every request. The next round starts with whatever
// queued meanwhile, once the appenders the commit answered are queued again
// or the last commit's duration (at most 2 ms, Options.GroupCommitWait) has
// passed: closed-loop writers then share every commit instead of splitting
// into two groups that take turns, and a lone writer never waits. The
// writer keeps no state between commits that a failed commit could leave
// stale: a batch's view of its streams is thrown away unless its commit
// succeeds.
//
// Recorded times come from Options.Clock in UTC, made strictly increasing
// across the store so that recorded order follows global order; a
// migration's own RecordedAt is kept but may not go back in its stream.
//
// # Reading
//
// ReadStream reads one stream in one short transaction. ReadAll and
// Subscribe read the events bucket in chunks (Options.ReadChunk events, at
// most 4 MiB), one short read transaction each, so that no transaction is
// held across the caller's loop. A subscription reads on from the last
// event it delivered and, once caught up, waits for the writer's next
// commit; it takes the commit signal before reading, so nothing is missed
// or delivered twice. The writer sends that signal not straight after the
// commit (when the appenders it answered need the CPU) but when it next
// waits on the disk or runs out of work: under load a subscription sees a
// commit at most one gathering (<= 2 ms) later.
//
// # Caveats
//
//   - One process at a time: bbolt locks the file, and a second Open waits
//     for Options.LockTimeout and fails.
//   - Every acknowledged append has been fsynced, but a commit is bbolt's:
//     its dirty pages, then two fdatasyncs (data, then meta page). A single
//     writer therefore runs below the disk's raw fsync rate; concurrent
//     writers share commits.
//   - The stream index is in memory: about 95 bytes per event, and a scan
//     of every event at each Open (0.7–0.9 s for a million events on the
//     reference machine).
//   - An event's Data and Metadata from ReadAll and Subscribe point into
//     32 KiB buffers shared by neighbouring events of one read chunk:
//     keeping one event's Data keeps its buffer in memory. Copy what you
//     keep for long. Reading every event allocates its payload once; a full
//     read of a large store is faster with a higher GOGC.
//   - bbolt trusts its file. A damaged page makes it panic or fault; the
//     store recovers (faults included, through debug.SetPanicOnFault) and
//     returns an error wrapping eventstore.ErrCorrupt, but it cannot repair
//     the file: restore it from a backup. An Open that fails that way
//     releases the file's lock but leaves bbolt's memory map of it in place
//     until the process exits. Damage to bbolt's freelist shows
//     only when the writer next allocates pages, and may then damage more;
//     eventstore.Verify does not read the freelist.
//   - bbolt's own consistency check (Tx.Check) and the freelist rebuild of
//     Options.NoFreelistSync run in goroutines of bbolt's, where a fault on
//     a damaged file would end the process; the store uses neither by
//     default.
//   - Once the writer has taken an append into a commit, Append waits for
//     the outcome even if its context ends, because the event's buffers are
//     read until then.
//   - The file format is versioned (the meta bucket's format key); a file
//     of format 2 is upgraded when opened (its on-disk stream index is
//     deleted), a file of any other format is refused, not converted.
package bolt
