package integration

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/internal/metrics"
	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/ledger/es"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream/kafka"
)

// The cluster fault tests run on the three brokers and three Elasticsearch
// nodes of `scripts/services.sh up --cluster` (`make test-cluster` starts
// them and sets MWLEDGER_TEST_CLUSTER_*). Each crawls generated articles
// through `mwledger crawl`, `extract --consume` and `index` (the binaries),
// injects one fault mid-stream, and checks at the end that every deal is in
// the ledger exactly once. It reports how long the pipeline stalled (the
// longest time in which neither consuming stage committed anything between the
// fault and the end) and what was retried.

// clusterEnv returns the cluster's brokers, Elasticsearch URLs, and the
// script and state dir that kill and start its nodes; it skips the test when
// no cluster was started for it.
type clusterEnv struct {
	kafka, es string
	brokers   []string
	sh, state string
}

func cluster(t *testing.T) *clusterEnv {
	t.Helper()
	c := &clusterEnv{kafka: os.Getenv("MWLEDGER_TEST_CLUSTER_KAFKA"), es: os.Getenv("MWLEDGER_TEST_CLUSTER_ES"),
		sh: os.Getenv("MWLEDGER_TEST_CLUSTER_SH"), state: os.Getenv("MWLEDGER_TEST_CLUSTER_STATE_DIR")}
	if c.kafka == "" || c.es == "" || c.sh == "" || c.state == "" {
		t.Skip("no cluster: `make test-cluster` starts one (scripts/services.sh up --cluster) and runs these tests")
	}
	c.brokers = kafka.ParseBrokers(c.kafka)
	hosts := append([]string{}, c.brokers...)
	for _, u := range strings.Split(c.es, ",") {
		p, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, p.Host)
	}
	for _, h := range hosts {
		host, _, err := net.SplitHostPort(h)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			t.Fatalf("cluster address %s is not a loopback address", h)
		}
		conn, err := net.DialTimeout("tcp", h, 2*time.Second)
		if err != nil {
			t.Fatalf("cluster node %s is not reachable (a previous test left it down?): %v", h, err)
		}
		conn.Close()
	}
	return c
}

// ctl runs a node command of the cluster script (kill-kafka 2, start-es 1, es-master).
func (c *clusterEnv) ctl(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, "bash", append([]string{c.sh}, append(args, "--cluster")...)...)
	cmd.Env = append(os.Environ(), "MWLEDGER_CLUSTER_STATE_DIR="+c.state)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("services.sh %s --cluster: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// restartAtEnd starts node n again when the test ends, however it ends: the
// next test needs the whole cluster.
func (c *clusterEnv) restartAtEnd(t *testing.T, what string, n int) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		c.ctl(t, ctx, "start-"+what, strconv.Itoa(n))
	})
}

// stage is a stage binary with its metrics endpoint.
type stage struct {
	cmd     *exec.Cmd
	logs    *syncBuffer
	metrics string
}

var warnRe = regexp.MustCompile(`level=WARN msg="([^"]*)"`)

var metricsLogRe = regexp.MustCompile(`msg="serving metrics" url=(http://127\.0\.0\.1:\d+/metrics)`)

func (c *clusterEnv) startStage(t *testing.T, ctx context.Context, args ...string) *stage {
	t.Helper()
	s := &stage{logs: &syncBuffer{}}
	s.cmd = exec.CommandContext(ctx, mwledgerBinary(t), append(args, "--metrics-addr", "127.0.0.1:0")...)
	s.cmd.Env = append(os.Environ(), "MWLEDGER_KAFKA="+c.kafka, "MWLEDGER_ES="+c.es, "MWLEDGER_LOG_LEVEL=info")
	s.cmd.Stderr = s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
		}
		if t.Failed() {
			lines := strings.Split(strings.TrimSpace(s.logs.String()), "\n")
			t.Logf("last lines of mwledger %s:\n%s", args[0], strings.Join(lines[max(0, len(lines)-25):], "\n"))
		}
	})
	// Ready once it serves metrics and has started consuming (its topics and
	// index exist): the fault must hit a running stage, not its start-up.
	if !waitFor(ctx, 50*time.Millisecond, func() bool {
		logs := s.logs.String()
		if m := metricsLogRe.FindStringSubmatch(logs); m != nil {
			s.metrics = m[1]
		}
		return s.metrics != "" && strings.Contains(logs, "stage started")
	}) {
		t.Fatalf("mwledger %s did not start:\n%s", args[0], s.logs.String())
	}
	return s
}

