// Package protocoldouble is a protocol double of a single KurrentDB node: an
// in-process gRPC server, built on EventStore-Client-Go/v4's own generated
// protocol types, that implements the part of KurrentDB's client protocol
// the ledger's kurrentdb adapter uses, with KurrentDB's documented
// semantics, so that the adapter's tests (and the conformance suite) run in
// CI where no KurrentDB server is available.
//
// It is test code: only _test.go files may import it (it is not internal so
// that tests elsewhere, such as two ledger servers sharing one KurrentDB, can
// start one; the adapter's tests check that its production code does not),
// and nothing in it is fit to store data. It must not import the ledger's
// packages.
//
// What it implements, as KurrentDB does:
//   - Streams.Append: expected revision any, no-stream, stream-exists and
//     exact; revisions counting from 0; WrongExpectedVersion replies carrying
//     the expected and current revisions in both the 20.6 and the current
//     fields; KurrentDB's own idempotency for a repeated append made with the
//     same exact (or no-stream) expected revision; the "type" and
//     "content-type" properties required; a maximum append size (1 MiB by
//     default) refused as InvalidArgument.
//   - Streams.Read of a stream, forwards and backwards from a revision, the
//     start or the end, with a count; StreamNotFound for a stream with no
//     events.
//   - Streams.Read of $all, forwards and backwards, with a count and an
//     optional filter. Positions are byte offsets in a simulated log: every
//     event is its own self-committed record, so commit == prepare == its
//     offset, offsets grow strictly (and not contiguously) in append order,
//     and a read must start at the start of a record (or past the end):
//     anything else is refused as InvalidArgument ("Trying to read from an
//     invalid position."), as the server does. Forward reads include the
//     record at their position; backward reads exclude it.
//   - Catch-up subscriptions to $all (Streams.Read with a subscription count
//     option) from the start, the end or after a position, with stream-name
//     or event-type filters (prefixes or a regular expression), a
//     confirmation first, checkpoints every max-search-window ×
//     checkpoint-interval-multiplier events considered (carrying the
//     position of the next record, as the server's do), CaughtUp when the
//     catch-up reaches the live end, then live events.
//   - The server's own events: a fresh log starts with an epoch record and a
//     few system events ("$settings", "$user-admin"), and Options can add a
//     system event after every n appends, so that a client's filtering is
//     exercised.
//   - ServerFeatures.GetSupportedMethods and Gossip.Read (one node, the
//     leader), which the client calls while connecting.
//
// What it does not cover: persistent subscriptions, projections, stream
// deletion and tombstones, stream metadata and ACLs, authentication and TLS
// (connect with tls=false), links and resolveLinkTos, BatchAppend, explicit
// transactions, clusters (elections, follower reads, not-leader
// redirection), durability, scavenging, and KurrentDB's best-effort
// idempotency for expected revision any. Timing, memory and throughput are
// nothing like a real node's: benchmarks against it measure the adapter and
// gRPC on loopback, not KurrentDB.
//
// Faults can be injected: Stop and Restart drop every connection and
// subscription and bring the node back on the same address with its data;
// FailNext makes the next streams calls fail with a gRPC code; LoseNextReply
// stores an append but answers Unavailable, as a network failure after the
// write would; DropSubscriptions ends live subscriptions; BeforeAppend runs
// a hook (say, another writer's append via AppendRaw) between a client's
// read and its append.
package protocoldouble
