package api

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
	"github.com/imattertraining/ledger/projections"
)

// Error codes the api adds to domain's: failures of the transport itself,
// not of the facts proposed.
const (
	// ETOOLARGE: the request body is over the size limit (413).
	ETOOLARGE = "too_large"
	// ERATELIMITED: the principal sent more requests than its rate allows (429).
	ERATELIMITED = "rate_limited"
	// EUNAVAILABLE: the store is closing or cannot be reached (503).
	EUNAVAILABLE = "unavailable"
	// EMETHOD: the path exists but not with this method (405).
	EMETHOD = "method_not_allowed"
)

// codes maps every error code to its HTTP status: the one place a status is
// chosen for a failure. A code missing here is a 500.
var codes = map[string]int{
	domain.EINVALID:      http.StatusBadRequest,
	domain.EUNAUTHORIZED: http.StatusUnauthorized,
	domain.EFORBIDDEN:    http.StatusForbidden,
	domain.ENOTFOUND:     http.StatusNotFound,
	domain.ECONFLICT:     http.StatusConflict,
	ETOOLARGE:            http.StatusRequestEntityTooLarge,
	domain.EREFUSED:      http.StatusUnprocessableEntity,
	ERATELIMITED:         http.StatusTooManyRequests,
	EMETHOD:              http.StatusMethodNotAllowed,
	EUNAVAILABLE:         http.StatusServiceUnavailable,
	domain.EINTERNAL:     http.StatusInternalServerError,
}

// ErrorStatus returns the HTTP status for an error code.
func ErrorStatus(code string) int {
	if s, ok := codes[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field is the JSON path of the input at fault, when there is one.
	Field string `json:"field,omitempty"`
	// CurrentRevision is the stream's revision on a conflict, so the client
	// can re-read and retry; omitted when the stream has no events.
	CurrentRevision *uint64 `json:"current_revision,omitempty"`
	// Evaluation is what refused a decision: every requirement, met or not.
	Evaluation *domain.Evaluation `json:"evaluation,omitempty"`
	// RetryAfter is how many seconds to wait after a 429 or a 503, as the
	// Retry-After header says.
	RetryAfter int `json:"retry_after,omitempty"`
}

// rateLimitError carries the wait a 429 asks for.
type rateLimitError struct{ seconds int }

func (e *rateLimitError) Error() string {
	return "Too many requests: retry in " + strconv.Itoa(e.seconds) + "s."
}

// tooLargeError is a body over the size limit.
type tooLargeError struct{ limit int64 }

func (e *tooLargeError) Error() string {
	return "The request body is larger than the limit of " + strconv.FormatInt(e.limit, 10) + " bytes."
}

// Code returns the code of err: an api transport failure, a store failure
// the caller may act on, or the domain code (internal for anything else).
func Code(err error) string {
	var (
		rl *rateLimitError
		tl *tooLargeError
		mb *http.MaxBytesError
		mn *methodNotAllowedError
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &rl):
		return ERATELIMITED
	case errors.As(err, &tl), errors.As(err, &mb):
		return ETOOLARGE
	case errors.As(err, &mn):
		return EMETHOD
	}
	// A domain error wrapped around a store error speaks for itself.
	var de *domain.Error
	if errors.As(err, &de) {
		return de.Code
	}
	switch {
	case errors.Is(err, eventstore.ErrRevisionConflict), errors.Is(err, eventstore.ErrIdempotencyMismatch):
		return domain.ECONFLICT
	}
	if _, ok := unavailableCause(err); ok {
		return EUNAVAILABLE
	}
	return domain.EINTERNAL
}

// unavailable lists what makes the ledger answer 503: failures a client
// can retry as they are. Each says what the client is told and how long it
// is asked to wait (Retry-After, seconds). Those marked loggedOnce are
// logged where they happen, when they begin and when they end (a full disk
// by the server, stopped read models by the projector), not on every
// request they refuse.
var unavailable = []struct {
	err        error
	message    string
	retryAfter int
	loggedOnce bool
}{
	{eventstore.ErrNoSpace, "The ledger's disk is full: nothing was stored. Retry later.", 30, true},
	// A *projections.NotReadyError says more: see unavailableDetail.
	{projections.ErrNotReady, "The read models are still being built after a start; retry shortly.", 1, true},
	{eventstore.ErrClosed, "The ledger is shutting down; retry shortly.", 1, false},
	{eventstore.ErrUnavailable, "The ledger's store cannot be reached; retry shortly.", 5, false},
}

// unavailableDetail returns what a client is told of err, one of
// unavailable, and how many seconds it is asked to wait.
func unavailableDetail(err error, cause int) (string, int) {
	var nr *projections.NotReadyError
	if errors.As(err, &nr) {
		msg := nr.Message()
		return strings.ToUpper(msg[:1]) + msg[1:] + "; retry shortly.", max(1, int(math.Ceil(nr.RetryAfter.Seconds())))
	}
	return unavailable[cause].message, unavailable[cause].retryAfter
}

// unavailableCause returns the line of unavailable that err is, if any.
func unavailableCause(err error) (int, bool) {
	for i, u := range unavailable {
		if errors.Is(err, u.err) {
			return i, true
		}
	}
	return 0, false
}

