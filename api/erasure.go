package api

import (
	"context"
	"net/http"

	"github.com/imattertraining/ledger/projections"
)

// erasureRequest is the body of POST /v1/practitioners/{id}/erasure.
type erasureRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) handleErasure(w http.ResponseWriter, r *http.Request, p Principal) error {
	id, err := pathID(r, "id", "practitioner")
	if err != nil {
		return err
	}
	if _, err := parseQuery(r); err != nil {
		return err
	}
	var req erasureRequest
	if err := readJSON(r, &req, "reason"); err != nil {
		return err
	}
	out, err := s.recorder.Erase(r.Context(), p, projections.PractitionerStream(id), req.Reason)
	if err != nil {
		return err
	}
	s.acknowledged(out.Position)
	// The read models' snapshot holds the name until it is rewritten: the
	// projector does so when it takes the erasure; wait for that, and
	// write it once more, so that the name has left every file when the
	// admin is told it is erased.
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ReadYourWritesWait)
	defer cancel()
	if err := s.cfg.Projector.WaitFor(ctx, out.Position); err != nil {
		s.cfg.Logger.Warn("erasure recorded; the read models have not taken it in yet", "event_id", out.EventID, "err", err)
	} else if err := s.cfg.Projector.Snapshot(); err != nil {
		s.cfg.Logger.Error("erasure recorded; the read models' snapshot could not be rewritten", "event_id", out.EventID, "err", err)
	}
	if out.Warning != "" {
		s.cfg.Logger.Warn("personal data erased; events stored before sealing still hold it in plaintext", "event_id", out.EventID, "plaintext_events", len(out.PlaintextEvents))
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}
