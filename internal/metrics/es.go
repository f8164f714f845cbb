package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ESBulk measures the indexer's bulk requests to Elasticsearch.
type ESBulk struct {
	took     prometheus.Histogram
	requests *prometheus.CounterVec
}

// NewESBulk registers the bulk metrics with reg.
func NewESBulk(reg prometheus.Registerer) *ESBulk {
	b := &ESBulk{
		took: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mwledger_es_bulk_duration_seconds",
			Help: "Time of one bulk request to Elasticsearch (each attempt), until its response headers.", Buckets: durationBuckets}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mwledger_es_bulk_requests_total",
			Help: "Bulk requests to Elasticsearch (each attempt), by HTTP status (\"error\": no response)."}, []string{"status"}),
	}
	reg.MustRegister(b.took, b.requests)
	return b
}

// Observe records one bulk request (es.Config.OnBulk): status 0 is no response.
func (b *ESBulk) Observe(took time.Duration, status int) {
	b.took.Observe(seconds(took))
	s := "error"
	if status > 0 {
		s = strconv.Itoa(status)
	}
	b.requests.WithLabelValues(s).Inc()
}

// ESRequests measures every request of the indexer to Elasticsearch by kind
// (bulk, msearch, search, mget, refresh, …): the calls a batch costs.
type ESRequests struct {
	took *prometheus.HistogramVec
}

// NewESRequests registers the request metrics with reg.
func NewESRequests(reg prometheus.Registerer) *ESRequests {
	r := &ESRequests{took: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mwledger_es_request_duration_seconds",
		Help:    "Time of one request to Elasticsearch (each attempt), until its response headers, by kind (bulk, msearch, search, mget, refresh, count, get, other).",
		Buckets: durationBuckets}, []string{"kind"})}
	reg.MustRegister(r.took)
	return r
}

// Observe records one request (es.Config.OnRequest).
func (r *ESRequests) Observe(kind string, took time.Duration, _ int) {
	r.took.WithLabelValues(kind).Observe(seconds(took))
}
