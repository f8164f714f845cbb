package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/fixtures"
	"github.com/mwledger/mwledger/internal/cli"
	"github.com/mwledger/mwledger/internal/metrics"
	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
	"github.com/mwledger/mwledger/stream/kafka"
)

var metricsURLRe = regexp.MustCompile(`msg="serving metrics" url=(http://127\.0\.0\.1:\d+/metrics)`)

// withMetrics runs a long-running command in-process with --metrics-addr
// 127.0.0.1:0 until stop; url is its metrics endpoint, read from its log.
func withMetrics(t *testing.T, ctx context.Context, args ...string) (url string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	var logs syncBuffer
	done := make(chan error, 1)
	args = append(args, "--metrics-addr", "127.0.0.1:0")
	go func() { done <- cli.Run(ctx, args, strings.NewReader(""), &bytes.Buffer{}, &logs) }()
	var stopped bool
	var err error
	stop = func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err = <-done; err != nil {
			t.Errorf("mwledger %s: %v\n%s", strings.Join(args, " "), err, logs.String())
		}
	}
	t.Cleanup(stop)
	if !waitFor(ctx, 20*time.Millisecond, func() bool {
		if m := metricsURLRe.FindStringSubmatch(logs.String()); m != nil {
			url = m[1]
			return true
		}
		select {
		case err = <-done:
			stopped = true
			t.Fatalf("mwledger %s stopped before serving metrics: %v\n%s", strings.Join(args, " "), err, logs.String())
		default:
		}
		return false
	}) {
		t.Fatalf("mwledger %s never served metrics:\n%s", strings.Join(args, " "), logs.String())
	}
	return url, stop
}

func scrape(t *testing.T, ctx context.Context, url string) metrics.Scrape {
	t.Helper()
	s, err := metrics.ScrapeURL(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"go_goroutines", "go_gc_duration_seconds", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if !s.Has(name) {
			t.Errorf("%s: no %s (Go runtime and process collectors)", url, name)
		}
	}
	return s
}

