package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// HTTP measures a server's requests by route (the pattern of the ServeMux
// that answered, never the raw path: ids in paths would make a series each)
// and status.
type HTTP struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewHTTP registers the request metrics with reg.
func NewHTTP(reg prometheus.Registerer) *HTTP {
	h := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mwledger_http_requests_total",
			Help: "HTTP requests served, by route (ServeMux pattern; \"other\" when none matched) and status code."}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mwledger_http_request_duration_seconds",
			Help: "Time to serve an HTTP request, by route.", Buckets: durationBuckets}, []string{"route"}),
	}
	reg.MustRegister(h.requests, h.latency)
	return h
}

// Wrap measures next. The route is the pattern the ServeMux inside next set
// on the request (Go 1.22+ sets Request.Pattern in place).
func (h *HTTP) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "other"
		}
		h.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		h.latency.WithLabelValues(route).Observe(seconds(time.Since(start)))
	})
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer (flushes
// of long exports).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
