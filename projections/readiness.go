package projections

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/imattertraining/ledger/eventstore"
)

// Default backoff and patience of Run (see Options).
const (
	DefaultRetryMin    = 100 * time.Millisecond
	DefaultRetryMax    = 30 * time.Second
	DefaultBehindAfter = 5 * time.Second
)

// Readiness states, as NotReadyError.State gives them.
const (
	// StateBuilding: no models yet; the first build is under way (or Run
	// has not started).
	StateBuilding = "building"
	// StateStarting: models loaded (from a snapshot, say), not yet caught
	// up with the store since Run started.
	StateStarting = "starting"
	// StateStopped: the last run of the subscription failed; Run subscribes
	// again after a backoff.
	StateStopped = "stopped"
	// StateRecovering: subscribed again after a failure, catching up with
	// what was stored meanwhile.
	StateRecovering = "recovering"
	// StateBehind: an event known to be stored has waited longer than
	// Options.BehindAfter to be folded in.
	StateBehind = "behind"
)

// NotReadyError says why the read models cannot answer queries with
// current data now. errors.Is(err, ErrNotReady) holds for it.
type NotReadyError struct {
	// State is one of the State constants.
	State string
	// Since is when the models stopped (stopped, recovering) or fell behind
	// (behind); zero otherwise.
	Since time.Time
	// Failures is how many runs in a row have failed (stopped, recovering).
	Failures int
	// RetryAfter is a fair wait before asking again.
	RetryAfter time.Duration
	// Cause is the failure that stopped the models (stopped, recovering):
	// for logs, not for clients.
	Cause error
}

