package backfill

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
)

// WriteMetrics writes the counters in the Prometheus text exposition format
// (version 0.0.4).
func (b *Backfiller) WriteMetrics(w io.Writer) error {
	s := b.Stats()
	var sb strings.Builder
	metric := func(name, typ, help string, samples ...string) {
		fmt.Fprintf(&sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for _, x := range samples {
			sb.WriteString(name + x + "\n")
		}
	}
	num := func(v any) string { return fmt.Sprintf(" %v", v) }
	metric("mwledger_backfill_files_total", "counter", "WARC files finished (read to their end or given up at a break).", num(s.Files))
	metric("mwledger_backfill_files", "gauge", "WARC files given to this run.", num(s.FilesTotal))
	metric("mwledger_backfill_bytes_total", "counter", "Compressed WARC bytes read.", num(s.Bytes))
	metric("mwledger_backfill_bytes", "gauge", "Compressed WARC bytes to read when the run started.", num(s.BytesTotal))
	metric("mwledger_backfill_records_total", "counter", "WARC records read.", num(s.Records))
	metric("mwledger_backfill_matches_total", "counter", "Pages that passed the checks and the keyword prefilter.", num(s.Matches))
	metric("mwledger_backfill_published_total", "counter", "Articles published to mwledger.articles.", num(s.Published))
	metric("mwledger_backfill_skipped_total", "counter", "Records not published, by reason.", labelled(s.Skipped)...)
	broken := map[string]int64{}
	for k, v := range s.Broken {
		broken[k] = int64(v)
	}
	metric("mwledger_backfill_files_broken_total", "counter", "Files given up before their end, by reason.", labelled(broken)...)
	if !s.Started.IsZero() {
		metric("mwledger_backfill_start_timestamp_seconds", "gauge", "Unix time the run started.", num(s.Started.Unix()))
		metric("mwledger_backfill_elapsed_seconds", "gauge", "Seconds since the run started.", fmt.Sprintf(" %.3f", time.Since(s.Started).Seconds()))
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

func labelled(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fmt.Sprintf("{reason=%q} %d", k, m[k])
	}
	return out
}

// ServeHTTP serves WriteMetrics.
func (b *Backfiller) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_ = b.WriteMetrics(w)
}
