package api

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
)

// statusWriter is one request as the outer middleware follows it: the
// status and size the handler wrote, and what the inner layers learn (the
// principal's name, once authenticated, and the route). The inner layers
// reach it through the ResponseWriter they are handed, so that following a
// request costs no new context and no copy of the request.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
	// work is what the request cost beyond its response, in bytes of
	// response it is worth, for the rate limit (chargeWork).
	work int

	id        string
	principal string
	// route is the matched route, set by guard; nil for a path no route
	// serves (chi's not-found and method-not-allowed handlers).
	route *routeMetrics
	// base is the server's logger; logger, made on first use, is base
	// tagged with the request id.
	base   *slog.Logger
	logger *slog.Logger
	// contentLength holds the Content-Length header's value (writeJSON).
	contentLength [1]string
}

var requestSeq atomic.Uint64

// MaxHeaderBytes caps a request's header, request line included (Go's
// default is 1 MiB). A bearer token is under 50 bytes; 8 KiB leaves room
// for proxies' headers and refuses (431) the rest before any handler runs.
// net/http reads 4 KiB beyond it before refusing: 431 comes past ~12 KiB.
const MaxHeaderBytes = 8 << 10

// methodLabel is the method as metrics and logs name it: one of the
// methods HTTP defines, or "other". The method is the client's to write,
// so it never becomes a label or a log field as sent.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// infoFrom returns the request record w writes through, or nil when w is
// not the server's (a handler driven directly).
func infoFrom(w http.ResponseWriter) *statusWriter {
	sw, _ := w.(*statusWriter)
	return sw
}

// chargeWork adds to what a request costs its rate-limit bucket the work
// it did beyond its response, as the bytes of response it is worth: a
// route that reads much and answers little (verify) pays for its reading.
func chargeWork(w http.ResponseWriter, bytes int) {
	if sw := infoFrom(w); sw != nil {
		sw.work += bytes
	}
}

// setPrincipal records the authenticated principal's name for the log.
func setPrincipal(w http.ResponseWriter, name string) {
	if sw := infoFrom(w); sw != nil {
		sw.principal = name
	}
}

// loggerFrom returns the request's logger, tagged with its request id.
func loggerFrom(w http.ResponseWriter) *slog.Logger {
	sw := infoFrom(w)
	if sw == nil {
		return slog.New(slog.DiscardHandler)
	}
	if sw.logger == nil {
		sw.logger = sw.base.With(slog.String("request_id", sw.id))
	}
	return sw.logger
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
// metrics, by method (a known one, or "other"), route pattern (never the
// raw path, which holds ids; "unmatched" for a path no route serves) and
// status. No label or log field is anything a client wrote as it wrote it.
// It logs the principal's name at most: never a token, a query string, a
// body or anything personal.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, id: strconv.FormatUint(requestSeq.Add(1), 36), base: s.cfg.Logger}
		defer func() {
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			end := time.Now()
			d := end.Sub(start)
			rm := sw.route
			if rm == nil {
				// chi's not-found and method-not-allowed handlers: the
				// route is a pattern of the table, or none. The console's
				// requests come by here too: their route is the console
				// router's pattern ("/ui/practitioners/{id}", "/ui/*" for
				// a path it does not serve), never the path as sent.
				route := "unmatched"
				if rc := chi.RouteContext(r.Context()); rc != nil {
					if p := rc.RoutePattern(); s.patterns[p] || (s.cfg.UI != nil && (p == "/ui" || strings.HasPrefix(p, "/ui/"))) {
						route = p
					}
				}
				rm = s.metrics.route(methodLabel(r.Method), route)
			}
			rm.observe(status, d)
			ctx := r.Context()
			h := sw.base.Handler()
			if sw.logger != nil {
				h = sw.logger.Handler() // the request id is on it already
			}
			if !h.Enabled(ctx, slog.LevelInfo) {
				return
			}
			attrs := [7]slog.Attr{
				slog.String("request_id", sw.id),
				slog.String("method", rm.method),
				slog.String("route", rm.pattern),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(d.Microseconds())/1000),
				slog.Int("bytes", sw.bytes),
			}
			n := 6
			if sw.principal != "" {
				attrs[n] = slog.String("principal", sw.principal)
				n++
			}
			// Straight to the handler, as Logger.LogAttrs would go, but
			// without the caller's program counter, which it looks up on
			// every call and no line of ours shows.
			rec := slog.NewRecord(end, slog.LevelInfo, "request", 0)
			if sw.logger != nil {
				rec.AddAttrs(attrs[1:n]...)
			} else {
				rec.AddAttrs(attrs[:n]...)
			}
			_ = h.Handle(ctx, rec)
		}()
		next.ServeHTTP(sw, r)
	})
}
