package api

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/imattertraining/ledger/api/record"
	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/eventstore/checkpoint"
	"github.com/imattertraining/ledger/eventstore/keystore"
	"github.com/imattertraining/ledger/projections"
)

// DefaultMaxBodyBytes is the largest request body accepted (1 MiB).
const DefaultMaxBodyBytes = 1 << 20

// Config is what a Server is built from. Store, Projector and Tokens are
// required; the rest have defaults.
type Config struct {
	Store     eventstore.Store
	Projector *projections.Projector
	Tokens    *Tokens
	// Keys seal practitioners' personal data before it is stored, and
	// erasure deletes them (see eventstore/keystore). Pass the same store
	// as the Projector's Options.Keys. Nil: personal data is stored as
	// given, and erasure fails.
	Keys *keystore.Keys
	// Logger receives one line per request and the detail of internal
	// errors; never a token, a body or personal data. Default: discard.
	Logger *slog.Logger
	// Now is the clock: today's date for as_of and occurred_on checks, and
	// the time the write path evaluates decisions at. Default time.Now.
	Now func() time.Time
	// RateLimit is each principal's sustained request rate per second, and
	// RateBurst the burst above it; RateLimit 0 turns limiting off.
	RateLimit float64
	RateBurst int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client, for the rate limit of requests without a valid token;
	// from any other peer the header is ignored. See ParseTrustedProxies.
	TrustedProxies []netip.Prefix
	// MaxBodyBytes caps request bodies (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Registry receives the server's Prometheus metrics; nil: a fresh
	// registry of its own, served at /metrics.
	Registry *prometheus.Registry
	// ReadYourWritesWait bounds how long a list query waits for the read
	// models to be built (just after a start) and to include this server's
	// latest append (default 2s).
	ReadYourWritesWait time.Duration
	// SigningKey signs the checkpoints of POST /v1/checkpoints; without
	// one the route answers 404.
	SigningKey ed25519.PrivateKey
	// KeepCheckpoint, when set, is given every checkpoint the API takes
	// before it is returned (the server keeps copies in its data directory).
	KeepCheckpoint func(*checkpoint.Checkpoint) error
	// UI, when set, builds the web console, served under /ui (and / redirects
	// there); see package api/console.
	UI UIFunc
}

// Server is the ledger's HTTP API. Create it with NewServer, then Open,
// then Close. Safe for concurrent use.
type Server struct {
	cfg      Config
	recorder *Recorder
	metrics  *metrics
	limiter  *limiter
	handler  http.Handler
	table    []route
	// patterns are the table's route patterns, the only ones a metric
	// label may carry.
	patterns map[string]bool

	http     *http.Server
	ln       net.Listener
	serveErr chan error

	// lastPos is the global position of the latest append this server
	// acknowledged: list queries wait for the read models to reach it.
	lastPos atomic.Uint64

	projCancel context.CancelFunc
	projDone   chan error
	// forgetTokens ends the Remember of the token file Open began.
	forgetTokens func()
	closeOnce    sync.Once

	// rebuild is the online rebuild of the read models, if any.
	rebuild rebuildJob

	// disk follows whether the store's disk is full, and damage the first
	// damage a request met in the store (see /healthz).
	disk   diskState
	damage damageSeen
}

// NewServer builds a Server from cfg.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Projector == nil || cfg.Tokens == nil {
		return nil, errors.New("api: Config needs a Store, a Projector and Tokens")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.ReadYourWritesWait <= 0 {
		cfg.ReadYourWritesWait = 2 * time.Second
	}
	s := &Server{cfg: cfg}
	s.metrics = newMetrics(cfg.Registry, cfg.Projector)
	cfg.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ledger_store_disk_full",
		Help: "1 while appends fail for want of disk space (since the last one that did, until one succeeds), else 0.",
	}, func() float64 {
		if s.disk.full.Load() {
			return 1
		}
		return 0
	}))
	s.recorder = NewRecorder(cfg.Store, cfg.Projector.Views, cfg.Now)
	s.recorder.UseKeys(cfg.Keys)
	s.recorder.Observe(func(typ string, d time.Duration, err error) {
		s.metrics.observeAppend(typ, d, err)
		s.disk.note(err, s.cfg.Logger, s.cfg.Now())
	})
	s.recorder.UseMembers(record.MembersFrom(cfg.Projector, s.today, cfg.ReadYourWritesWait))
	// A licence_id names one licence in the whole ledger (rulebook v1.1): a
	// grant looks for it in the licence register, once the models hold
	// this server's own appends.
	s.recorder.UseLicenceGrants(func(ctx context.Context, licenceID, stream string) ([]uuid.UUID, error) {
		if err := s.readYourWrites(ctx); err != nil {
			return nil, err
		}
		return cfg.Projector.LicenceGrants(ctx, licenceID, stream, domain.Date{}, time.Time{})
	})
	s.limiter = newLimiter(cfg.RateLimit, cfg.RateBurst, cfg.Now)
	s.table = s.routes()
	s.patterns = make(map[string]bool, len(s.table))
	for _, rt := range s.table {
		s.patterns[rt.pattern] = true
	}
	s.handler = s.router()
	return s, nil
}

