package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mwledger/mwledger/alert"
)

// Alerts measures the alert dispatcher; it is an alert.Observer.
type Alerts struct {
	pending   prometheus.Gauge
	delivered *prometheus.CounterVec
	failed    *prometheus.CounterVec
	latency   *prometheus.HistogramVec
}

var _ alert.Observer = (*Alerts)(nil)

// alertBuckets are the bounds of the delivery latency histogram, in seconds:
// from an alert raised in the write that stored its deal to a sink's
// acknowledgement (seconds; hours when a receiver was down).
var alertBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600}

// NewAlerts registers the dispatcher metrics with reg; sinks get their series
// at zero.
func NewAlerts(reg prometheus.Registerer, sinks ...string) *Alerts {
	a := &Alerts{
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "mwledger_alerts_pending",
			Help: "Deliveries (alert, sink) still waiting in the outbox after the last full sweep (at most the dispatcher's batch of alerts is read per sweep)."}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mwledger_alerts_delivered_total",
			Help: "Alerts a sink acknowledged, by sink."}, []string{"sink"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mwledger_alerts_failures_total",
			Help: "Failed deliveries of an alert to a sink (retried with backoff), by sink."}, []string{"sink"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mwledger_alerts_delivery_latency_seconds",
			Help: "Time from an alert's creation (with its deal's write) to a sink's acknowledgement, by sink.", Buckets: alertBuckets}, []string{"sink"}),
	}
	reg.MustRegister(a.pending, a.delivered, a.failed, a.latency)
	for _, s := range sinks {
		a.delivered.WithLabelValues(s)
		a.failed.WithLabelValues(s)
	}
	return a
}

// Pending implements alert.Observer.
func (a *Alerts) Pending(n int) { a.pending.Set(float64(n)) }

// Delivered implements alert.Observer.
func (a *Alerts) Delivered(sink string, age time.Duration) {
	a.delivered.WithLabelValues(sink).Inc()
	a.latency.WithLabelValues(sink).Observe(max(seconds(age), 0))
}

// Failed implements alert.Observer.
func (a *Alerts) Failed(sink string) { a.failed.WithLabelValues(sink).Inc() }
