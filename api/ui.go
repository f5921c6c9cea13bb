package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/imattertraining/ledger/api/record"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/projections"
)

// UIDeps is what the web console gets from the server it is mounted in: the
// same write path, read models, tokens and clock as the API.
type UIDeps struct {
	Recorder  *record.Recorder
	Projector *projections.Projector
	Tokens    *Tokens
	Store     eventstore.Store
	Now       func() time.Time
	Logger    *slog.Logger
	// Acknowledged tells the server of an append the console made, so that
	// the API's list queries wait for the read models to include it too.
	Acknowledged func(eventstore.Position)
	// ReadYourWrites waits, boundedly, until the read models are built,
	// ready and include every append the server acknowledged, as the API's
	// list queries do; its error (not ready) is the query's answer.
	ReadYourWrites func(context.Context) error
	// Secure reports whether the browser reached the server over TLS:
	// directly, or through a trusted proxy (Config.TrustedProxies) that
	// says so in X-Forwarded-Proto. The session cookie is Secure then.
	Secure func(*http.Request) bool
	// Limit takes one request from the rate-limit bucket the API would
	// draw on: the signed-in session's principal p's (the same bucket as
	// the API's requests with its token), or for the zero Principal the
	// client address's. Its error (a 429; Retry-After is set) refuses the
	// request; otherwise done, called once the response is written,
	// charges what its size cost beyond that, as the API does.
	Limit func(w http.ResponseWriter, r *http.Request, p Principal) (done func(), err error)
	// SignInFailed charges a sign-in whose token did not authenticate to
	// the client address's bucket, several requests' worth: a brake on
	// guessing tokens.
	SignInFailed func(*http.Request)
}

// UIFunc builds the web console's handler, mounted under /ui.
type UIFunc func(UIDeps) http.Handler

// mountUI mounts the console under /ui and redirects / to it.
func (s *Server) mountUI(r interface {
	Mount(string, http.Handler)
	Get(string, http.HandlerFunc)
}) {
	h := s.cfg.UI(UIDeps{
		Recorder: s.recorder, Projector: s.cfg.Projector, Tokens: s.cfg.Tokens, Store: s.cfg.Store,
		Now: s.cfg.Now, Logger: s.cfg.Logger, Acknowledged: s.acknowledged, ReadYourWrites: s.readYourWrites, Secure: s.viaTLS,
		Limit: s.limitUI, SignInFailed: s.signInFailed,
	})
	r.Mount("/ui", h)
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/", http.StatusSeeOther)
	})
}

// viaTLS reports whether r came over TLS, to this server or to a trusted
// proxy in front of it; X-Forwarded-Proto from any other peer is ignored.
func (s *Server) viaTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !s.trusted(ap.Addr().Unmap()) {
		return false
	}
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto")), "https")
}
