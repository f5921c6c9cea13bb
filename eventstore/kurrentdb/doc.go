// Package kurrentdb is the ledger's event store on KurrentDB (formerly
// EventStoreDB), through github.com/EventStore/EventStore-Client-Go/v4: the
// production backend for deployments past one machine, since KurrentDB runs
// as a three-or-more node cluster. It implements eventstore.Store with the
// embedded store's behaviour, checked by the same conformance suite
// (eventstore/storetest).
//
// The package owns the mapping between the ledger's store contract and
// KurrentDB: stream names (an optional namespace, the ledger's stream
// prefixes), the envelope and hash chain carried in each event's KurrentDB
// metadata as JSON, expected revisions, idempotent retries, positions in
// $all, subscriptions, deadlines and retries. It must not import domain,
// projections or api, and its non-test code must not import
// eventstore/kurrentdb/protocoldouble, which exists for tests only.
//
// # How it maps
//
//   - An event's ID, type and data are KurrentDB's event ID, event type and
//     data (content type JSON when the data is JSON); everything else
//     (schema version, occurred-on date, recorder, recorded time, previous
//     hash, hash, and the caller's metadata as a string) is a JSON object in
//     the event's metadata.
//   - Revisions are KurrentDB's stream revisions, which count from 0.
//   - A Position is the event's prepare position in KurrentDB's log, which
//     for every event written through the gRPC API equals its commit
//     position; see positionOf.
//   - Append reads the stream's tail, checks expected revision and IDs, and
//     appends with KurrentDB's expected revision set to exactly the revision
//     read, so the hash chain cannot fork; see Store.Append.
//   - ReadAll pages through $all and keeps the ledger's streams; Subscribe
//     is a catch-up subscription to $all filtered on the server by stream
//     prefix, resubscribing after a drop from the last event delivered.
//
// # Caveats
//
//   - An append costs three round trips (read the tail, append, read the
//     appended events back for their positions); a per-stream cache keeps
//     the tail read short.
//   - RecordedAt comes from the clock of the ledger process that appended
//     (made non-decreasing along each stream), not from KurrentDB's
//     "created" time; keep the ledger hosts' clocks synchronised.
//   - A stream must stay append-only: deleting, truncating or scavenging a
//     ledger stream (max-count, max-age, truncate-before metadata) breaks
//     its revisions and chain, and the adapter reports it as
//     eventstore.ErrCorrupt.
//   - The client library may block while it rediscovers a node; the adapter
//     runs each call in a goroutine so that contexts and deadlines still
//     hold, and after the library gives up on discovery it starts a new
//     client rather than closing the old one (closing can panic calls still
//     inside it).
package kurrentdb
