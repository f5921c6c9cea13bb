// Package checkpoint signs and checks checkpoints: small statements, signed
// with the ledger's Ed25519 key, of every stream's head (revision and hash)
// and the store's global position at one moment. A hash chain shows that no
// stored event was edited on its own; a checkpoint kept outside the system
// also shows that history was not rewritten with every later hash
// recomputed, and that the store was not cut short or rolled back to an
// older copy: the store must still extend it.
//
// The package owns the checkpoint's format, its signature, the signing key's
// file in the data directory, and the check of a store (or of a set of
// events) against a checkpoint. Both the `ledger` command and the API call
// it. It reads the store only through Reader (ReadAll), so that it runs on
// every backend and on a running server's event export alike. It must not
// import domain, projections or api.
//
// # Format
//
// A checkpoint file is JSON with three members: statement (what is signed:
// the format, the key id, the time taken, the global position, the number
// of events and of streams, and heads_root, a Merkle root over the heads),
// signature (Ed25519 over a domain-separated encoding of the statement) and
// heads (every stream's head: stream, revision, hash, sorted by stream).
// The signed part stays small however many streams there are; the heads
// are bound to it by the root, so no head can be edited, added or removed
// without the root, and so the signature, failing.
//
// # Caveats
//
//   - The position is the backend's: after `ledger migrate` between the
//     embedded store and KurrentDB, positions differ, so take a new
//     checkpoint on the target (the heads and the event count still hold).
//   - A checkpoint proves what the store held when it was taken. Events
//     appended later are not covered until the next one.
//   - Anyone holding the data directory holds the key: a checkpoint proves
//     nothing against someone who can also sign. Keep checkpoints (and the
//     public key) outside the system, where the ledger's operator cannot
//     rewrite them.
package checkpoint
