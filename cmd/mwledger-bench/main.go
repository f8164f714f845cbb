// Command mwledger-bench prints the numbers of issue 7 as one table: extraction
// speed and memory on one core over the fixtures; the whole pipeline on the real
// Kafka and Elasticsearch over a generated site (the three stages as
// subprocesses, consumer lag sampled every second, peak RSS of each); the
// extractor and the indexer, each with one and with two processes over the same
// backlog, with the CPU time per record of the stage, of Elasticsearch and of
// Kafka (scaleout.go, scaleindex.go); and the latency from the crawler fetching a new
// hyperscaler deal to the webhook receiving its alert, step by step (alert.go).
// It assumes the services are up (make services-up, or the cluster: make
// services-cluster-up; it reads MWLEDGER_KAFKA and MWLEDGER_ES, each one or
// more comma-separated addresses) and only talks to loopback. Run it with
// `make bench`, or `make bench-cluster`.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/fixtures"
	"github.com/mwledger/mwledger/internal/app"
	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/ledger/es"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream/kafka"
)

type row struct{ section, metric, value string }

func main() {
	articles := flag.Int("articles", 10000, "articles of the generated site for the end-to-end run (0 skips it)")
	scale := flag.Int("scale-articles", 3000, "backlog of generated articles for the extractor scale-out, 1 vs 2 processes (0 skips it)")
	scaleRecords := flag.Int("scale-records", 10000, fmt.Sprintf("generated articles whose contract records are the backlog of the indexer scale-out, 1 vs 2 processes (0 skips it; at most %d)", maxIndexScale))
	deals := flag.Int("alert-deals", 200, "new hyperscaler deals for the alert latency (0 skips it)")
	trace := flag.String("alert-trace", "", "write each alert-latency article's times per step to this CSV file")
	bin := flag.String("bin", "bin/mwledger", "the mwledger binary run as the stages")
	indexProfile := flag.String("index-cpuprofile", "", "write a CPU profile of the indexer on the backlog to this file")
	runs := flag.String("scale-runs", "1,2", "the instances of each scale-out run, in order (1,2,2,1 evens out drift)")
	warmup := flag.Bool("scale-warmup", false, "start each scale-out step with a 1-instance run that is shown but not counted (the services' JIT and caches warm up)")
	flag.Parse()
	counts, err := parseRuns(*runs)
	if err != nil {
		fatal(err)
	}
	order := scaleOrder{runs: counts, warmup: *warmup}
	if *warmup {
		order.runs = append([]int{1}, counts...)
	}
	if *scaleRecords > maxIndexScale {
		fatal(fmt.Errorf("-scale-records %d: at most %d", *scaleRecords, maxIndexScale))
	}
	kafkaAddr := envOr("MWLEDGER_KAFKA", "127.0.0.1:19092")
	esList := envOr("MWLEDGER_ES", "http://127.0.0.1:19200")
	for _, a := range append(kafka.ParseBrokers(kafkaAddr), esAddrs(esList)...) {
		if !strings.Contains(a, "127.0.0.1") && !strings.Contains(a, "localhost") {
			fatal(fmt.Errorf("%s is not a loopback address: the bench only talks to loopback", a))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	// The services' processes, for their CPU time per record in the scale-out steps.
	svc := findServices(kafka.ParseBrokers(kafkaAddr), esAddrs(esList))
	if *scale > 0 || *scaleRecords > 0 {
		// Before the long runs: a topic with too few partitions fails at once.
		if err := checkPartitions(ctx, kafka.Config{Brokers: kafka.ParseBrokers(kafkaAddr)}); err != nil {
			fatal(err)
		}
		logf("services: %s", svc)
		svc.measureIdle(ctx, 5*time.Second, func() { _, _ = testkit.Lag(ctx, kafka.ParseBrokers(kafkaAddr), "bench-idle", schemas.TopicArticles) })
	}
	var rows []row
	rows = append(rows, extraction()...)
	if *articles > 0 {
		r, err := endToEnd(ctx, *bin, kafkaAddr, esList, *articles, *indexProfile)
		if err != nil {
			fatal(err)
		}
		rows = append(rows, r...)
	}
	// The scale-out rows are written once every run has measured the services' idle rate.
	var scaleRows []func() []row
	if *scale > 0 {
		r, err := scaleOut(ctx, *bin, kafkaAddr, *scale, order, svc)
		if err != nil {
			fatal(err)
		}
		scaleRows = append(scaleRows, r)
	}
	if *scaleRecords > 0 {
		r, err := indexScaleOut(ctx, *bin, kafkaAddr, esList, *scaleRecords, order, svc)
		if err != nil {
			fatal(err)
		}
		scaleRows = append(scaleRows, r)
	}
	if len(scaleRows) > 0 {
		rows = append(rows, row{"scale-out", "services", fmt.Sprintf("%s: their CPU time from /proc, less their idle rate: Elasticsearch %.2f, Kafka %.2f cores, the lowest measured over 5 s before the scale-out steps and 3 s before each run (the bench sampling the lag every 100 ms, as during a run)",
			svc, svc.idle.elastic.Seconds(), svc.idle.kafka.Seconds())})
	}
	for _, r := range scaleRows {
		rows = append(rows, r()...)
	}
	if *deals > 0 {
		r, err := alertLatency(ctx, kafkaAddr, esList, *deals, *trace)
		if err != nil {
			fatal(err)
		}
		rows = append(rows, r...)
	}
	fmt.Printf("mwledger bench: %d cores (GOMAXPROCS %d), %s, Kafka %s, Elasticsearch %s\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), kafkaVersion(), esVersion(ctx, esList))
	w := 0
	for _, r := range rows {
		w = max(w, len(r.section)+len(r.metric)+3)
	}
	fmt.Printf("%-*s  %s\n", w, "stage / metric", "value")
	fmt.Println(strings.Repeat("-", w+40))
	for _, r := range rows {
		fmt.Printf("%-*s  %s\n", w, r.section+" / "+r.metric, r.value)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "mwledger-bench:", err)
	os.Exit(1)
}

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

// ensureTopics creates the pipeline's topics if they are missing (6 partitions each,
// kafka.Config's default; one for the dead letters).
// ensureTopics is app.EnsureTopics: the topics as the CLI creates them.
func ensureTopics(ctx context.Context, cfg kafka.Config) error { return app.EnsureTopics(ctx, cfg) }

// parseRuns reads -scale-runs: instance counts from 1 to scalePartitions.
func parseRuns(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k < 1 || k > scalePartitions {
			return nil, fmt.Errorf("-scale-runs %q: want instance counts from 1 to %d, comma-separated", s, scalePartitions)
		}
		out = append(out, k)
	}
	return out, nil
}

// esAddrs splits MWLEDGER_ES, one or more comma-separated URLs (a cluster's
// nodes): the stages and the bench's Elasticsearch client get all of them.
func esAddrs(esList string) []string {
	var out []string
	for _, u := range strings.Split(esList, ",") {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// firstNode is the first node of MWLEDGER_ES, for the bench's own plain HTTP calls.
func firstNode(esList string) string {
	if a := esAddrs(esList); len(a) > 0 {
		return a[0]
	}
	return esList
}

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...) }

// ---------------------------------------------------------------- extraction

func extraction() []row {
	x, err := extractor.New()
	if err != nil {
		fatal(err)
	}
	rows, perIter := extractionWith(x)
	noPOS, err := extractor.New(extractor.WithoutPOS())
	if err != nil {
		fatal(err)
	}
	_, perIterNoPOS := extractionWith(noPOS)
	n := float64(len(fixtures.Cases()))
	return append(rows, row{"extract (1 core)", "without POS tagging", fmt.Sprintf("%.0f articles/s (POS costs %.0f%% of the time)", n/perIterNoPOS, 100*(1-perIterNoPOS/perIter))})
}

// extractionWith measures one extractor over the fixtures on one core.
func extractionWith(x *extractor.Extractor) ([]row, float64) {
	var pages [][]byte
	total := 0
	for _, name := range fixtures.Cases() {
		b, err := fs.ReadFile(fixtures.FS(), name+".html")
		if err != nil {
			fatal(err)
		}
		pages = append(pages, b)
		total += len(b)
	}
	if p, err := extractor.ReadHTML(pages[0], ""); err == nil {
		x.FromPage(p, "")
	}
	prev := runtime.GOMAXPROCS(1)
	res := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, body := range pages {
				p, err := extractor.ReadHTML(body, "")
				if err != nil {
					b.Fatal(err)
				}
				x.FromPage(p, "")
			}
		}
	})
	runtime.GOMAXPROCS(prev)
	perIter := res.T.Seconds() / float64(res.N)
	n := float64(len(pages))
	return []row{
		{"extract (1 core)", fmt.Sprintf("%d fixture pages, %.1f KB average", len(pages), float64(total)/n/1024), fmt.Sprintf("%d iterations", res.N)},
		{"extract (1 core)", "articles/s", fmt.Sprintf("%.0f", n/perIter)},
		{"extract (1 core)", "MB/s", fmt.Sprintf("%.2f", float64(total)/perIter/1e6)},
		{"extract (1 core)", "memory per article", fmt.Sprintf("%.0f KB allocated, %.0f allocs", float64(res.AllocedBytesPerOp())/n/1024, float64(res.AllocsPerOp())/n)},
	}, perIter
}

