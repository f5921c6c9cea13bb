package api

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/projections"
)

// health is the body of /healthz.
type health struct {
	// Status is "ok"; "degraded" when the server answers but something is
	// wrong that a client may meet (a full disk refuses appends, reads are
	// served); "unavailable" (with status 503) when the server should not
	// be sent queries: its read models are behind or stopped, or its store
	// is damaged.
	Status string `json:"status"`
	// Checkpoint is the global position the read models have reached, and
	// Lag how far they trail the newest event known to be stored.
	Checkpoint eventstore.Position `json:"checkpoint"`
	Lag        uint64              `json:"lag"`
	Time       string              `json:"time"`
	// Problems names what is wrong, one line per component; empty when ok.
	Problems []problem `json:"problems,omitempty"`
}

// problem is one thing /healthz reports wrong. Its message is for an
// operator and safe to show anyone: the detail is in the server's log.
type problem struct {
	// Component is "store" or "read_models".
	Component string `json:"component"`
	// State is a word a monitor can match: disk_full, damaged (store);
	// building, stopped, recovering, behind (read models).
	State   string `json:"state"`
	Message string `json:"message"`
	// Since is when it began (RFC 3339), when known.
	Since string `json:"since,omitempty"`
	// unavailable: the server should not be sent queries while it lasts.
	unavailable bool
	retryAfter  int
}

// handleHealthz answers whether this server can serve: 200 when it can
// ("ok", or "degraded" naming what it refuses), 503 with Retry-After and
// the problems when it cannot answer queries from current read models, so
// that a load balancer or an orchestrator's readiness probe sends requests
// elsewhere meanwhile. It reads no store (only what the server and the read
// models already know), so that it stays cheap enough to poll and to
// benchmark against.
func (s *Server) handleHealthz(w http.ResponseWriter, _ *http.Request, _ Principal) error {
	h := health{
		Status: "ok", Checkpoint: s.cfg.Projector.Checkpoint(), Lag: s.cfg.Projector.Lag(),
		Time: s.cfg.Now().UTC().Format(time.RFC3339Nano),
	}
	status, retry := http.StatusOK, 0
	for _, p := range s.problems() {
		h.Problems = append(h.Problems, p)
		if p.unavailable {
			status, retry = http.StatusServiceUnavailable, max(retry, p.retryAfter)
		}
	}
	switch {
	case status != http.StatusOK:
		h.Status = "unavailable"
		w.Header().Set("Retry-After", strconv.Itoa(max(retry, 1)))
	case len(h.Problems) > 0:
		h.Status = "degraded"
	}
	writeJSON(w, status, h)
	return nil
}

// problems returns what is wrong with the server now.
func (s *Server) problems() []problem {
	var out []problem
	if p, ok := s.disk.problem(); ok {
		out = append(out, p)
	}
	if sc, ok := s.cfg.Store.(eventstore.SelfChecker); ok {
		if err := sc.Damage(); err != nil {
			out = append(out, problem{
				Component: "store", State: "damaged", unavailable: true, retryAfter: 60,
				Message: "The store found itself damaged when it opened (" + err.Error() + "); reads and appends that touch the damage fail. Run ledger verify, and restore from a backup.",
			})
		}
	}
	if p, ok := s.damage.problem(); ok {
		out = append(out, p)
	}
	var nr *projections.NotReadyError
	if err := s.cfg.Projector.Ready(); errors.As(err, &nr) {
		p := problem{
			Component: "read_models", State: nr.State, Message: nr.Message() + "; lists and decisions answer 503 meanwhile.",
			unavailable: true, retryAfter: int(math.Ceil(nr.RetryAfter.Seconds())),
		}
		if !nr.Since.IsZero() {
			p.Since = rfc3339(nr.Since)
		}
		out = append(out, p)
	}
	return out
}

// rfc3339 formats t for a problem's Since.
func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// diskState follows whether the store's disk was full at the last append,
// so that a full disk is logged once when appends start failing for it and
// once when they succeed again, rather than on every request it refuses
// (each still gets its 503). Safe for concurrent use.
type diskState struct {
	full    atomic.Bool // the fast path: every append asks
	mu      sync.Mutex
	since   time.Time
	refused int
}

// note takes the outcome of one append.
func (d *diskState) note(err error, log *slog.Logger, now time.Time) {
	noSpace := errors.Is(err, eventstore.ErrNoSpace)
	if !noSpace && (err != nil || !d.full.Load()) {
		// Another failure says nothing about space; a success while
		// there is space changes nothing.
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case noSpace && !d.full.Load():
		d.full.Store(true)
		d.since, d.refused = now, 1
		log.Error("the store's disk is full: appends are refused with 503 until space is freed (logged once; reads are still served)",
			slog.String("error", err.Error()))
	case noSpace:
		d.refused++
	case err == nil && d.full.Load():
		d.full.Store(false)
		log.Info("the store's disk has room again: appends are stored again",
			slog.Int("appends_refused", d.refused), slog.Duration("full_for", now.Sub(d.since)))
	}
}

// problem reports a full disk, if the last append found one.
func (d *diskState) problem() (problem, bool) {
	if !d.full.Load() {
		return problem{}, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return problem{
		Component: "store", State: "disk_full", Since: rfc3339(d.since),
		Message: "The store's disk is full: appends are refused (503) until space is freed; reads are served.",
	}, true
}

// damageSeen remembers the first damage in the store that a request met
// while serving (damage found at open is the store's Damage), so that
// /healthz reports it from then on and the log has it once. Safe for
// concurrent use.
type damageSeen struct {
	seen  atomic.Bool // the fast path: every failed request asks
	mu    sync.Mutex
	since time.Time
}

// note takes a request's error.
func (d *damageSeen) note(err error, log *slog.Logger, now time.Time) {
	if d.seen.Load() || !errors.Is(err, eventstore.ErrCorrupt) {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen.Load() {
		return
	}
	d.since = now
	d.seen.Store(true)
	log.Error("the store is damaged: a request met the damage while serving, and /healthz answers 503 from now on (logged once); run ledger verify, and restore from a backup",
		slog.String("error", err.Error()))
}

// problem reports the damage met, if any.
func (d *damageSeen) problem() (problem, bool) {
	if !d.seen.Load() {
		return problem{}, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return problem{
		Component: "store", State: "damaged", Since: rfc3339(d.since), unavailable: true, retryAfter: 60,
		Message: "A request met damage in the store while serving; reads and appends that touch it fail. Run ledger verify, and restore from a backup.",
	}, true
}
