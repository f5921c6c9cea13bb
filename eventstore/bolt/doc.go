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
// The file has three buckets. events maps each global position (8 bytes,
// big-endian, from 1, contiguous) to the event's record: a versioned,
// length-prefixed binary envelope (see record.go) holding the id, stream,
// type, schema version, revision, recorded time, occurred-on date,
// recorder, data, metadata, prev_hash and hash. streams holds, under keys
// that start with the length-prefixed stream name, the stream's tip (last
// revision, last hash, last recorded time), revision -> position and event
// id -> position; keeping one stream's keys together means an append
// dirties one leaf page there. meta holds the file's format version and the
// greatest recorded time stored.
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
// before Commit returns) and only then answers every request. The next
// commit starts as soon as this one ends, with whatever queued meanwhile:
// there is no timer, so a lone writer waits for one commit and many writers
// share each one. The writer keeps no state between commits that a failed
// commit could leave stale: each transaction starts from the file.
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
// or delivered twice.
//
// # Caveats
//
//   - One process at a time: bbolt locks the file, and a second Open waits
//     for Options.LockTimeout and fails.
//   - Every acknowledged append has been fsynced, but a commit is bbolt's:
//     its dirty pages, then two fdatasyncs (data, then meta page). A single
//     writer therefore runs below the disk's raw fsync rate; concurrent
//     writers share commits. After each commit the writer yields once
//     (runtime.Gosched) so that the appenders it just answered can queue
//     their next appends for the next commit: without it, half the writers
//     ride each commit while the other half are being answered.
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
//     of another format is refused, not converted.
package bolt
