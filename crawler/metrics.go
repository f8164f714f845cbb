package crawler

import (
	"bytes"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Metrics holds the crawler's counters (prometheus/client_golang). It is a
// prometheus.Collector: a command registers it with its process's registry;
// on its own it serves them from a registry of its own (ServeHTTP). Safe for
// concurrent use; its zero value is not: use NewMetrics.
type Metrics struct {
	reg      *prometheus.Registry
	counters map[string]*prometheus.CounterVec
	gauges   map[string]*prometheus.GaugeVec
	hist     map[string]prometheus.Histogram
}

var _ prometheus.Collector = (*Metrics)(nil)

// publishBuckets are the bounds of the publish latency histogram, in seconds.
var publishBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// Metric names.
const (
	mFetched     = "mwledger_crawler_pages_fetched_total"
	mPublished   = "mwledger_crawler_pages_published_total"
	mSkipped     = "mwledger_crawler_pages_skipped_total"
	mRejected    = "mwledger_crawler_pages_rejected_total"
	mFailed      = "mwledger_crawler_pages_failed_total"
	mBytes       = "mwledger_crawler_bytes_total"
	mRetries     = "mwledger_crawler_retries_total"
	mPasses      = "mwledger_crawler_passes_total"
	mLastSuccess = "mwledger_crawler_last_success_timestamp_seconds"
	mPassSeconds = "mwledger_crawler_last_pass_duration_seconds"
	mPublishLat  = "mwledger_crawler_publish_duration_seconds"
)

// NewMetrics returns the crawler's metrics at zero.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), counters: map[string]*prometheus.CounterVec{},
		gauges: map[string]*prometheus.GaugeVec{}, hist: map[string]prometheus.Histogram{}}
	counter := func(name, help string, labels ...string) {
		m.counters[name] = prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	gauge := func(name, help string, labels ...string) {
		m.gauges[name] = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	}
	counter(mFetched, "Responses received, by source.", "source")
	counter(mPublished, "Articles published to mwledger.articles (new articles and new versions), by source.", "source")
	counter(mSkipped, "Pages or links not published because they are known: unchanged, not_modified, duplicate, alias, fresh, too_old, no_keyword, no_content, redirect_duplicate.", "reason", "source")
	counter(mRejected, "Article pages rejected and retried next pass: challenge, captcha, consent_wall, empty, not_html, http_202.", "reason", "source")
	counter(mFailed, "Fetches that failed, by source and reason (http_NNN, timeout, robots_txt, too_large, too_large_decompressed, robots_txt_too_large, robots_txt_timeout, private_address, forbidden_port, redirect_*, …).", "reason", "source")
	counter(mBytes, "Response body bytes received, by source.", "source")
	counter(mRetries, "Fetches retried after 429 or 5xx, by source.", "source")
	counter(mPasses, "Passes over a source, by source and result (ok, error).", "result", "source")
	gauge(mLastSuccess, "Unix time of the end of the last pass over a source that ended without error.", "source")
	gauge(mPassSeconds, "Duration of the last pass over a source, in seconds.", "source")
	m.hist[mPublishLat] = prometheus.NewHistogram(prometheus.HistogramOpts{Name: mPublishLat,
		Help: "Time to publish one article to the bus and have it acknowledged, in seconds.", Buckets: publishBuckets})
	m.reg.MustRegister(m)
	return m
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.counters {
		c.Describe(ch)
	}
	for _, g := range m.gauges {
		g.Describe(ch)
	}
	for _, h := range m.hist {
		h.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.counters {
		c.Collect(ch)
	}
	for _, g := range m.gauges {
		g.Collect(ch)
	}
	for _, h := range m.hist {
		h.Collect(ch)
	}
}

// labels turns label pairs (name, value, name, value…) into prometheus.Labels.
func labels(kv ...string) prometheus.Labels {
	l := prometheus.Labels{}
	for i := 0; i+1 < len(kv); i += 2 {
		l[kv[i]] = kv[i+1]
	}
	return l
}

func (m *Metrics) add(name string, v float64, kv ...string) {
	m.counters[name].With(labels(kv...)).Add(v)
}

func (m *Metrics) set(name string, v float64, kv ...string) {
	m.gauges[name].With(labels(kv...)).Set(v)
}

func (m *Metrics) observe(name string, d time.Duration) {
	m.hist[name].Observe(d.Seconds())
}

// Value returns a counter or gauge; kv are label name/value pairs (all of the
// metric's). For tests and progress lines.
func (m *Metrics) Value(name string, kv ...string) float64 {
	var metric prometheus.Metric
	var err error
	if g, ok := m.gauges[name]; ok {
		metric, err = g.GetMetricWith(labels(kv...))
	} else if c, ok := m.counters[name]; ok {
		metric, err = c.GetMetricWith(labels(kv...))
	} else {
		return 0
	}
	if err != nil {
		return 0
	}
	var d dto.Metric
	if err := metric.Write(&d); err != nil {
		return 0
	}
	if d.Gauge != nil {
		return d.Gauge.GetValue()
	}
	return d.Counter.GetValue()
}

// WriteTo renders every metric in the Prometheus text format.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	mfs, err := m.reg.Gather()
	if err != nil {
		return 0, err
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return 0, err
		}
	}
	return b.WriteTo(w)
}

// ServeHTTP serves the metrics (mount it on /metrics).
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}
