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

// Observe records one bulk request (indexer.ESConfig.OnBulk): status 0 is no response.
func (b *ESBulk) Observe(took time.Duration, status int) {
	b.took.Observe(seconds(took))
	s := "error"
	if status > 0 {
		s = strconv.Itoa(status)
	}
	b.requests.WithLabelValues(s).Inc()
}
