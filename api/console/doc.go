// Package console is the ledger's web console: server-rendered HTML pages
// under /ui for admins, reviewers and auditors, and the public directory.
//
// It runs on what the API runs on, handed over by the api package when it
// mounts the console (api.UIDeps): the same tokens and roles, the same read
// models (projections), and the same write path (the api/record
// Recorder the server appends through), so a fact recorded through a form
// is validated, evaluated and stored exactly as one POSTed to /v1. The console holds no business rule of its own: it renders
// what the views give and shows the API's errors beside the fields they
// name.
//
// Pages are html/template, with their templates, style sheet and nothing
// else embedded in the binary; there is no front-end build and no script:
// every page works without JavaScript.
//
// Sign-in takes a token, which stays on the server in a session; the
// browser holds only a random session id in an HttpOnly, SameSite=Strict
// cookie (Secure under TLS). A session ends on sign-out, after an idle
// time, or as soon as its token no longer authenticates (revoked or
// expired): every request checks it again. Every POST carries the
// session's CSRF token and passes net/http's CrossOriginProtection; a
// forged one gets 403 and stores nothing. Every response carries a
// Content-Security-Policy without script, frame-ancestors 'none',
// Referrer-Policy no-referrer and, but for the style sheet and the
// directory signed out, Cache-Control no-store.
//
// No URL holds personal data, only ids: the search form POSTs, the session
// keeps the name searched for, and the results' URLs carry an opaque id in
// its place.
//
// Every request is rate-limited by the API's limiter (api.UIDeps.Limit):
// a signed-in one on its token's bucket, anything else on its address's;
// a sign-in with a bad token costs more (api.UIDeps.SignInFailed).
//
// The console imports api, domain, eventstore and projections; nothing
// imports it but the command that wires the server.
//
// # Caveats
//
// Sessions live in the server's memory: a restart signs everyone out, and
// several servers behind one address need sticky sessions. A session keeps
// the last 20 names searched for in that memory while it lasts. The chart of
// level and standing over time samples at most a few dozen dates and uses
// the organisations as known now.
package console
