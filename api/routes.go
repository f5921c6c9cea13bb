package api

import (
	_ "embed"
	"net/http"
	"slices"
)

// access says who may call a route. The zero value admits nobody: a route
// is denied by default and opened only by naming its roles here.
type access struct {
	public bool
	// unlimited routes are never rate-limited: health and metrics must
	// answer however many bad requests arrive.
	unlimited bool
	roles     []Role
}

// allows reports whether a principal with role may call the route.
func (a access) allows(role Role) bool { return slices.Contains(a.roles, role) }

var (
	public     = access{public: true}
	probe      = access{public: true, unlimited: true}
	adminOnly  = access{roles: []Role{RoleAdmin}}
	reviewOnly = access{roles: []Role{RoleReviewer}}
	writers    = access{roles: []Role{RoleAdmin, RoleReviewer}} // the handler narrows reviewers to DecisionReviewed
	auditors   = access{roles: []Role{RoleAdmin, RoleAuditor}}
	anyRole    = access{roles: []Role{RoleAdmin, RoleReviewer, RoleAuditor}}
)

// handlerFunc is a route's handler: it writes a success response, or
// returns an error for Error to write.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p Principal) error

// route is one line of the routing table.
type route struct {
	method  string
	pattern string
	access  access
	handle  handlerFunc
}

// routes is the routing table and the permission table in one: every
// route the server serves, with the roles granted on it. The OpenAPI test
// checks it against openapi.json.
func (s *Server) routes() []route {
	return []route{
		{"POST", "/v1/practitioners", adminOnly, s.handleRegisterPractitioner},
		{"GET", "/v1/practitioners", anyRole, s.handleListPractitioners},
		{"GET", "/v1/practitioners/{id}", anyRole, s.handleGetPractitioner},
		{"GET", "/v1/practitioners/{id}/history", anyRole, s.handlePractitionerHistory},
		{"POST", "/v1/practitioners/{id}/events", writers, s.handlePractitionerEvent},
		{"POST", "/v1/practitioners/{id}/erasure", adminOnly, s.handleErasure},
		{"POST", "/v1/organisations", adminOnly, s.handleRegisterOrganisation},
		{"GET", "/v1/organisations/{id}/history", anyRole, s.handleOrganisationHistory},
		{"POST", "/v1/organisations/{id}/events", writers, s.handleOrganisationEvent},
		{"GET", "/v1/licences", anyRole, s.handleLicences},
		{"GET", "/v1/decisions", anyRole, s.handleListDecisions},
		{"GET", "/v1/decisions/{event_id}", anyRole, s.handleGetDecision},
		{"POST", "/v1/decisions/{event_id}/reviews", reviewOnly, s.handleReview},
		{"GET", "/v1/events", auditors, s.handleEvents},
		{"GET", "/v1/verify", auditors, s.handleVerify},
		{"POST", "/v1/checkpoints", auditors, s.handleCheckpoint},
		{"GET", "/v1/admin/backup", adminOnly, s.handleBackup},
		{"POST", "/v1/admin/rebuild", adminOnly, s.handleStartRebuild},
		{"GET", "/v1/admin/rebuild", adminOnly, s.handleRebuildStatus},
		{"GET", "/v1/directory", public, s.handleDirectory},
		{"GET", "/v1/openapi.json", public, s.handleOpenAPI},
		{"GET", "/healthz", probe, s.handleHealthz},
		{"GET", "/metrics", probe, s.handleMetrics},
	}
}

// openAPI is the OpenAPI 3.1 description of every route, served as is.
//
//go:embed openapi.json
var openAPI []byte

func (s *Server) handleOpenAPI(w http.ResponseWriter, _ *http.Request, _ Principal) error {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
	return nil
}
