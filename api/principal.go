package api

import "github.com/imattertraining/ledger/api/auth"

// The API's roles, principals and token file are package auth's; these
// names are the API's spelling of them, for its handlers and callers.
type (
	// Role is auth.Role: what a token may do.
	Role = auth.Role
	// Principal is auth.Principal: who a request acts for.
	Principal = auth.Principal
	// Tokens is auth.Tokens: the token file the server authenticates with.
	Tokens = auth.Tokens
)

// Roles, as auth names them.
const (
	RoleAdmin    = auth.RoleAdmin
	RoleReviewer = auth.RoleReviewer
	RoleAuditor  = auth.RoleAuditor
)

// Roles lists every role.
var Roles = auth.Roles
