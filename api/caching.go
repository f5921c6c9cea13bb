package api

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/projections"
)

// HTTP caching. Every read of a practitioner, a history, a decision or a
// list carries a strong ETag derived from what the response is computed
// from, so that a client or a private cache revalidates with If-None-Match
// and gets 304 with no body while nothing it depends on has changed:
//
//   - a practitioner view: the rulebook version, as_of, known_at, the
//     stream's revision and the revision of each organisation folded into
//     it, and whether the personal data is erased (projections'
//     PractitionerView.Tag);
//   - a history: the stream, known_at, the number of events shown and the
//     hash of the last (which chains every one before it), and erasure;
//   - a decision and every list: the global position the read models have
//     reached, the date the answer is for and the rulebook version; a
//     decision whose re-evaluation read an event past that position from
//     the store is sent untagged (fromModels).
//
// Responses to authenticated routes say Cache-Control: private, no-cache
// (set in guard): a shared cache must never hold them, and a private one
// must revalidate each time. The public directory may be cached for a
// minute by anyone.

const (
	cachePrivate   = "private, no-cache"
	cacheDirectory = "public, max-age=60"
)

// cachePrivateValue is the Cache-Control header of every authenticated
// response, one value shared by all (net/http only reads it).
var cachePrivateValue = []string{cachePrivate}

// entityTag hashes the parts a response is derived from into a strong
// entity tag, quoted as HTTP wants it.
func entityTag(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return `"` + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18]) + `"`
}

// notModified sets the ETag of the response to tag and, when the request's
// If-None-Match names it (or is *), answers 304 with no body and reports
// true. If-None-Match compares weakly (RFC 9110, 13.1.2): a W/ prefix on
// the client's copy is ignored.
func notModified(w http.ResponseWriter, r *http.Request, tag string) bool {
	w.Header().Set("ETag", tag)
	for _, h := range r.Header.Values("If-None-Match") {
		for c := range strings.SplitSeq(h, ",") {
			c = strings.TrimPrefix(strings.TrimSpace(c), "W/")
			if c == "*" || c == tag {
				w.WriteHeader(http.StatusNotModified)
				return true
			}
		}
	}
	return false
}

// modelsTag is the entity tag of an answer computed from the read models
// at checkpoint pos, for date on (empty when none applies).
func (s *Server) modelsTag(kind string, pos eventstore.Position, on string) string {
	return entityTag(kind, s.cfg.Projector.Rulebooks().Current().Version, strconv.FormatUint(uint64(pos), 10), on)
}

// fromModels answers a read computed from the read models: it answers 304
// at once when the client holds the answer for the models' current
// checkpoint, else writes what compute returns, tagged only when the
// models did not move while it ran and the answer read nothing from the
// store beyond them (a decision's re-evaluation reads the store: see
// readBeyond). Else the tag could name a state the answer is not from.
func (s *Server) fromModels(w http.ResponseWriter, r *http.Request, kind, on string, compute func() (any, error)) error {
	before := s.cfg.Projector.Checkpoint()
	tag := s.modelsTag(kind, before, on)
	if notModified(w, r, tag) {
		return nil
	}
	v, err := compute()
	if err != nil {
		w.Header().Del("ETag")
		return err
	}
	if s.cfg.Projector.Checkpoint() != before || readBeyond(v, before) {
		w.Header().Del("ETag")
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// readBeyond reports whether answer v read an event from the store past
// the models' checkpoint pos.
func readBeyond(v any, pos eventstore.Position) bool {
	r, ok := v.(interface{ ReadTo() eventstore.Position })
	return ok && r.ReadTo() > pos
}

// historyTag is the entity tag of a stream's history as known at knownAt:
// the last event's hash chains every event before it, and erasure changes
// how personal data reads without a new event in the cut.
func (s *Server) historyTag(stream string, knownAt time.Time, items []projections.HistoryItem) string {
	known := "now"
	if !knownAt.IsZero() {
		known = knownAt.UTC().Format(time.RFC3339Nano)
	}
	last := ""
	if n := len(items); n > 0 {
		last = items[n-1].Hash
	}
	_, erased := s.cfg.Keys.Erased(stream)
	return entityTag("history", stream, known, strconv.Itoa(len(items)), last, strconv.FormatBool(erased))
}
