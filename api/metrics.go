package api

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/imattertraining/ledger/projections"
)

// metrics are the server's Prometheus metrics.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	appends  *prometheus.HistogramVec
	appended *prometheus.CounterVec
	handler  http.Handler

	// The series each request and append updates, found once: a label
	// lookup hashes every label value, on every request otherwise. Those
	// every append updates are read without a lock.
	mu         sync.RWMutex
	routes     map[routeKey]*routeMetrics
	appendOK   atomic.Pointer[prometheus.Observer]
	appendErr  atomic.Pointer[prometheus.Observer]
	appendedBy sync.Map // event type → prometheus.Counter
}

type routeKey struct{ method, pattern string }

// routeMetrics are one route's series: its latency, and its count by
// status, each series made on the route's first request with that status
// (as WithLabelValues would). Every request reads them, without a lock.
type routeMetrics struct {
	m        *metrics
	method   string
	pattern  string
	duration atomic.Pointer[prometheus.Observer]
	// byStatus holds the counters of statuses firstStatus to lastStatus;
	// any other status (a handler may write one up to 999) is counted
	// through others.
	byStatus [lastStatus - firstStatus + 1]atomic.Pointer[prometheus.Counter]
	mu       sync.Mutex
	others   map[int]prometheus.Counter
}

// The statuses HTTP defines classes for.
const firstStatus, lastStatus = 100, 599

func newMetrics(reg *prometheus.Registry, proj *projections.Projector) *metrics {
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ledger_http_requests_total",
			Help: "HTTP requests by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ledger_http_request_duration_seconds",
			Help:    "HTTP request latency by method and route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route"}),
		appends: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ledger_append_duration_seconds",
			Help:    "Latency of appends to the store (durable on return), by outcome.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"outcome"}),
		appended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ledger_events_appended_total",
			Help: "Events this process appended, by event type.",
		}, []string{"type"}),
		routes: make(map[routeKey]*routeMetrics),
	}
	reg.MustRegister(m.requests, m.duration, m.appends, m.appended,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ledger_events_stored",
			Help: "Events in the store, as far as the read models have folded them (their checkpoint position).",
		}, func() float64 { return float64(proj.Checkpoint()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ledger_projection_lag_events",
			Help: "How far the read models trail the newest event delivered to them.",
		}, func() float64 { return float64(proj.Lag()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ledger_projection_failures_total",
			Help: "Times the read models' subscription stopped on an error (each is logged and retried with backoff).",
		}, func() float64 { return float64(proj.Failures()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ledger_read_models_ready",
			Help: "1 when the read models are caught up and moving (/healthz ready), 0 while they are built, stopped, recovering or behind.",
		}, func() float64 {
			if proj.Ready() != nil {
				return 0
			}
			return 1
		}),
	)
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return m
}

// route returns the series of one method and route pattern, made on first use.
func (m *metrics) route(method, pattern string) *routeMetrics {
	k := routeKey{method, pattern}
	m.mu.RLock()
	rm := m.routes[k]
	m.mu.RUnlock()
	if rm != nil {
		return rm
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if rm = m.routes[k]; rm == nil {
		rm = &routeMetrics{m: m, method: method, pattern: pattern, others: make(map[int]prometheus.Counter)}
		if len(m.routes) < maxRouteSeries {
			m.routes[k] = rm
		}
	}
	return rm
}

// maxRouteSeries bounds the routes remembered, as a second line behind
// methodLabel and the table's patterns, which bound them already.
const maxRouteSeries = 256

// observe counts one request with status that took d.
func (rm *routeMetrics) observe(status int, d time.Duration) {
	rm.counter(status).Inc()
	series(&rm.duration, func() prometheus.Observer {
		return rm.m.duration.WithLabelValues(rm.method, rm.pattern)
	}).Observe(d.Seconds())
}

// counter returns the series counting the route's requests with status.
func (rm *routeMetrics) counter(status int) prometheus.Counter {
	mk := func() prometheus.Counter {
		return rm.m.requests.WithLabelValues(rm.method, rm.pattern, strconv.Itoa(status))
	}
	if status >= firstStatus && status <= lastStatus {
		return series(&rm.byStatus[status-firstStatus], mk)
	}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	c := rm.others[status]
	if c == nil {
		c = mk()
		rm.others[status] = c
	}
	return c
}

// observeAppend records one store append: its latency, and on success the
// type of the events stored.
func (m *metrics) observeAppend(typ string, d time.Duration, err error) {
	if err != nil {
		series(&m.appendErr, func() prometheus.Observer { return m.appends.WithLabelValues("error") }).Observe(d.Seconds())
		return
	}
	series(&m.appendOK, func() prometheus.Observer { return m.appends.WithLabelValues("ok") }).Observe(d.Seconds())
	c, ok := m.appendedBy.Load(typ)
	if !ok {
		// The type is one of the registry's (the append succeeded), so
		// the series are bounded.
		c, _ = m.appendedBy.LoadOrStore(typ, m.appended.WithLabelValues(typ))
	}
	c.(prometheus.Counter).Inc()
}

// series returns the series p holds, made by mk on first use (two first
// uses may both make it: WithLabelValues returns the same series).
func series[T any](p *atomic.Pointer[T], mk func() T) T {
	if o := p.Load(); o != nil {
		return *o
	}
	o := mk()
	p.Store(&o)
	return o
}