// message returns what may be shown about err with code.
func message(err error, code string) string {
	var (
		rl *rateLimitError
		tl *tooLargeError
		mb *http.MaxBytesError
		mn *methodNotAllowedError
	)
	switch {
	case errors.As(err, &rl):
		return rl.Error()
	case errors.As(err, &tl):
		return tl.Error()
	case errors.As(err, &mb):
		return (&tooLargeError{limit: mb.Limit}).Error()
	case errors.As(err, &mn):
		return mn.Error()
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return de.Error() // the field, then what is wrong with it
	}
	switch code {
	case domain.ECONFLICT:
		if errors.Is(err, eventstore.ErrIdempotencyMismatch) {
			return "This event id is already recorded with a different body."
		}
		return "The stream has moved on since the expected revision; read it again and retry."
	case EUNAVAILABLE:
		if i, ok := unavailableCause(err); ok {
			msg, _ := unavailableDetail(err, i)
			return msg
		}
	}
	if errors.Is(err, eventstore.ErrCorrupt) {
		return "Internal error: the ledger's store is damaged where this request reads or writes, and nothing was stored; see /healthz."
	}
	return "Internal error."
}

// Error writes err as the JSON error response, with the status its code
// maps to. It is the one function that writes errors: handlers never choose
// a status by hand. Internal errors are logged with their detail and shown
// only as "Internal error.".
func Error(w http.ResponseWriter, r *http.Request, err error) {
	code := Code(err)
	d := errorDetail{Code: code, Message: message(err, code), Field: domain.ErrorField(err)}
	var rc *eventstore.RevisionConflictError
	if errors.As(err, &rc) && rc.Exists {
		cur := rc.Current
		d.CurrentRevision = &cur
	}
	d.Evaluation = domain.ErrorEvaluation(err)
	var rl *rateLimitError
	cause, isUnavailable := unavailableCause(err)
	switch {
	case errors.As(err, &rl):
		d.RetryAfter = rl.seconds
	case isUnavailable && code == EUNAVAILABLE:
		_, d.RetryAfter = unavailableDetail(err, cause)
	}
	if d.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(d.RetryAfter))
	}
	status := ErrorStatus(code)
	if status >= 500 && !(isUnavailable && unavailable[cause].loggedOnce) {
		loggerFrom(w).Error("request failed", slog.String("code", code), slog.String("error", err.Error()))
	}
	writeJSON(w, status, errorBody{Error: d})
}

// jsonContentType is the Content-Type of every JSON response, one value
// shared by all (net/http only reads it), instead of a new one each.
var jsonContentType = []string{"application/json; charset=utf-8"}

// jsonBuffer is a buffer a response is encoded into before it is written,
// with the encoder that writes into it: one of each per response would be
// garbage on every request.
type jsonBuffer struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var jsonBuffers = sync.Pool{New: func() any {
	jb := &jsonBuffer{}
	jb.enc = json.NewEncoder(&jb.buf)
	jb.enc.SetEscapeHTML(false)
	return jb
}}

// maxPooledJSON is the largest buffer kept for another response: a large
// page's is left to the garbage collector rather than held.
const maxPooledJSON = 64 << 10

// writeJSON writes v as the response body with status, and its length as
// Content-Length: v is encoded whole before anything is sent, so even a
// large page goes out with its length rather than in chunks.
func writeJSON(w http.ResponseWriter, status int, v any) {
	jb := jsonBuffers.Get().(*jsonBuffer)
	defer func() {
		if jb.buf.Cap() <= maxPooledJSON {
			jb.buf.Reset()
			jsonBuffers.Put(jb)
		}
	}()
	h := w.Header()
	h["Content-Type"] = jsonContentType
	if rec, ok := v.(Recorded); ok {
		// Every append answers with one: written by hand, as the
		// encoder would write it (TestRecordedJSON), without reflection.
		jb.buf.Write(appendRecorded(jb.buf.AvailableBuffer(), rec))
	} else if err := jb.enc.Encode(v); err != nil {
		// Nothing was written: the status goes out with no body, as
		// when an encoder writing to w failed before its first byte.
		jb.buf.Reset()
	}
	setContentLength(w, h, jb.buf.Len())
	w.WriteHeader(status)
	_, _ = w.Write(jb.buf.Bytes()) // the status is sent; a failed write is the client's loss
}

// appendRecorded appends rec to b as json.Encoder writes it, newline and
// all.
func appendRecorded(b []byte, rec Recorded) []byte {
	b = append(b, `{"event_id":"`...)
	b = appendUUID(b, rec.EventID)
	b = append(b, `","stream":`...)
	b = appendJSONString(b, rec.Stream)
	b = append(b, `,"revision":`...)
	b = strconv.AppendUint(b, rec.Revision, 10)
	b = append(b, `,"position":`...)
	b = strconv.AppendUint(b, uint64(rec.Position), 10)
	return append(b, "}\n"...)
}

// appendUUID appends id in its canonical form, as its MarshalText writes it.
func appendUUID(b []byte, id uuid.UUID) []byte {
	b = hex.AppendEncode(b, id[0:4])
	b = append(b, '-')
	b = hex.AppendEncode(b, id[4:6])
	b = append(b, '-')
	b = hex.AppendEncode(b, id[6:8])
	b = append(b, '-')
	b = hex.AppendEncode(b, id[8:10])
	b = append(b, '-')
	return hex.AppendEncode(b, id[10:16])
}

// appendJSONString appends s as a JSON string, as the server's encoder
// writes it: printable ASCII other than a quote or backslash as it is,
// anything else through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			var q bytes.Buffer
			enc := json.NewEncoder(&q)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s) // a string always encodes
			return append(b, bytes.TrimSuffix(q.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// setContentLength sets h's Content-Length to n, in the request record's
// own slot when w is the server's (no slice made per response).
func setContentLength(w http.ResponseWriter, h http.Header, n int) {
	v := strconv.Itoa(n)
	if sw := infoFrom(w); sw != nil {
		sw.contentLength[0] = v
		h["Content-Length"] = sw.contentLength[:]
		return
	}
	h["Content-Length"] = []string{v}
}

// invalidf returns an invalid-input error naming field.
func invalidf(field, format string, args ...any) error {
	return domain.Errorf(domain.EINVALID, field, format, args...)
}