// ---------------------------------------------------------------- end to end

type proc struct {
	name  string
	cmd   *exec.Cmd
	start time.Time
	end   time.Time
	hwmKB int64
	err   error
	done  chan struct{}
}

func startProc(ctx context.Context, name, bin string, env []string, args ...string) (*proc, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = io.Discard
	cmd.Stderr = os.Stderr
	p := &proc{name: name, cmd: cmd, start: time.Now(), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		p.end = time.Now()
		close(p.done)
	}()
	return p, nil
}

// sampleHWM reads the process's peak RSS (VmHWM) while it runs.
func (p *proc) sampleHWM() {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			p.hwmKB = max(p.hwmKB, kb)
		}
	}
}

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func endToEnd(ctx context.Context, bin, kafkaAddr, esURL string, n int, indexProfile string) ([]row, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s: %w (make build)", bin, err)
	}
	brokers := kafka.ParseBrokers(kafkaAddr)
	cfg := kafka.Config{Brokers: brokers}
	if err := ensureTopics(ctx, cfg); err != nil {
		return nil, err
	}
	now := time.Now().UnixNano()
	run := strconv.FormatInt(now, 36)
	// A fresh alias per run: the indexer's work depends on the deals already
	// there, and the figures must not depend on the runs and tests before.
	alias := es.Alias + "-e2e-" + run
	store, drop, err := freshAlias(ctx, esURL, alias)
	if err != nil {
		return nil, err
	}
	defer drop()
	seed := int(now % testkit.Combos)
	site := testkit.NewDealSite("/bench-"+run, n, 20, func(i int) testkit.Deal { return testkit.DealOf(seed, i) })
	defer site.Close()
	gx, gi, gb := "bench-x-"+run, "bench-i-"+run, "bench-b-"+run
	if err := testkit.SkipBacklog(ctx, brokers, gx, schemas.TopicArticles); err != nil {
		return nil, err
	}
	// gb starts where gi does: it reads the run's records again afterwards (indexBacklog).
	for _, g := range []string{gi, gb} {
		if err := testkit.SkipBacklog(ctx, brokers, g, schemas.TopicContracts); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "mwledger-bench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	sources := filepath.Join(dir, "sources.yaml")
	var feeds strings.Builder
	for _, f := range site.FeedURLs() {
		fmt.Fprintf(&feeds, "      - %s\n", f)
	}
	if err := os.WriteFile(sources, []byte(fmt.Sprintf("sources:\n  - name: bench\n    feeds:\n%s    allow_private: true\n    delay: 1ns\n    parallelism: 16\n", feeds.String())), 0o644); err != nil {
		return nil, err
	}
	env := []string{"MWLEDGER_KAFKA=" + kafkaAddr, "MWLEDGER_ES=" + esURL, "MWLEDGER_LOG_LEVEL=warn", "MWLEDGER_ES_ALIAS=" + alias}
	logf("end to end: %d articles, crawl + extract + index as subprocesses", n)
	start := time.Now()
	xp, err := startProc(ctx, "extract", bin, env, "extract", "--consume", "--group", gx, "--idle-exit", "10s")
	if err != nil {
		return nil, err
	}
	maddr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	murl := "http://" + maddr + "/metrics"
	ip, err := startProc(ctx, "index", bin, env, "index", "--group", gi, "--no-alerts", "--idle-exit", "10s", "--metrics-addr", maddr)
	if err != nil {
		return nil, err
	}
	cp, err := startProc(ctx, "crawl", bin, env, "crawl", "--sources", sources, "--once", "--state", filepath.Join(dir, "state.db"), "--progress", "0")
	if err != nil {
		return nil, err
	}
	procs := []*proc{cp, xp, ip}
	// Peak RSS is read often: the crawl of a small site ends within a second.
	hctx, stopHWM := context.WithCancel(ctx)
	defer stopHWM()
	var hwmMu sync.Mutex
	go func() {
		for hctx.Err() == nil {
			hwmMu.Lock()
			for _, p := range procs {
				if p.running() {
					p.sampleHWM()
				}
			}
			hwmMu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}()
	type sample struct {
		at       time.Duration
		xl, il   int64
		crawling bool
	}
	var samples []sample
	var isamples []indexerSample   // the indexer's metrics, each second
	var xDone, iDone time.Duration // last moment each group still had lag
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for xp.running() || ip.running() {
		xl, _ := testkit.Lag(ctx, brokers, gx, schemas.TopicArticles)
		il, _ := testkit.Lag(ctx, brokers, gi, schemas.TopicContracts)
		at := time.Since(start)
		samples = append(samples, sample{at, xl, il, cp.running()})
		if ip.running() {
			isamples = append(isamples, scrapeIndexer(ctx, murl, at))
		}
		if xl > 0 || cp.running() {
			xDone = at
		}
		if il > 0 || xl > 0 || cp.running() {
			iDone = at
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
	stopHWM()
	hwmMu.Lock()
	defer hwmMu.Unlock()
	for _, p := range procs {
		<-p.done
		if p.err != nil {
			return nil, fmt.Errorf("%s: %v", p.name, p.err)
		}
	}
	// Everything is committed, hence indexed, once both lags are 0.
	wall := iDone + time.Second // the first sample with no lag left
	counts, err := testkit.SourceCounts(ctx, store, site.URL+"/")
	if err != nil {
		return nil, err
	}
	var lag strings.Builder
	step := max(1, len(samples)/12)
	for i := 0; i < len(samples); i += step {
		s := samples[i]
		fmt.Fprintf(&lag, "%ds:%d/%d ", int(s.at.Seconds()), s.xl, s.il)
	}
	sec := func(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
	crawlTook := cp.end.Sub(cp.start)
	rows := []row{
		{"end to end", "articles crawled, extracted, indexed", fmt.Sprintf("%d generated, %d records in Elasticsearch", n, len(counts))},
		{"end to end", "wall time (to both lags 0)", sec(wall)},
		{"end to end", "articles/s", fmt.Sprintf("%.0f", float64(n)/wall.Seconds())},
		{"end to end", "crawl stage time", fmt.Sprintf("%s (%.0f articles/s, fetch + synchronous publish)", sec(crawlTook), float64(n)/crawlTook.Seconds())},
		{"end to end", "extract stage done at", fmt.Sprintf("%s (%s after the crawl ended)", sec(xDone+time.Second), sec(max(0, xDone+time.Second-crawlTook)))},
		{"end to end", "index stage done at", fmt.Sprintf("%s (%s after extraction ended)", sec(wall), sec(wall-xDone-time.Second))},
		{"end to end", "consumer lag t:articles/contracts", strings.TrimSpace(lag.String())},
	}
	// The indexer beside a raw bulk ingest of the same final documents.
	rate, first, last, ok := indexerRate(isamples)
	if ok {
		rows = append(rows, row{"indexer vs raw bulk", "indexer records/s in the pipeline", fmt.Sprintf("%.0f (%.0f records committed from %s to %s, beside the crawler and extractor; %.0f batches, %.1f s in batches, %.0f bulk requests, %.1f s in bulk)",
			rate, last.records, sec(first.at), sec(last.at), last.batches, last.batchSeconds, last.bulks, last.bulkSeconds)},
			row{"indexer vs raw bulk", "Elasticsearch calls per batch", last.perBatch()})
	} else {
		rows = append(rows, row{"indexer vs raw bulk", "indexer records/s", "unknown (its metrics were not scraped)"})
	}
	docs, took, err := rawBulk(ctx, esURL, store.AliasName(), site.URL+"/", run)
	if err != nil {
		return nil, err
	}
	raw := float64(docs) / took.Seconds()
	rows = append(rows, row{"indexer vs raw bulk", "raw bulk docs/s", fmt.Sprintf("%.0f (%d final deal documents into a fresh index of the same template, bulk requests of 500, %s)", raw, docs, sec(took))})
	if ok {
		rows = append(rows, row{"indexer vs raw bulk", "indexer in the pipeline / raw bulk", fmt.Sprintf("%.0f%%", 100*rate/raw)})
	}
	brows, brate, err := indexBacklog(ctx, bin, kafkaAddr, esURL, gb, es.Alias+"-backlog-"+run, len(counts), indexProfile)
	if err != nil {
		return nil, err
	}
	rows = append(rows, brows...)
	rows = append(rows, row{"indexer on a backlog", "indexer / raw bulk", fmt.Sprintf("%.0f%% (targets of issue 16: 3,000 new deals/s and 30%%)", 100*brate/raw)})
	for _, p := range procs {
		rows = append(rows, row{"peak RSS", p.name, fmt.Sprintf("%.0f MB (VmHWM)", float64(p.hwmKB)/1024)})
	}
	return rows, nil
}

// ---------------------------------------------------------------- versions

func kafkaVersion() string {
	// The Kafka protocol does not report the broker's release: this is the one
	// scripts/services.sh starts.
	return envOr("MWLEDGER_KAFKA_VERSION", "4.1.1") + " (services.sh)"
}

func esVersion(ctx context.Context, esList string) string {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, firstNode(esList)+"/_nodes/_local", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	defer res.Body.Close()
	var nr struct {
		Nodes map[string]struct {
			Version string `json:"version"`
		} `json:"nodes"`
	}
	if err := json.NewDecoder(res.Body).Decode(&nr); err != nil {
		return "unknown"
	}
	for _, n := range nr.Nodes {
		return n.Version
	}
	return "unknown"
}