func (s *stage) scrape(ctx context.Context) metrics.Scrape {
	m, err := metrics.ScrapeURL(ctx, s.metrics)
	if err != nil {
		return nil
	}
	return m
}

// progress samples the committed records of the consuming stages and keeps
// the longest time without any, between the fault and the end.
type progress struct {
	mu        sync.Mutex
	last      float64
	lastMove  time.Time
	longest   time.Duration
	longestAt time.Time
	from      time.Time
}

func (p *progress) sample(v float64, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if v != p.last || p.lastMove.IsZero() {
		if !p.from.IsZero() && !p.lastMove.IsZero() {
			start := p.lastMove
			if start.Before(p.from) {
				start = p.from
			}
			if gap := now.Sub(start); gap > p.longest {
				p.longest, p.longestAt = gap, start
			}
		}
		p.last, p.lastMove = v, now
	}
}

func (p *progress) faultAt(at time.Time) {
	p.mu.Lock()
	p.from = at
	p.mu.Unlock()
}

func (p *progress) stall() (time.Duration, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.longest, p.longestAt.Sub(p.from)
}

// maxStall bounds the longest time without a commit in a fault test.
const maxStall = 45 * time.Second

// faultRun is one cluster fault test: n generated articles (deals of seed)
// crawled, extracted and indexed while fault runs once the crawl is under way.
func faultRun(t *testing.T, name string, seed, n int, fault func(ctx context.Context, c *clusterEnv)) {
	c := cluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cfg := kafka.Config{Brokers: c.brokers}
	if err := kafka.EnsureTopics(ctx, cfg, kafka.TopicSpec{Name: schemas.TopicArticles}, kafka.TopicSpec{Name: schemas.TopicContracts},
		kafka.TopicSpec{Name: schemas.TopicDLQ, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	checkReplicas(t, ctx, c.brokers)
	group := fmt.Sprintf("cluster-%s-%d", name, time.Now().UnixNano())
	skipBacklog(t, ctx, c.brokers, group+"-x", schemas.TopicArticles)
	skipBacklog(t, ctx, c.brokers, group+"-i", schemas.TopicContracts)

	site := testkit.NewDealSite(uniquePrefix("cluster-"+name), n, 4, func(i int) testkit.Deal { return testkit.DealOf(seed, i) })
	t.Cleanup(site.Close)
	dir := t.TempDir()
	sources := filepath.Join(dir, "sources.yaml")
	var feeds strings.Builder
	for _, f := range site.FeedURLs() {
		fmt.Fprintf(&feeds, "      - %s\n", f)
	}
	if err := os.WriteFile(sources, []byte(fmt.Sprintf("sources:\n  - name: cluster-%s\n    feeds:\n%s    allow_private: true\n    delay: 50ms\n    parallelism: 2\n", name, feeds.String())), 0o644); err != nil {
		t.Fatal(err)
	}
	x := c.startStage(t, ctx, "extract", "--consume", "--group", group+"-x")
	ix := c.startStage(t, ctx, "index", "--group", group+"-i", "--no-alerts")
	// A stage whose group coordinator is killed rejoins its group (slower).
	t.Logf("%s: the extractor's group is coordinated by broker %d, the indexer's by broker %d", name,
		groupCoordinator(ctx, c.brokers, group+"-x"), groupCoordinator(ctx, c.brokers, group+"-i"))

	var prog, progX, progI progress
	sampleCtx, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for sampleCtx.Err() == nil {
			xs, is := x.scrape(sampleCtx), ix.scrape(sampleCtx)
			if xs != nil && is != nil {
				now := time.Now()
				xin, iin := xs.Value("mwledger_stage_records_in_total"), is.Value("mwledger_stage_records_in_total")
				prog.sample(xin+iin, now)
				progX.sample(xin, now)
				progI.sample(iin, now)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()

	state := filepath.Join(dir, "crawl.db")
	crawl := func() (string, error) {
		var errb bytes.Buffer
		cmd := exec.CommandContext(ctx, mwledgerBinary(t), "crawl", "--sources", sources, "--once", "--state", state, "--progress", "0")
		cmd.Env = append(os.Environ(), "MWLEDGER_KAFKA="+c.kafka, "MWLEDGER_LOG_LEVEL=warn")
		cmd.Stderr = &errb
		err := cmd.Run()
		return errb.String(), err
	}
	crawlDone := make(chan struct{})
	var crawlLog string
	var crawlErr error
	go func() { defer close(crawlDone); crawlLog, crawlErr = crawl() }()
	served := func() int {
		k := 0
		for i := range n {
			if !site.ServedAt(i).IsZero() {
				k++
			}
		}
		return k
	}
	if !waitFor(ctx, 20*time.Millisecond, func() bool { return served() >= n/4 }) {
		t.Fatal("the crawler fetched nothing")
	}
	faultAt := time.Now()
	for _, p := range []*progress{&prog, &progX, &progI} {
		p.faultAt(faultAt)
	}
	// The fault (with the restart that ends it) runs beside the pipeline:
	// the time to index everything is measured from its start, whatever a
	// restarted node takes to start.
	faultDone := make(chan struct{})
	go func() { defer close(faultDone); fault(ctx, c) }()
	<-crawlDone
	passes := 1
	retriesLogged := strings.Count(crawlLog, "publish failed, retrying")
	if crawlErr != nil {
		// The outage was longer than a publish's timeout: the next pass publishes what is missing.
		t.Logf("crawl pass 1 gave up: %v: %s", crawlErr, lastLine(crawlLog))
		passes++
		out, err := crawl()
		if err != nil {
			t.Fatalf("crawl pass 2: %v\n%s", err, out)
		}
		retriesLogged += strings.Count(out, "publish failed, retrying")
	}
	caughtUp(t, ctx, c.brokers, group+"-x", schemas.TopicArticles)
	caughtUp(t, ctx, c.brokers, group+"-i", schemas.TopicContracts)
	doneAt := time.Now()
	stopSampling()
	<-sampled
	<-faultDone
	faultTook := time.Since(faultAt)
	xs, is := x.scrape(ctx), ix.scrape(ctx)
	stop(t, x.cmd)
	stop(t, ix.cmd)

	store, err := es.New(es.Config{Addresses: strings.Split(c.es, ",")})
	if err != nil {
		t.Fatal(err)
	}
	counts, err := testkit.SourceCounts(ctx, store, site.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	// The articles whose deal the extractor finds in-process must each be in
	// exactly one deal, once; the others in none.
	x0, err := extractor.New()
	if err != nil {
		t.Fatal(err)
	}
	want, lost, twice := 0, 0, 0
	for i := range n {
		u := site.ArticleURL(i)
		page, err := extractor.ReadHTML(testkit.ArticleHTML(u, testkit.DealOf(seed, i)), "")
		if err != nil {
			t.Fatal(err)
		}
		found := len(x0.FromPage(page, u)) > 0
		switch {
		case found && counts[u] == 0:
			lost++
		case found && counts[u] > 1, !found && counts[u] > 0:
			twice++
		}
		if found {
			want++
		}
	}
	if lost > 0 || twice > 0 || len(counts) != want {
		t.Errorf("ledger: %d deals of this run, want %d (the articles the extractor finds a deal in): %d lost, %d not exactly once", len(counts), want, lost, twice)
	}
	// What the stages logged about the fault: warnings by message.
	warnings := func(s *stage) string {
		counts := map[string]int{}
		for _, l := range strings.Split(s.logs.String(), "\n") {
			if m := warnRe.FindStringSubmatch(l); m != nil {
				counts[m[1]]++
			}
		}
		var out []string
		for msg, k := range counts {
			out = append(out, fmt.Sprintf("%q×%d", msg, k))
		}
		slices.Sort(out)
		return strings.Join(out, ", ")
	}
	t.Logf("%s: extractor warnings: %s; indexer warnings: %s", name, warnings(x), warnings(ix))
	stall, stallAfter := prog.stall()
	stallX, _ := progX.stall()
	stallI, _ := progI.stall()
	// A stall is the fault's leader election, plus a consumer group's
	// rebalance when the killed broker coordinated it (6-18 s measured on a
	// loaded machine). Before the stages skipped the fetch failures kafka-go
	// had queued, each cost a growing wait: 63-74 s.
	if stall > maxStall {
		t.Errorf("%s: the stages committed nothing for %s (from %s after the fault), more than %s", name, stall.Round(time.Millisecond), stallAfter.Round(time.Millisecond), maxStall)
	}
	// Duplicates: articles on the topic more than once (a publish retried after
	// the broker took it), contract records the extractor published for more
	// articles than it was given (a batch redone after a rebalance).
	_, missing, dups, messages := onTopicBrokers(t, c.brokers, site)
	if missing > 0 {
		t.Errorf("%d articles fetched but not on the topic", missing)
	}
	t.Logf("%s: %d articles, %d crawl pass(es); fault %s into the crawl (it and the restart took %s); all indexed %s after the fault; longest stall %s (starting %s after the fault; extractor alone %s, indexer alone %s); "+
		"crawler publish retries logged %d; articles on the topic %d (%d twice or more); extractor in %v out %v retries %v; indexer in %v retries %v, bulk requests %v (%v non-200); deals %d (want %d)",
		name, n, passes, faultAt.Sub(crawlStart(site, n)).Round(time.Millisecond), faultTook.Round(time.Millisecond), doneAt.Sub(faultAt).Round(time.Millisecond),
		stall.Round(time.Millisecond), stallAfter.Round(time.Millisecond), stallX.Round(time.Millisecond), stallI.Round(time.Millisecond), retriesLogged, messages, dups,
		xs.Value("mwledger_stage_records_in_total"), xs.Value("mwledger_stage_records_out_total"), xs.Value("mwledger_stage_retries_total"),
		is.Value("mwledger_stage_records_in_total"), is.Value("mwledger_stage_retries_total"),
		is.Value("mwledger_es_bulk_requests_total"), is.Value("mwledger_es_bulk_requests_total")-is.Value("mwledger_es_bulk_requests_total", "status", "200"),
		len(counts), want)
}

// onTopicBrokers is onTopic on a broker list.
func onTopicBrokers(t *testing.T, brokers []string, site *testkit.DealSite) (fetched, missing, dups, messages int) {
	t.Helper()
	return onTopic(t, strings.Join(brokers, ","), site, "cluster")
}

// checkReplicas fails unless the pipeline's topics have three replicas.
func checkReplicas(t *testing.T, ctx context.Context, brokers []string) {
	t.Helper()
	client := &kafkago.Client{Addr: kafkago.TCP(brokers...), Timeout: 10 * time.Second}
	md, err := client.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{schemas.TopicArticles, schemas.TopicContracts}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range md.Topics {
		for _, p := range tp.Partitions {
			if len(p.Replicas) != 3 {
				t.Fatalf("%s partition %d has %d replicas, want 3", tp.Name, p.ID, len(p.Replicas))
			}
		}
	}
}

// groupCoordinator is the broker (1-3) coordinating group, 0 if unknown.
func groupCoordinator(ctx context.Context, brokers []string, group string) int {
	client := &kafkago.Client{Addr: kafkago.TCP(brokers...), Timeout: 10 * time.Second}
	r, err := client.FindCoordinator(ctx, &kafkago.FindCoordinatorRequest{Key: group})
	if err != nil || r.Error != nil || r.Coordinator == nil {
		return 0
	}
	return r.Coordinator.NodeID
}

// contractsLeader is the broker (1-3) leading partition 0 of mwledger.contracts.
func contractsLeader(t *testing.T, ctx context.Context, brokers []string) int {
	t.Helper()
	client := &kafkago.Client{Addr: kafkago.TCP(brokers...), Timeout: 10 * time.Second}
	md, err := client.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{schemas.TopicContracts}})
	if err != nil || len(md.Topics) != 1 {
		t.Fatalf("metadata of %s: %v", schemas.TopicContracts, err)
	}
	for _, p := range md.Topics[0].Partitions {
		if p.ID == 0 {
			return p.Leader.ID
		}
	}
	t.Fatalf("%s has no partition 0", schemas.TopicContracts)
	return 0
}

// TestClusterBrokerKilled SIGKILLs broker 2 while the crawler publishes and
// the extractor and indexer consume, and starts it again 10 s later.
func TestClusterBrokerKilled(t *testing.T) {
	faultRun(t, "broker-killed", 11000, 200, func(ctx context.Context, c *clusterEnv) {
		c.restartAtEnd(t, "kafka", 2)
		c.ctl(t, ctx, "kill-kafka", "2")
		time.Sleep(10 * time.Second)
		c.ctl(t, ctx, "start-kafka", "2")
	})
}

// TestClusterContractsLeaderKilled SIGKILLs the broker leading partition 0 of
// mwledger.contracts mid-stream, and starts it again 10 s later.
func TestClusterContractsLeaderKilled(t *testing.T) {
	faultRun(t, "leader-killed", 12000, 200, func(ctx context.Context, c *clusterEnv) {
		leader := contractsLeader(t, ctx, c.brokers)
		t.Logf("partition 0 of %s is led by broker %d", schemas.TopicContracts, leader)
		c.restartAtEnd(t, "kafka", leader)
		killedAt := time.Now()
		c.ctl(t, ctx, "kill-kafka", strconv.Itoa(leader))
		var now int
		if !waitFor(ctx, 200*time.Millisecond, func() bool {
			now = contractsLeader(t, ctx, c.brokers)
			return now != leader && now > 0
		}) {
			t.Errorf("broker %d still leads partition 0 after it was killed", leader)
		}
		t.Logf("broker %d leads partition 0 %s after the kill", now, time.Since(killedAt).Round(time.Millisecond))
		if rest := 10*time.Second - time.Since(killedAt); rest > 0 {
			time.Sleep(rest)
		}
		c.ctl(t, ctx, "start-kafka", strconv.Itoa(leader))
	})
}

// TestClusterESNodeKilled SIGKILLs an Elasticsearch node that is not the
// elected master while the indexer writes, and starts it again 10 s later.
func TestClusterESNodeKilled(t *testing.T) {
	faultRun(t, "es-node-killed", 13000, 200, func(ctx context.Context, c *clusterEnv) {
		master, _ := strconv.Atoi(c.ctl(t, ctx, "es-master"))
		node := master%3 + 1
		t.Logf("master is es-%d; killing es-%d", master, node)
		c.restartAtEnd(t, "es", node)
		c.ctl(t, ctx, "kill-es", strconv.Itoa(node))
		time.Sleep(10 * time.Second)
		c.ctl(t, ctx, "start-es", strconv.Itoa(node))
	})
}

// TestClusterESMasterStopped stops (SIGTERM) the elected master node while
// the indexer writes; the others elect a new one. It is started again at the end.
func TestClusterESMasterStopped(t *testing.T) {
	faultRun(t, "es-master-stopped", 14000, 200, func(ctx context.Context, c *clusterEnv) {
		master, _ := strconv.Atoi(c.ctl(t, ctx, "es-master"))
		t.Logf("stopping the elected master es-%d", master)
		c.restartAtEnd(t, "es", master)
		c.ctl(t, ctx, "stop-es", strconv.Itoa(master))
		var now int
		if !waitFor(ctx, 500*time.Millisecond, func() bool {
			cmd := exec.CommandContext(ctx, "bash", c.sh, "es-master", "--cluster")
			cmd.Env = append(os.Environ(), "MWLEDGER_CLUSTER_STATE_DIR="+c.state)
			out, err := cmd.Output()
			now, _ = strconv.Atoi(strings.TrimSpace(string(out)))
			return err == nil && now != master && now != 0
		}) {
			t.Fatal("no new master elected")
		}
		t.Logf("es-%d elected master", now)
	})
}
