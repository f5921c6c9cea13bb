// Package auth says who may call the ledger: the roles (admin, reviewer,
// auditor), the principal a request acts for (a token's name, recorded as
// recorded_by on everything it writes), and the token file of a data
// directory (tokens.json) that maps a bearer token to its principal. The
// API and the console authenticate through it; `ledger token`, `serve`'s
// first admin token and the short-lived tokens the ledger command mints to
// talk to a running server write it.
//
// It owns the token file only: no HTTP, no store. It imports domain for
// its error codes and must never import api, projections or eventstore.
package auth
