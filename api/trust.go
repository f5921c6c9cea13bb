package api

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore/checkpoint"
)

// handleCheckpoint takes a signed checkpoint of the store as it stands
// (every stream's head, the global position) and returns its file: what
// `ledger checkpoint` asks of a running server. The server keeps a copy
// when Config.KeepCheckpoint is set.
func (s *Server) handleCheckpoint(w http.ResponseWriter, r *http.Request, _ Principal) error {
	if _, err := parseQuery(r); err != nil {
		return err
	}
	if err := noBody(r); err != nil {
		return err
	}
	if s.cfg.SigningKey == nil {
		return domain.Errorf(domain.ENOTFOUND, "", "This server has no signing key, so it takes no checkpoints.")
	}
	// Reading a large store takes longer than the server's write timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	c, err := checkpoint.Take(r.Context(), s.cfg.Store, s.cfg.SigningKey, s.cfg.Now())
	if err != nil {
		return err
	}
	if s.cfg.KeepCheckpoint != nil {
		if err := s.cfg.KeepCheckpoint(c); err != nil {
			return err
		}
	}
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(c.Marshal())
	return nil
}

// noBody refuses a request with a body, on a route that takes none.
func noBody(r *http.Request) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return invalidf("", "the body could not be read")
	}
	if len(body) > 0 {
		return invalidf("", "this route takes no body")
	}
	return nil
}

// backupStore is a store that can copy its own file consistently while it
// serves: the embedded store (eventstore/bolt).
type backupStore interface {
	Backup(fn func(size int64, write func(io.Writer) (int64, error)) error) error
}

// handleBackup streams a consistent copy of the embedded store's file,
// taken in one read transaction begun when the request arrives, so that it
// holds every append acknowledged before: what `ledger backup` bundles with
// the data directory's other files while the server holds the store.
func (s *Server) handleBackup(w http.ResponseWriter, r *http.Request, _ Principal) error {
	if _, err := parseQuery(r); err != nil {
		return err
	}
	bs, ok := s.cfg.Store.(backupStore)
	if !ok {
		return domain.Errorf(domain.ENOTFOUND, "", "This server's store is not the embedded one: back KurrentDB up with KurrentDB's own tools.")
	}
	// A large file takes longer than the server's write timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	return bs.Backup(func(size int64, write func(io.Writer) (int64, error)) error {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		w.WriteHeader(http.StatusOK)
		_, _ = write(w) // the status is sent; a short body is the client's to detect
		return nil
	})
}
