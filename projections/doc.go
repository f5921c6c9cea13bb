// Package projections folds the ledger's events into the read models that
// answer queries.
//
// It owns two kinds of answer:
//
//   - Views fold one stream on demand: a practitioner as of an effective date
//     and as known at a recorded time (bitemporal: only the qualifying events
//     are folded, retractions known at that time applied), and a stream's
//     audit trail. A stream is short, so a replay per query is cheap and
//     always exact.
//   - A Projector keeps the global models current: practitioners by level,
//     standing, role and organisation; the licence register; the QC decision
//     queue; the public directory; and the organisations the rules evaluate
//     against. It subscribes to the store from a checkpoint, persists the
//     models with that checkpoint in a snapshot file, and rebuilds them from
//     the whole store beside the served ones, swapping them in whole once
//     they have caught up.
//
// Standing depends on the date. The models keep, per practitioner, a compact
// summary computed for the models' date together with the next date on which
// it can change with no new event, indexed by that date; a query for a later
// day re-folds only the practitioners whose date has come.
//
// Rules live in domain: this package decodes stored events through domain's
// codec, folds facts with domain's fold and asks domain's rulebook for
// levels, roles, licence status, standing, next steps, directory listings
// and decision evaluations. Retractions too: the retracted facts and their
// retractions are handed to the fold, which applies them
// (domain.EffectiveRetractions is the one rule, also used here to name the
// retraction that counts in the audit trail and the decision queue). It never reads the clock in a fold: the date is passed in.
// It imports domain and eventstore (and eventstore/keystore to open sealed
// names) and must not import api, cmd or a store backend (eventstore/bolt,
// eventstore/kurrentdb): it reads any store through the eventstore
// interfaces. deps_test.go checks this.
//
// # Caveats
//
//   - A retraction applies whenever it is known, whatever its own
//     occurred_on (rulebook v1 reading: it corrects the record, not the
//     world). known_at is what hides a retraction recorded later.
//   - A decision's evaluation "then" folds the events of its stream before
//     it (all recorded at or before it), with organisations as known at its
//     recorded time; its re-evaluation folds everything known now. Both are
//     as of the decision's occurred_on and leave the decision itself out.
//   - Summaries are kept for the models' date onwards. A list query for a
//     date earlier than any asked before is answered by re-folding every
//     practitioner it scans: correct, but slow on a large ledger.
//   - The models re-read and re-fold a whole stream for each batch of its new
//     events, and every practitioner naming an organisation when that
//     organisation changes. Streams are short; a very long stream makes each
//     of its appends cost more.
//   - The models fold organisations from everything recorded (their
//     licences are dated by the domain); the views fold them as of the date
//     asked. Only an organisation fact dated in the future can tell the two
//     apart.
//   - A snapshot records the projection and rulebook versions it was computed
//     under; any other version, or a damaged file, is ignored and the models
//     are rebuilt. Bump projectionVersion whenever what the models hold
//     changes. Organisations are re-folded from the store on load.
//   - A snapshot newer than the store (a store restored from an older
//     backup) is not detected: delete the snapshot file to rebuild.
//   - Lag is measured against the newest position the projector knows the
//     store holds (delivered, or waited for), not the store's head, which the
//     store interface does not expose.
//   - A rebuild holds every event of the store in memory while it folds them
//     (several hundred bytes per event).
//   - A fold error (an event the domain cannot apply) stops the models at
//     that event rather than skipping the stream: history that was accepted
//     must fold. Run logs it, counts it and tries again with backoff (as for
//     any failure of the subscription), and Ready says the models are
//     stopped until it passes.
package projections
