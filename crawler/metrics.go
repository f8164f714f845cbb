package crawler

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Metrics holds the crawler's counters and renders them in the Prometheus text
// exposition format (version 0.0.4), with no client library. It is safe for
// concurrent use and its zero value is not: use NewMetrics.
type Metrics struct {
	mu       sync.Mutex
	counters map[string]map[string]float64 // name → rendered labels → value
	gauges   map[string]map[string]float64
	hist     map[string]*histogram // name → histogram (no labels)
}

type histogram struct {
	bounds []float64
	counts []uint64 // per bound, not cumulative
	count  uint64
	sum    float64
}

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

var help = map[string]string{
	mFetched:     "Responses received, by source.",
	mPublished:   "Articles published to mwledger.articles (new articles and new versions), by source.",
	mSkipped:     "Pages or links not published because they are known: unchanged, not_modified, duplicate, alias, fresh, too_old, no_keyword, no_content, redirect_duplicate.",
	mRejected:    "Article pages rejected and retried next pass: challenge, captcha, consent_wall, empty, not_html, http_202.",
	mFailed:      "Fetches that failed, by source and reason (http_NNN, timeout, robots_txt, too_large, too_large_decompressed, robots_txt_too_large, robots_txt_timeout, private_address, forbidden_port, redirect_*, …).",
	mBytes:       "Response body bytes received, by source.",
	mRetries:     "Fetches retried after 429 or 5xx, by source.",
	mPasses:      "Passes over a source, by source and result (ok, error).",
	mLastSuccess: "Unix time of the end of the last pass over a source that ended without error.",
	mPassSeconds: "Duration of the last pass over a source, in seconds.",
	mPublishLat:  "Time to publish one article to the bus and have it acknowledged, in seconds.",
}

var types = map[string]string{mLastSuccess: "gauge", mPassSeconds: "gauge", mPublishLat: "histogram"}

// NewMetrics returns empty metrics.
func NewMetrics() *Metrics {
	m := &Metrics{counters: map[string]map[string]float64{}, gauges: map[string]map[string]float64{}, hist: map[string]*histogram{}}
	m.hist[mPublishLat] = &histogram{bounds: publishBuckets, counts: make([]uint64, len(publishBuckets))}
	return m
}

// labels renders label pairs (name, value, name, value…) in a stable order.
func labels(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[i])
		b.WriteString(`="`)
		b.WriteString(escapeLabel(kv[i+1]))
		b.WriteByte('"')
	}
	return b.String()
}

func escapeLabel(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}

func (m *Metrics) add(name string, v float64, kv ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counters[name] == nil {
		m.counters[name] = map[string]float64{}
	}
	m.counters[name][labels(kv...)] += v
}

func (m *Metrics) set(name string, v float64, kv ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gauges[name] == nil {
		m.gauges[name] = map[string]float64{}
	}
	m.gauges[name][labels(kv...)] = v
}

func (m *Metrics) observe(name string, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.hist[name]
	s := d.Seconds()
	for i, b := range h.bounds {
		if s <= b {
			h.counts[i]++
			break
		}
	}
	h.count++
	h.sum += s
}

// Value returns a counter or gauge; kv are label name/value pairs. For tests and progress lines.
func (m *Metrics) Value(name string, kv ...string) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := labels(kv...)
	if g, ok := m.gauges[name]; ok {
		if v, ok := g[l]; ok {
			return v
		}
	}
	return m.counters[name][l]
}

// WriteTo renders every metric in the Prometheus text format.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	header := func(name string) {
		typ := types[name]
		if typ == "" {
			typ = "counter"
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help[name], name, typ)
	}
	series := func(name string, vals map[string]float64) {
		keys := make([]string, 0, len(vals))
		for k := range vals {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		header(name)
		for _, k := range keys {
			if k == "" {
				fmt.Fprintf(&b, "%s %s\n", name, formatFloat(vals[k]))
			} else {
				fmt.Fprintf(&b, "%s{%s} %s\n", name, k, formatFloat(vals[k]))
			}
		}
	}
	for _, set := range []map[string]map[string]float64{m.counters, m.gauges} {
		names := make([]string, 0, len(set))
		for n := range set {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			series(n, set[n])
		}
	}
	hnames := make([]string, 0, len(m.hist))
	for n := range m.hist {
		hnames = append(hnames, n)
	}
	sort.Strings(hnames)
	for _, n := range hnames {
		h := m.hist[n]
		header(n)
		var cum uint64
		for i, bound := range h.bounds {
			cum += h.counts[i]
			fmt.Fprintf(&b, "%s_bucket{le=\"%s\"} %d\n", n, formatFloat(bound), cum)
		}
		fmt.Fprintf(&b, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %s\n%s_count %d\n", n, h.count, n, formatFloat(h.sum), n, h.count)
	}
	k, err := io.WriteString(w, b.String())
	return int64(k), err
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// ServeHTTP serves the metrics (mount it on /metrics).
func (m *Metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = m.WriteTo(w)
}
