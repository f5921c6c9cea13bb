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
// One bbolt transaction per group commit writes, for each event, its record
// under its global position (8 bytes, big-endian, from 1, contiguous) in
// the events bucket, its position under stream number + revision in the
// revisions bucket and under stream number + event id in the ids bucket, and
// the stream's tip (number, last revision, last hash, last recorded time) in
// the streams bucket. A record is versioned and length-prefixed; see
// record.go.
//
// # Caveats
//
//   - One process at a time: bbolt locks the file, and a second Open waits
//     for Options.LockTimeout and fails.
//   - Every acknowledged append has been fsynced. Appends queued while a
//     commit is in flight share the next one; a single writer still pays a
//     full commit (two fsyncs in bbolt) per append.
//   - An event's Data and Metadata from ReadAll and Subscribe point into a
//     buffer shared by the events of one read chunk (up to 1024 events or
//     4 MiB): keeping one event's Data keeps its chunk in memory. Copy what
//     you keep for long.
//   - bbolt trusts its file. A damaged page makes it panic or fault; the
//     store recovers and returns an error wrapping eventstore.ErrCorrupt, but
//     it cannot repair the file: restore it from a backup.
//   - Once the writer has taken an append into a commit, Append waits for
//     the outcome even if its context ends, because the event's buffers are
//     read until then.
package bolt
