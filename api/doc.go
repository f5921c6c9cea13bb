// Package api is the ledger's HTTP interface.
//
// It owns the routes under /v1 (JSON in and out, on go-chi/chi), which
// role may call each (the roles and the token file are package api/auth's),
// the mapping of error codes to HTTP statuses
// (one table, one function: Error), request logs, Prometheus metrics,
// per-principal rate limits and the OpenAPI description. It records
// through the Recorder of package api/record (the write path, which
// `ledger import` and the console share) and maps the Recorder's domain
// and store errors to HTTP statuses here, in Error.
//
// It imports domain, eventstore (and its checkpoint, export and keystore
// packages), projections, api/auth and api/client (for the wire types it
// shares with clients); it must not import cmd or a store
// backend (eventstore/bolt, eventstore/kurrentdb): the command wires a
// backend in. Its sub-packages: api/auth (roles and the token file),
// api/record (the write path and import staging, which must not import
// net/http or chi),
// api/client (the typed Go client, which must not import api), api/console
// (the web console). deps_test.go checks these rules.
//
// # Caveats
//
//   - Every route's roles are granted in the routing table (routes.go); a
//     route that is not in it is not served, and one with no roles admits
//     nobody.
//   - List queries wait (at most Config.ReadYourWritesWait) for the read
//     models to include this server's latest append, so a client reads its
//     own writes, and, after a start, everything the store held then (a
//     snapshot of the models may be behind it); appends from another
//     process are seen once the subscription delivers them. A graceful
//     stop lets the models take in every acknowledged append before their
//     snapshot. Just after a start they wait, as long,
//     for the models' first build, and past that answer 503 with
//     Retry-After; so does an organisation's decision, whose evaluation
//     needs the members the models list.
//   - Request logs carry the method, route pattern, status, duration and
//     the token's name: never the path's ids, the query, a body or a token.
package api