// Error describes the state, with its cause.
func (e *NotReadyError) Error() string {
	msg := "projections: " + e.Message()
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

// Message describes the state without its cause, in words safe to show
// anyone (a client, a public health check).
func (e *NotReadyError) Message() string {
	switch e.State {
	case StateBuilding:
		return "the read models are still being built"
	case StateStarting:
		return "the read models are catching up with the store after a start"
	case StateStopped:
		return fmt.Sprintf("the read models stopped (%d failures in a row) and are subscribing again", e.Failures)
	case StateRecovering:
		return "the read models are catching up with the store after a failure"
	case StateBehind:
		return "the read models are behind the store"
	}
	return "the read models are not ready"
}

// Is makes errors.Is(err, ErrNotReady) true.
func (e *NotReadyError) Is(target error) bool { return target == ErrNotReady }

// phase is where Run is (see runState).
type phase int

const (
	phaseIdle       phase = iota // Run is not running
	phaseStarting                // subscribed, not yet known to be caught up
	phaseRunning                 // caught up at least once since (re)subscribing
	phaseStopped                 // the last run failed; waiting to retry
	phaseRecovering              // subscribed again after a failure
)

// runState is Run's state, guarded by Projector.notifyMu.
type runState struct {
	phase phase
	// err is why the models stopped (stopped, recovering).
	err error
	// since is when they stopped: the first failure of this outage.
	since    time.Time
	failures int
	retryAt  time.Time
	// target is a position the store held when the subscription was
	// checked (starting, recovering): the models are caught up, and the
	// phase becomes running, once they include it. Zero until checked.
	target  eventstore.Position
	checked bool
}

// behindMark times how long an event known to be stored waits to be
// folded in: target is the newest position known when the models were last
// caught up (or when the previous mark was reached), since when it became
// known. Guarded by Projector.notifyMu.
type behindMark struct {
	since  time.Time
	target eventstore.Position
}

// Ready returns nil when the served models can answer queries with
// current data, and otherwise a *NotReadyError saying why not: not built
// yet, not yet caught up since Run started, stopped by a failure (Run
// subscribes again after a backoff), catching up after one, or behind (an
// event known to be stored has waited longer than Options.BehindAfter).
func (p *Projector) Ready() error {
	cp := p.Checkpoint()
	loaded := p.Loaded()
	now := p.now()
	p.notifyMu.Lock()
	st, mark := p.state, p.behind
	p.notifyMu.Unlock()
	retry := time.Second
	switch {
	case st.phase == phaseStopped:
		return &NotReadyError{State: StateStopped, Since: st.since, Failures: st.failures,
			RetryAfter: max(st.retryAt.Sub(now), time.Second), Cause: st.err}
	case !loaded:
		return &NotReadyError{State: StateBuilding, RetryAfter: retry}
	case st.phase == phaseRecovering:
		return &NotReadyError{State: StateRecovering, Since: st.since, Failures: st.failures, RetryAfter: retry, Cause: st.err}
	case st.phase == phaseStarting, st.phase == phaseIdle:
		return &NotReadyError{State: StateStarting, RetryAfter: retry}
	case !mark.since.IsZero() && cp < mark.target && now.Sub(mark.since) > p.opts.BehindAfter:
		return &NotReadyError{State: StateBehind, Since: mark.since, RetryAfter: retry}
	}
	return nil
}

// WaitReady blocks until Ready says the models are ready, and returns
// nil; or returns Ready's error at once when the models are stopped (Run
// is waiting to subscribe again), and when ctx is done.
func (p *Projector) WaitReady(ctx context.Context) error {
	err := p.waitUntil(ctx, func() bool { return p.Ready() == nil })
	if err == nil {
		return nil
	}
	if rerr := p.Ready(); rerr != nil {
		return rerr
	}
	return err
}

// Failures returns how many times Run's subscription has stopped on an
// error since the Projector was made (each is logged, and retried).
func (p *Projector) Failures() uint64 { return p.failures.Load() }

func (p *Projector) now() time.Time { return p.opts.Now() }

// starting records that Run has begun.
func (p *Projector) starting() {
	p.notifyMu.Lock()
	p.state = runState{phase: phaseStarting}
	p.notifyMu.Unlock()
}

// stopped records that a run failed with err, the failures'th in a row,
// and that the next begins after wait; it wakes every waiter, which now
// gets the failure.
func (p *Projector) stopped(err error, failures int, wait time.Duration) {
	now := p.now()
	p.notifyMu.Lock()
	since := p.state.since
	if p.state.phase != phaseStopped && p.state.phase != phaseRecovering {
		since = now
	}
	p.state = runState{phase: phaseStopped, err: err, since: since, failures: failures, retryAt: now.Add(wait)}
	p.notifyMu.Unlock()
	p.moved()
}

// resubscribed records that Run has subscribed again after a failure.
func (p *Projector) resubscribed() {
	p.notifyMu.Lock()
	if p.state.phase == phaseStopped {
		p.state.phase = phaseRecovering
		p.state.checked = false
	}
	p.notifyMu.Unlock()
	p.moved()
}

// idle records that Run has returned.
func (p *Projector) idle(err error) {
	p.notifyMu.Lock()
	p.state = runState{phase: phaseIdle, err: err}
	p.notifyMu.Unlock()
	p.moved()
}

// checked records that the store, looked at after subscribing, held
// target as the first position after the models' checkpoint (Start: none):
// the models are caught up once they include it.
func (p *Projector) checked(target eventstore.Position) {
	if target != eventstore.Start {
		p.bumpSeen(target)
	}
	p.notifyMu.Lock()
	p.state.target, p.state.checked = target, true
	p.notifyMu.Unlock()
	p.moved()
}

// caughtUp updates the run state and the behind mark after the checkpoint
// moved to cp (or the state changed), and returns what to log. Callers
// hold notifyMu.
func (p *Projector) caughtUp(cp eventstore.Position) (note string) {
	now := p.now()
	if m := &p.behind; !m.since.IsZero() && cp >= m.target {
		if seen := eventstore.Position(p.seen.Load()); seen > cp {
			*m = behindMark{since: now, target: seen}
		} else {
			*m = behindMark{}
		}
	}
	st := &p.state
	if (st.phase == phaseStarting || st.phase == phaseRecovering) && st.checked && cp >= st.target {
		if st.phase == phaseRecovering {
			note = fmt.Sprintf("projections: read models running again after %d failures in a row, %s after they stopped",
				st.failures, now.Sub(st.since).Round(time.Millisecond))
		}
		*st = runState{phase: phaseRunning}
	}
	return note
}

// markBehind starts timing pos, newly known to be stored, if the models
// were caught up until now.
func (p *Projector) markBehind(pos eventstore.Position) {
	cp := p.Checkpoint()
	if pos <= cp {
		return
	}
	p.notifyMu.Lock()
	if p.behind.since.IsZero() {
		p.behind = behindMark{since: p.now(), target: pos}
	}
	p.notifyMu.Unlock()
}

// backoff returns a wait of about d (between half and all of it), so that
// servers that lost the same store do not all come back at once.
func backoff(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}
