package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mwledger/mwledger/internal/metrics"
)

// freeLoopbackAddr is a loopback address with a port free a moment ago (the
// indexer's --metrics-addr).
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// indexerSample is what the indexer's metrics say at one moment.
type indexerSample struct {
	at              time.Duration
	records         float64 // mwledger_stage_records_in_total{stage="index"}
	batchSeconds    float64 // sum of its batch durations
	bulkSeconds     float64 // sum of its bulk request durations
	bulks, batches  float64
	calls           map[string]esCalls // by kind: bulk, msearch, mget, refresh, …
	scrapeSucceeded bool
}

// esCalls is how many requests of one kind the indexer sent, and their time.
type esCalls struct{ n, seconds float64 }

func scrapeIndexer(ctx context.Context, url string, at time.Duration) indexerSample {
	s, err := metrics.ScrapeURL(ctx, url)
	if err != nil {
		return indexerSample{at: at}
	}
	sum := func(name string) float64 {
		f := s[name]
		if f == nil {
			return 0
		}
		v := 0.0
		for _, m := range f.GetMetric() {
			if m.Histogram != nil {
				v += m.Histogram.GetSampleSum()
			}
		}
		return v
	}
	calls := map[string]esCalls{}
	if f := s["mwledger_es_request_duration_seconds"]; f != nil {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && m.Histogram != nil {
					calls[l.GetValue()] = esCalls{float64(m.Histogram.GetSampleCount()), m.Histogram.GetSampleSum()}
				}
			}
		}
	}
	return indexerSample{at: at, calls: calls, records: s.Value("mwledger_stage_records_in_total", "stage", "index"),
		batchSeconds: sum("mwledger_stage_batch_duration_seconds"), bulkSeconds: sum("mwledger_es_bulk_duration_seconds"),
		bulks: s.Value("mwledger_es_bulk_duration_seconds"), batches: s.Value("mwledger_stage_batches_total", "stage", "index"),
		scrapeSucceeded: true}
}

// perBatch says how many requests of each kind the indexer sent per batch,
// and the time they took.
func (s indexerSample) perBatch() string {
	if s.batches == 0 {
		return "none"
	}
	var out []string
	for _, k := range []string{"refresh", "msearch", "search", "mget", "get", "bulk", "count", "other"} {
		if c, ok := s.calls[k]; ok && c.n > 0 {
			out = append(out, fmt.Sprintf("%s %.2f (%.0f ms)", k, c.n/s.batches, 1000*c.seconds/s.batches))
		}
	}
	if len(out) == 0 {
		return "unknown (no request metrics)"
	}
	return strings.Join(out, ", ")
}

// indexerRate is the indexer's records per second from its first committed
// batch to its last, from the samples of its metrics.
func indexerRate(samples []indexerSample) (rate float64, first, last indexerSample, ok bool) {
	for _, s := range samples {
		if !s.scrapeSucceeded || s.records == 0 {
			continue
		}
		if first.records == 0 {
			first = s
		}
		if s.records > last.records {
			last = s
		}
	}
	if first.records == 0 || last.at <= first.at {
		return 0, first, last, false
	}
	// The first sample with records already holds some: count from the one before it.
	return last.records / (last.at - first.at + time.Second).Seconds(), first, last, true
}

// esDo sends one request to Elasticsearch at base and returns the body of a
// 2xx answer (plain net/http: the bench does not import go-elasticsearch).
func esDo(ctx context.Context, method, url, contentType string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %s: %.300s", method, url, res.Status, b)
	}
	return b, nil
}

// rawBulk copies the final deal documents of a run (those with a source under
// prefix) into a fresh index of the same template and times plain bulk
// requests of 500 documents: the node's ceiling for these documents, with
// none of the indexer's reads, identity resolution or conditional writes.
func rawBulk(ctx context.Context, esList, alias, prefix, run string) (docs int, took time.Duration, err error) {
	esList = firstNode(esList)
	query := fmt.Sprintf(`{"size":10000,"query":{"nested":{"path":"sources","query":{"prefix":{"sources.url":%q}}}}}`, prefix)
	b, err := esDo(ctx, http.MethodPost, esList+"/"+alias+"/_search", "application/json", []byte(query))
	if err != nil {
		return 0, 0, fmt.Errorf("reading the run's deals: %w", err)
	}
	var sr struct {
		Hits struct {
			Hits []struct {
				ID     string          `json:"_id"`
				Source json.RawMessage `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(b, &sr); err != nil {
		return 0, 0, err
	}
	index := "mwledger-contracts-rawbulk-" + run // the template's pattern: the same mapping and settings
	if _, err := esDo(ctx, http.MethodPut, esList+"/"+index, "", nil); err != nil {
		return 0, 0, err
	}
	defer func() { _, _ = esDo(context.WithoutCancel(ctx), http.MethodDelete, esList+"/"+index, "", nil) }()
	hits := sr.Hits.Hits
	start := time.Now()
	for i := 0; i < len(hits); i += 500 {
		var buf bytes.Buffer
		for _, h := range hits[i:min(i+500, len(hits))] {
			fmt.Fprintf(&buf, "{\"index\":{\"_index\":%q,\"_id\":%q}}\n", index, h.ID)
			buf.Write(h.Source)
			buf.WriteByte('\n')
		}
		b, err := esDo(ctx, http.MethodPost, esList+"/_bulk", "application/x-ndjson", buf.Bytes())
		if err != nil {
			return 0, 0, err
		}
		var br struct {
			Errors bool `json:"errors"`
		}
		if err := json.Unmarshal(b, &br); err != nil || br.Errors {
			return 0, 0, fmt.Errorf("raw bulk into %s: %.300s", index, b)
		}
	}
	return len(hits), time.Since(start), nil
}