// Recorder returns the write path the server appends through.
func (s *Server) Recorder() *Recorder { return s.recorder }

// Handler returns the server's HTTP handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.handler }

// router builds the chi router from the routing table.
func (s *Server) router() http.Handler {
	r := chi.NewRouter()
	r.Use(s.observe, s.recoverer)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		Error(w, r, domain.Errorf(domain.ENOTFOUND, "", "No route %s %s; see /v1/openapi.json.", r.Method, r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		Error(w, r, &methodNotAllowedError{method: r.Method, path: r.URL.Path})
	})
	for _, rt := range s.table {
		r.Method(rt.method, rt.pattern, s.guard(rt))
	}
	if s.cfg.UI != nil {
		s.mountUI(r)
	}
	return r
}

// guard wraps a route's handler with what every route needs, in order:
// the body limit, authentication, the rate limit, then authorisation.
func (s *Server) guard(rt route) http.Handler {
	rm := s.metrics.route(rt.method, rt.pattern)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sw := infoFrom(w); sw != nil {
			sw.route = rm
		}
		if r.ContentLength < 0 || r.ContentLength > s.cfg.MaxBodyBytes {
			// A body of a declared length within the limit cannot pass
			// it (net/http reads no further): only the others need a
			// reader to stop them.
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		}
		p, authErr := s.authenticate(r)
		if authErr == nil && p.Name != "" {
			setPrincipal(w, p.Name)
		}
		// Health and metrics are never limited: a flood of bad requests
		// must not make a load balancer or a scraper think the server down.
		if s.limiter.enabled() && !rt.access.unlimited {
			key := s.limitKey(r, p)
			if err := s.limiter.allow(key); err != nil {
				Error(w, r, err)
				return
			}
			if sw := infoFrom(w); sw != nil {
				defer func() { s.limiter.charge(key, sw.bytes+sw.work) }()
			}
		}
		if !rt.access.public {
			w.Header()["Cache-Control"] = cachePrivateValue
			if authErr != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="ledger"`)
				Error(w, r, authErr)
				return
			}
			if !rt.access.allows(p.Role) {
				Error(w, r, domain.Errorf(domain.EFORBIDDEN, "", "The %s role may not %s %s.", p.Role, rt.method, rt.pattern))
				return
			}
		}
		if err := rt.handle(w, r, p); err != nil {
			s.damage.note(err, s.cfg.Logger, s.cfg.Now())
			Error(w, r, err)
		}
	})
}

// authenticate returns the principal of the request's bearer token. No
// token gives the zero Principal and an unauthorized error.
func (s *Server) authenticate(r *http.Request) (Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return Principal{}, domain.Errorf(domain.EUNAUTHORIZED, "", "A bearer token is required: Authorization: Bearer <token>.")
	}
	scheme, token, ok := cutSpace(h)
	if !ok || !equalFold(scheme, "Bearer") || token == "" {
		return Principal{}, domain.Errorf(domain.EUNAUTHORIZED, "", "The Authorization header must be \"Bearer <token>\".")
	}
	return s.cfg.Tokens.Authenticate(token)
}

func cutSpace(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

// methodNotAllowedError is a known path asked with the wrong method.
type methodNotAllowedError struct{ method, path string }

func (e *methodNotAllowedError) Error() string {
	return fmt.Sprintf("%s is not allowed on %s; see /v1/openapi.json.", e.method, e.path)
}

// recoverer turns a panic into a 500 with the stack in the log, so one bad
// request cannot take the server down.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				loggerFrom(w).Error("panic", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				Error(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// Open starts the read models and listens on addr (host:port; port 0
// picks a free one). Serving starts at once, in the background.
func (s *Server) Open(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("api: listen %s: %w", addr, err)
	}
	s.ln = refuseAmbiguousFraming(ln)
	if sc, ok := s.cfg.Store.(eventstore.SelfChecker); ok {
		if err := sc.Damage(); err != nil {
			// Served degraded rather than refused: what the damage does not
			// touch still answers, and /healthz and /v1/verify say what is
			// wrong.
			s.cfg.Logger.Error("the store is damaged: reads and appends that touch the damage fail and /healthz answers 503; run ledger verify, and restore from a backup",
				slog.String("error", err.Error()))
		}
	}
	s.catchUpTarget()
	// Every request authenticates: trusting the last reading of the token
	// file for a moment spares each a stat of it, and a revocation by
	// `ledger token` still takes effect within 100 ms.
	s.forgetTokens = s.cfg.Tokens.Remember()
	ctx, cancel := context.WithCancel(context.Background())
	s.projCancel = cancel
	s.projDone = make(chan error, 1)
	go func() {
		// Run retries every failure itself; it returns only when asked to
		// stop or when the store is closed under it.
		err := s.cfg.Projector.Run(ctx)
		if ctx.Err() == nil {
			s.cfg.Logger.Error("the read models stopped for good: lists and decisions answer 503 until a restart", slog.String("error", err.Error()))
		}
		s.projDone <- err
	}()
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
	s.serveErr = make(chan error, 1)
	go func() { s.serveErr <- s.http.Serve(s.ln) }()
	return nil
}

// Addr returns the address the server listens on, once Open has run.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// URL returns the server's base URL, e.g. http://127.0.0.1:8080.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Close shuts the server down gracefully: it stops accepting requests,
// lets those in flight (appends included) finish until ctx is done, lets
// the read models take in every acknowledged append (until ctx is done),
// then stops them. The store is the caller's to close afterwards.
func (s *Server) Close(ctx context.Context) error {
	var err error
	s.closeOnce.Do(func() {
		if s.http != nil {
			err = s.http.Shutdown(ctx)
			if serr := <-s.serveErr; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
				err = serr
			}
		}
		s.rebuild.stop()
		if s.forgetTokens != nil {
			s.forgetTokens()
		}
		if s.projCancel != nil {
			// Let the read models take in what was acknowledged, so that the
			// snapshot taken as they stop holds it and the next start has
			// nothing to catch up (bounded by ctx).
			if pos := eventstore.Position(s.lastPos.Load()); pos != eventstore.Start {
				_ = s.cfg.Projector.WaitFor(ctx, pos)
			}
			s.projCancel()
			if perr := <-s.projDone; perr != nil && !errors.Is(perr, context.Canceled) && err == nil {
				err = fmt.Errorf("api: read models: %w", perr)
			}
		}
	})
	return err
}

// Err returns a channel that yields when serving stops on its own (the
// listener failed), for the command to exit on.
func (s *Server) Err() <-chan error { return s.serveErr }

// readYourWrites waits, boundedly, until the read models are built (a
// query just after start would otherwise find none), include this server's
// latest acknowledged append (so that a client listing just after it wrote
// sees its write) and are ready (caught up with the store, and moving). It
// returns an error wrapping projections.ErrNotReady (a 503 with
// Retry-After) when they are not within ReadYourWritesWait, and at once
// when they have stopped: a query is never answered from stale models.
func (s *Server) readYourWrites(ctx context.Context) error {
	wctx, cancel := context.WithTimeout(ctx, s.cfg.ReadYourWritesWait)
	defer cancel()
	proj := s.cfg.Projector
	if pos := eventstore.Position(s.lastPos.Load()); pos != 0 && proj.WaitFor(wctx, pos) != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := proj.Ready(); err != nil {
			return err
		}
		return &projections.NotReadyError{State: projections.StateBehind, RetryAfter: time.Second}
	}
	if err := proj.WaitReady(wctx); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return err
	}
	return nil
}

// catchUpTarget makes queries wait, as for this server's own appends, for
// the read models to include everything the store holds at start: models
// loaded from a snapshot may be behind it (a snapshot is taken every so
// many events, and a killed server takes none), and Run catches up in the
// background. It reads only the events after the snapshot. Models not yet
// loaded are built from the whole store before queries are answered.
func (s *Server) catchUpTarget() {
	if !s.cfg.Projector.Loaded() {
		return
	}
	last := s.cfg.Projector.Checkpoint()
	for e, err := range s.cfg.Store.ReadAll(context.Background(), last) {
		if err != nil {
			s.cfg.Logger.Warn("reading the store's last position failed; queries just after start may not wait for the read models to catch up", slog.String("error", err.Error()))
			return
		}
		last = e.Position
	}
	if last != eventstore.Start {
		s.acknowledged(last)
	}
}

// acknowledged notes an append's position for readYourWrites.
func (s *Server) acknowledged(pos eventstore.Position) {
	for {
		cur := s.lastPos.Load()
		if uint64(pos) <= cur || s.lastPos.CompareAndSwap(cur, uint64(pos)) {
			return
		}
	}
}
