package api

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/imattertraining/ledger/api/client"
	"github.com/imattertraining/ledger/domain"
)

// RebuildStatus is the state of a running server's latest online rebuild
// of its read models (POST /v1/admin/rebuild starts one). Its one
// definition is the client's, so that the two cannot drift.
type RebuildStatus = client.RebuildStatus

// rebuildJob runs at most one online rebuild at a time. The projector
// builds the new models beside the served ones and swaps them in whole, so
// queries are answered throughout.
type rebuildJob struct {
	mu     sync.Mutex
	status RebuildStatus
	cancel context.CancelFunc
	done   chan struct{}
}

// start begins a rebuild with run unless one is running. run reports
// progress through the function it is given.
func (j *rebuildJob) start(now time.Time, run func(ctx context.Context, progress func(done, total uint64)) error, onErr func(error)) (RebuildStatus, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.status.State == "running" {
		return j.status, false
	}
	ctx, cancel := context.WithCancel(context.Background())
	started := now.UTC()
	j.status = RebuildStatus{State: "running", Phase: "reading", StartedAt: &started}
	j.cancel = cancel
	j.done = make(chan struct{})
	go func() {
		defer close(j.done)
		defer cancel()
		err := run(ctx, func(done, total uint64) {
			j.mu.Lock()
			defer j.mu.Unlock()
			j.status.EventsDone, j.status.EventsTotal = done, total
			if total > 0 {
				j.status.Phase = "folding"
			}
		})
		j.mu.Lock()
		defer j.mu.Unlock()
		finished := time.Now().UTC()
		j.status.FinishedAt = &finished
		j.status.Phase = ""
		if err != nil {
			j.status.State = "failed"
			j.status.Error = "the rebuild failed; the server's log has the detail, and the previous read models are still served"
			onErr(err)
			return
		}
		j.status.State = "done"
	}()
	return j.status, true
}

// get returns the current status.
func (j *rebuildJob) get() RebuildStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.status.State == "" {
		return RebuildStatus{State: "idle"}
	}
	return j.status
}

// stop cancels a running rebuild and waits for it to end.
func (j *rebuildJob) stop() {
	j.mu.Lock()
	cancel, done := j.cancel, j.done
	j.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// handleStartRebuild starts an online rebuild of the read models: the new
// models are built from the whole store beside the served ones, caught up,
// and swapped in whole (after a rulebook or projection change, say). 202
// with the status; 409 while one is running. The body must be empty.
func (s *Server) handleStartRebuild(w http.ResponseWriter, r *http.Request, _ Principal) error {
	if _, err := parseQuery(r); err != nil {
		return err
	}
	if err := noBody(r); err != nil {
		return err
	}
	st, started := s.rebuild.start(s.cfg.Now(), s.cfg.Projector.Rebuild, func(err error) {
		s.cfg.Logger.Error("online rebuild failed", "err", err)
	})
	if !started {
		return domain.Errorf(domain.ECONFLICT, "", "A rebuild is already running (started %s).", st.StartedAt.Format(time.RFC3339))
	}
	s.cfg.Logger.Info("online rebuild started")
	writeJSON(w, http.StatusAccepted, st)
	return nil
}

// handleRebuildStatus reports the latest online rebuild.
func (s *Server) handleRebuildStatus(w http.ResponseWriter, r *http.Request, _ Principal) error {
	if _, err := parseQuery(r); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.rebuild.get())
	return nil
}
