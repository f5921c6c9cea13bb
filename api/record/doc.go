// Package record is the ledger's write path: the Recorder, which turns a
// proposed fact into a validated domain event, evaluates a decision
// against the history known at that moment, seals a practitioner's
// personal data and appends with the revision the evaluation saw; the
// erasure of personal data; and the Batch, which stages `ledger import`'s
// rows through the same Recorder and commits them together.
//
// The HTTP API (package api), its web console and the ledger command all
// record through it. Its errors are domain errors (domain.Error, with a
// code) and the store's; the API maps them to HTTP statuses in one place
// (api.Error). It imports domain, eventstore (and its keystore),
// projections and api/auth (the principal a fact is recorded by); it must
// not import net/http, chi, package api or a store backend: api's
// deps_test.go checks this.
package record