// TestStageMetricsScrape runs the crawler, extractor and indexer with
// --metrics-addr on the real Kafka and Elasticsearch, scrapes each endpoint
// before and after they work (fixture articles, plus a poison message for
// each consuming stage), and checks that their counters moved.
func TestStageMetricsScrape(t *testing.T) {
	shares(t, articlesTopic|contractsTopic)
	kafkaAddr, es := testkit.Kafka(t), testkit.ES(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	cases := fixtures.Cases()[:12]
	site, err := testkit.StartFixtureSite(fixtures.FS(), cases)
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	sources := filepath.Join(t.TempDir(), "sources.yaml")
	if err := os.WriteFile(sources, []byte(fmt.Sprintf(`sources:
  - name: metrics-site
    listings:
      - url: %s/news/1
        link_selector: a.story
        next_selector: a.next
    allow_private: true
    canonical_hosts: ["*.example"]
    delay: 1ms
    parallelism: 4
`, site.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := kafka.Config{Brokers: []string{kafkaAddr}}
	if err := kafka.EnsureTopics(ctx, cfg, kafka.TopicSpec{Name: schemas.TopicArticles}, kafka.TopicSpec{Name: schemas.TopicContracts},
		kafka.TopicSpec{Name: schemas.TopicDLQ, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	group := fmt.Sprintf("metrics-%d", time.Now().UnixNano())
	skipBacklog(t, ctx, cfg.Brokers, group+"-x", schemas.TopicArticles)
	skipBacklog(t, ctx, cfg.Brokers, group+"-i", schemas.TopicContracts)

	xURL, stopExtract := withMetrics(t, ctx, "extract", "--kafka", kafkaAddr, "--consume", "--group", group+"-x")
	iURL, stopIndex := withMetrics(t, ctx, "index", "--kafka", kafkaAddr, "--es", es, "--group", group+"-i")
	x0, i0 := scrape(t, ctx, xURL), scrape(t, ctx, iURL)
	if x0.Value("mwledger_stage_records_in_total", "stage", "extract") != 0 || x0.Series("mwledger_stage_records_in_total", "stage", "extract") != 1 {
		t.Errorf("before any article: records_in of the extractor is not one series at 0")
	}

	// The crawler runs (not --once) until its counters show every article published.
	cURL, stopCrawl := withMetrics(t, ctx, "crawl", "--kafka", kafkaAddr, "--sources", sources, "--interval", "1h",
		"--state", filepath.Join(t.TempDir(), "crawl.db"))
	var c metrics.Scrape
	if !waitFor(ctx, 200*time.Millisecond, func() bool {
		c = scrape(t, ctx, cURL)
		return c.Value("mwledger_crawler_passes_total", "source", "metrics-site") >= 1
	}) {
		t.Fatal("the crawler never finished a pass")
	}
	stopCrawl()
	published := c.Value("mwledger_crawler_pages_published_total", "source", "metrics-site")
	if published < float64(len(cases))/2 || c.Value("mwledger_crawler_pages_fetched_total", "source", "metrics-site") < published ||
		c.Value("mwledger_crawler_publish_duration_seconds") != published {
		t.Errorf("crawler: %v published, %v fetched, %v publish latencies; want about %d articles",
			published, c.Value("mwledger_crawler_pages_fetched_total"), c.Value("mwledger_crawler_publish_duration_seconds"), len(cases))
	}

	// One poison message for each consuming stage.
	pub, err := kafka.NewPublisher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if err := pub.Publish(ctx, stream.Message{Topic: schemas.TopicArticles, Key: []byte(group + "-poison"), Value: []byte("{not json")},
		stream.Message{Topic: schemas.TopicContracts, Key: []byte(group + "-poison"), Value: []byte("{not json")}); err != nil {
		t.Fatal(err)
	}
	caughtUp(t, ctx, cfg.Brokers, group+"-x", schemas.TopicArticles)
	caughtUp(t, ctx, cfg.Brokers, group+"-i", schemas.TopicContracts)
	x, i := scrape(t, ctx, xURL), scrape(t, ctx, iURL)
	stopExtract()
	stopIndex()

	xin, xout := x.Value("mwledger_stage_records_in_total", "stage", "extract"), x.Value("mwledger_stage_records_out_total", "stage", "extract")
	if xin < published+1 || xout == 0 {
		t.Errorf("extractor: %v articles in, %v records out; want at least %v in and some out", xin, xout, published+1)
	}
	if n := x.Value("mwledger_stage_dead_letters_total", "stage", "extract", "reason", "invalid_json"); n < 1 {
		t.Errorf("extractor: %v dead letters invalid_json, want 1", n)
	}
	if x.Value("mwledger_stage_batch_duration_seconds", "stage", "extract") < 1 || x.Series("mwledger_stage_consumer_lag", "stage", "extract", "topic", schemas.TopicArticles) == 0 {
		t.Errorf("extractor: no batch latency or no consumer lag per partition")
	}
	iin := i.Value("mwledger_stage_records_in_total", "stage", "index")
	if iin < xout+1 || iin <= i0.Value("mwledger_stage_records_in_total", "stage", "index") {
		t.Errorf("indexer: %v records in, the extractor published %v (+1 poison)", iin, xout)
	}
	if n := i.Value("mwledger_stage_dead_letters_total", "stage", "index", "reason", "invalid_json"); n < 1 {
		t.Errorf("indexer: %v dead letters invalid_json, want 1", n)
	}
	if i.Value("mwledger_es_bulk_duration_seconds") < 1 || i.Value("mwledger_es_bulk_requests_total", "status", "200") < 1 {
		t.Errorf("indexer: %v bulk latencies, %v bulk requests with 200", i.Value("mwledger_es_bulk_duration_seconds"), i.Value("mwledger_es_bulk_requests_total", "status", "200"))
	}
	if !i.Has("mwledger_alerts_pending") || !i.Has("mwledger_stage_consumer_lag") {
		t.Errorf("indexer: no alerts pending gauge or no consumer lag")
	}
	t.Logf("crawler published %v; extractor %v in, %v out; indexer %v in, %v bulk requests; lag series %d+%d",
		published, xin, xout, iin, i.Value("mwledger_es_bulk_requests_total"), x.Series("mwledger_stage_consumer_lag"), i.Series("mwledger_stage_consumer_lag"))
}
