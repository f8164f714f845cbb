package backfill

import (
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
)

var _ prometheus.Collector = (*Backfiller)(nil)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	dFiles       = desc("mwledger_backfill_files_total", "WARC files finished (read to their end or given up at a break).")
	dFilesTotal  = desc("mwledger_backfill_files", "WARC files given to this run.")
	dBytes       = desc("mwledger_backfill_bytes_total", "Compressed WARC bytes read.")
	dBytesTotal  = desc("mwledger_backfill_bytes", "Compressed WARC bytes to read when the run started.")
	dRecords     = desc("mwledger_backfill_records_total", "WARC records read.")
	dMatches     = desc("mwledger_backfill_matches_total", "Pages that passed the checks and the keyword prefilter.")
	dPublished   = desc("mwledger_backfill_published_total", "Articles published to mwledger.articles.")
	dSkipped     = desc("mwledger_backfill_skipped_total", "Records not published, by reason.", "reason")
	dBroken      = desc("mwledger_backfill_files_broken_total", "Files given up before their end, by reason.", "reason")
	dStarted     = desc("mwledger_backfill_start_timestamp_seconds", "Unix time the run started.")
	dElapsed     = desc("mwledger_backfill_elapsed_seconds", "Seconds since the run started.")
	backfillDesc = []*prometheus.Desc{dFiles, dFilesTotal, dBytes, dBytesTotal, dRecords, dMatches, dPublished, dSkipped, dBroken, dStarted, dElapsed}
)

// Describe implements prometheus.Collector: the Backfiller's counters are
// read from Stats at each scrape.
func (b *Backfiller) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range backfillDesc {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (b *Backfiller) Collect(ch chan<- prometheus.Metric) {
	s := b.Stats()
	c := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	g := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	c(dFiles, float64(s.Files))
	g(dFilesTotal, float64(s.FilesTotal))
	c(dBytes, float64(s.Bytes))
	g(dBytesTotal, float64(s.BytesTotal))
	c(dRecords, float64(s.Records))
	c(dMatches, float64(s.Matches))
	c(dPublished, float64(s.Published))
	for k, v := range s.Skipped {
		c(dSkipped, float64(v), k)
	}
	for k, v := range s.Broken {
		c(dBroken, float64(v), k)
	}
	if !s.Started.IsZero() {
		g(dStarted, float64(s.Started.Unix()))
		g(dElapsed, time.Since(s.Started).Seconds())
	}
}

// WriteMetrics writes the counters in the Prometheus text exposition format.
func (b *Backfiller) WriteMetrics(w io.Writer) error {
	reg := prometheus.NewRegistry()
	if err := reg.Register(b); err != nil {
		return err
	}
	mfs, err := reg.Gather()
	if err != nil {
		return err
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	return nil
}

// ServeHTTP serves the counters (mount it on /metrics).
func (b *Backfiller) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(b)
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}
