package api

import (
	"net/http"
	"strconv"
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
}

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
	)
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return m
}

func (m *metrics) observeRequest(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}

// observeAppend records one store append: its latency, and on success the
// type of the events stored.
func (m *metrics) observeAppend(typ string, d time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.appends.WithLabelValues(outcome).Observe(d.Seconds())
	if err == nil {
		m.appended.WithLabelValues(typ).Inc()
	}
}
