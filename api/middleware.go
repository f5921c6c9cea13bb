package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
)

// requestInfo is what the outer middleware learns from the inner layers:
// the principal's name, once authenticated. It is shared by pointer because
// chi hands inner handlers a new *http.Request.
type requestInfo struct {
	id        string
	principal string
	logger    *slog.Logger
}

type ctxKey struct{}

var requestSeq atomic.Uint64

func infoFrom(r *http.Request) *requestInfo {
	ri, _ := r.Context().Value(ctxKey{}).(*requestInfo)
	return ri
}

// setPrincipal records the authenticated principal's name for the log.
func setPrincipal(r *http.Request, name string) {
	if ri := infoFrom(r); ri != nil {
		ri.principal = name
	}
}

// loggerFrom returns the request's logger, tagged with its request id.
func loggerFrom(r *http.Request) *slog.Logger {
	if ri := infoFrom(r); ri != nil {
		return ri.logger
	}
	return slog.New(slog.DiscardHandler)
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe logs one structured line per request and counts it in the
// metrics, by route pattern (never the raw path, which holds ids) and
// status. It logs the principal's name at most: never a token, a query
// string, a body or anything personal.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := strconv.FormatUint(requestSeq.Add(1), 36)
		ri := &requestInfo{id: id, logger: s.cfg.Logger.With(slog.String("request_id", id))}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			route := "unmatched"
			if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
				route = rc.RoutePattern()
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			d := time.Since(start)
			s.metrics.observeRequest(r.Method, route, status, d)
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(d.Microseconds())/1000),
				slog.Int("bytes", sw.bytes),
			}
			if ri.principal != "" {
				attrs = append(attrs, slog.String("principal", ri.principal))
			}
			ri.logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
		}()
		next.ServeHTTP(sw, r)
	})
}
