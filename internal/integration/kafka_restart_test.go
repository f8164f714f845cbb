package integration

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mwledger/mwledger/crawler"
	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream/kafka"
)

// TestKafkaPausedWhileCrawling freezes the Kafka broker (SIGSTOP) for 15 s while
// `mwledger crawl --once` publishes a generated site of 300 articles, then thaws
// it (SIGCONT): the crawler publishes synchronously and retries, so every article
// it fetched must end up on mwledger.articles. A frozen broker is what clients
// see of a hung broker: connections stall and requests time out, they are not
// refused (TestKafkaRestartedWhileCrawling below stops the process for real).
func TestKafkaPausedWhileCrawling(t *testing.T) {
	kafkaAddr := testkit.Kafka(t)
	pid := testkit.ServicePID(t, "MWLEDGER_TEST_KAFKA_PID_FILE")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := mwledgerBinary(t)
	cfg := kafka.Config{Brokers: []string{kafkaAddr}}
	if err := kafka.EnsureTopics(ctx, cfg, kafka.TopicSpec{Name: schemas.TopicArticles}); err != nil {
		t.Fatal(err)
	}

	const n = 300
	site, sources, dir := pacedSite(t, "kafka-pause", n)
	var errb bytes.Buffer
	crawl := exec.CommandContext(ctx, bin, "crawl", "--sources", sources, "--once", "--state", filepath.Join(dir, "state.db"), "--progress", "0")
	crawl.Env = append(os.Environ(), "MWLEDGER_KAFKA="+kafkaAddr, "MWLEDGER_LOG_LEVEL=warn")
	crawl.Stderr = &errb
	if err := crawl.Start(); err != nil {
		t.Fatal(err)
	}
	served := func() int {
		c := 0
		for i := range n {
			if !site.ServedAt(i).IsZero() {
				c++
			}
		}
		return c
	}
	if !waitFor(ctx, 10*time.Millisecond, func() bool { return served() >= n/5 }) {
		t.Fatal("the crawler fetched nothing")
	}

	thaw := freeze(t, pid)
	defer thaw() // never leave Kafka frozen, whatever happens
	pausedAt := served()
	time.Sleep(15 * time.Second)
	duringPause := served() - pausedAt
	thaw()

	if err := crawl.Wait(); err != nil {
		t.Fatalf("mwledger crawl: %v\n%s", err, errb.String())
	}
	fetched, missing, dups, _ := onTopic(t, kafkaAddr, site, "frozen broker")
	if missing > 0 || fetched != n {
		t.Fatalf("%d of %d articles fetched, %d of them missing on the topic", fetched, n, missing)
	}
	// Delivery is at-least-once: a write the frozen broker received but did not
	// acknowledge in time is sent again. Report duplicates, fail only on loss.
	t.Logf("Kafka frozen 15 s after %d of %d articles were fetched (%d more fetched meanwhile); all %d on the topic, %d of them twice or more",
		pausedAt, n, duringPause, fetched, dups)
	if tail := strings.TrimSpace(errb.String()); tail != "" {
		t.Logf("crawler warnings (last line): %s", lastLine(tail))
	}
}

// kafkaControl runs `scripts/services.sh stop-kafka|start-kafka` on the broker the
// tests share (the script and its state dir come from `services.sh env`). The
// script takes the broker's configuration from what `up` saved in the state dir.
func kafkaControl(ctx context.Context, sh, stateDir, cmd string) (string, error) {
	c := exec.CommandContext(ctx, "bash", sh, cmd)
	c.Env = append(os.Environ(), "MWLEDGER_STATE_DIR="+stateDir)
	out, err := c.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// restartableKafka returns the script and state dir that can stop and start the
// test broker, and makes sure the broker runs again when the test ends, however
// it ends: the other integration tests share it.
func restartableKafka(t *testing.T) (sh, stateDir string) {
	t.Helper()
	sh, stateDir = os.Getenv("MWLEDGER_TEST_SERVICES_SH"), os.Getenv("MWLEDGER_TEST_SERVICES_STATE_DIR")
	if sh == "" || stateDir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(`MWLEDGER_TEST_SERVICES_SH / MWLEDGER_TEST_SERVICES_STATE_DIR are not set (eval "$(scripts/services.sh env)")`)
		}
		t.Skip("MWLEDGER_TEST_SERVICES_SH / MWLEDGER_TEST_SERVICES_STATE_DIR are not set: cannot restart the broker")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		// start-kafka does nothing (but wait until ready) when the broker runs.
		if out, err := kafkaControl(ctx, sh, stateDir, "start-kafka"); err != nil {
			t.Errorf("starting Kafka again after the test: %v\n%s", err, out)
		}
	})
	return sh, stateDir
}

// onTopic reads the articles of site from mwledger.articles and returns how
// many the site served, how many of those are missing and how many are there
// more than once, and how many messages of the site the topic holds.
func onTopic(t *testing.T, kafkaAddr string, site *testkit.DealSite, what string) (fetched, missing, dups, messages int) {
	t.Helper()
	for i := range site.Articles {
		if !site.ServedAt(i).IsZero() {
			fetched++
		}
	}
	count := map[string]int{}
	for _, a := range topicArticles(t, kafkaAddr, site.URL+"/", fetched, time.Second) {
		count[a.CanonicalURL]++
		messages++
	}
	for i := range site.Articles {
		if site.ServedAt(i).IsZero() {
			continue
		}
		switch count[site.ArticleURL(i)] {
		case 0:
			missing++
			if missing <= 5 {
				t.Errorf("%s: %s was fetched but is not on the topic", what, site.ArticleURL(i))
			}
		case 1:
		default:
			dups++
		}
	}
	return fetched, missing, dups, messages
}

var publishedRE = regexp.MustCompile(`crawl: \d+ fetched \([^)]*\), (\d+) published`)

// published is the count of articles a `crawl --once` said it published (its
// last statistics line), or -1.
func published(stderr string) int {
	m := publishedRE.FindAllStringSubmatch(stderr, -1)
	if len(m) == 0 {
		return -1
	}
	n, _ := strconv.Atoi(m[len(m)-1][1])
	return n
}

// TestKafkaRestartedWhileCrawling really stops the broker (SIGTERM, and waits for
// the process to exit) while `mwledger crawl --once` publishes a generated site
// of 300 articles, keeps it down for 8 s, starts it again on the same
// configuration and data dir, and checks that every article the crawler fetched
// is on mwledger.articles: none lost, duplicates (at-least-once) reported.
//
// During the same outage a second crawler, in-process and with a publish timeout
// of 3 s, crawls another site: it must give up (the pass fails, nothing is
// recorded as seen), and its next pass, after the broker is back, must publish
// every article: what a crawler gives up on comes again, it is not lost. The
// CLI crawl above does the same when the outage outlasts its 30 s publish
// timeout: the test then runs the next pass (same seen-set) and checks the same.
func TestKafkaRestartedWhileCrawling(t *testing.T) {
	const downFor = 8 * time.Second // from the broker's exit to start-kafkaAddr
	kafkaAddr := testkit.Kafka(t)
	sh, stateDir := restartableKafka(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := mwledgerBinary(t)
	cfg := kafka.Config{Brokers: []string{kafkaAddr}}
	if err := kafka.EnsureTopics(ctx, cfg, kafka.TopicSpec{Name: schemas.TopicArticles}); err != nil {
		t.Fatal(err)
	}

	// Site A, crawled by the CLI.
	const n = 300
	site, sources, dir := pacedSite(t, "kafka-restart", n)
	state := filepath.Join(dir, "state.db")
	crawlOnce := func() (*exec.Cmd, *bytes.Buffer) {
		var errb bytes.Buffer
		c := exec.CommandContext(ctx, bin, "crawl", "--sources", sources, "--once", "--state", state, "--progress", "0")
		c.Env = append(os.Environ(), "MWLEDGER_KAFKA="+kafkaAddr, "MWLEDGER_LOG_LEVEL=warn")
		c.Stderr = &errb
		return c, &errb
	}
	served := func(s *testkit.DealSite) int {
		c := 0
		for i := range s.Articles {
			if !s.ServedAt(i).IsZero() {
				c++
			}
		}
		return c
	}

	// Site B, crawled in-process with a publish timeout shorter than the outage.
	const nb = 20
	siteB := testkit.NewDealSite(uniquePrefix("kafka-restart-giveup"), nb, 1, func(i int) testkit.Deal { return testkit.DealOf(1, i) })
	defer siteB.Close()
	srcB := crawler.Source{Name: "it-kafka-restart-giveup", Feeds: siteB.FeedURLs(), AllowPrivate: true,
		Delay: crawler.Duration{Duration: time.Millisecond}, Parallelism: 2}
	pubB, err := kafka.NewPublisher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pubB.Close()
	crawlerB := crawler.New(crawler.Config{PublishTimeout: 3 * time.Second, State: crawler.NewMemoryState(),
		Timeout: 10 * time.Second}, pubB, slog.New(slog.DiscardHandler))

	crawl, errb := crawlOnce()
	if err := crawl.Start(); err != nil {
		t.Fatal(err)
	}
	crawlDone := make(chan error, 1)
	var crawlEnd time.Time
	go func() { err := crawl.Wait(); crawlEnd = time.Now(); crawlDone <- err }()
	if !waitFor(ctx, 10*time.Millisecond, func() bool { return served(site) >= n/5 }) {
		t.Fatal("the crawler fetched nothing")
	}

	oldPID := testkit.ServicePID(t, "MWLEDGER_TEST_KAFKA_PID_FILE")
	stopAt := time.Now()
	before := served(site)
	if out, err := kafkaControl(ctx, sh, stateDir, "stop-kafka"); err != nil {
		t.Fatalf("stopping Kafka: %v\n%s", err, out)
	}
	stopTook := time.Since(stopAt)
	if syscall.Kill(oldPID, 0) == nil {
		t.Fatalf("the broker (pid %d) still runs after stop-kafka", oldPID)
	}
	downAt := time.Now()
	atStop := served(site)

	// Site B while the broker is down: the pass gives up.
	errB := crawlerB.Crawl(ctx, []crawler.Source{srcB})
	stB := crawlerB.Stats()
	if errB == nil || !strings.Contains(errB.Error(), "publishing") {
		t.Fatalf("crawl of site B while the broker is down: err = %v, want a publish failure", errB)
	}
	if stB.Failed["publish"] == 0 || stB.Published != 0 {
		t.Fatalf("site B while the broker is down: %d published, %d publish failures; want 0 and ≥ 1 (%v)", stB.Published, stB.Failed["publish"], stB.Failed)
	}
	fetchedB1 := served(siteB)

	if rest := downFor - time.Since(downAt); rest > 0 {
		time.Sleep(rest)
	}
	duringDown := served(site) - atStop
	startAt := time.Now()
	if out, err := kafkaControl(ctx, sh, stateDir, "start-kafka"); err != nil {
		t.Fatalf("starting Kafka: %v\n%s", err, out)
	}
	upAt := time.Now()
	if newPID := testkit.ServicePID(t, "MWLEDGER_TEST_KAFKA_PID_FILE"); newPID == oldPID || syscall.Kill(newPID, 0) != nil {
		t.Fatalf("after start-kafka the broker pid is %d (was %d): not a new, running process", newPID, oldPID)
	}
	t.Logf("stop-kafka began %s into the crawl (%d of %d articles fetched); SIGTERM to exit %s; down %s; start-kafka to ready %s (pid %d → %d); %d more articles fetched while it was down",
		stopAt.Sub(crawlStart(site, n)).Round(time.Millisecond), before, n, stopTook.Round(time.Millisecond),
		startAt.Sub(downAt).Round(time.Millisecond), upAt.Sub(startAt).Round(time.Millisecond),
		oldPID, testkit.ServicePID(t, "MWLEDGER_TEST_KAFKA_PID_FILE"), duringDown)

	// The CLI crawl: it either rode the outage out (publishes retried until the
	// broker answered) or gave up on an article; then the next pass must publish
	// what is missing.
	passes, acked := 1, 0
	if err := <-crawlDone; err != nil {
		t.Logf("crawl pass 1 gave up %s after stop-kafka began (outage longer than its publish timeout): %v: %s",
			crawlEnd.Sub(stopAt).Round(time.Millisecond), err, lastLine(errb.String()))
		if !strings.Contains(errb.String(), "publishing") {
			t.Fatalf("mwledger crawl failed, but not on a publish: %v\n%s", err, errb.String())
		}
		crawl2, errb2 := crawlOnce()
		passes++
		if err := crawl2.Run(); err != nil {
			t.Fatalf("crawl pass 2 after the broker came back: %v\n%s", err, errb2.String())
		}
		acked += published(errb2.String())
	} else {
		t.Logf("crawl pass 1 rode the outage out: exited %s after start-kafka began (%s after the script saw the broker ready)",
			crawlEnd.Sub(startAt).Round(time.Millisecond), crawlEnd.Sub(upAt).Round(time.Millisecond))
	}
	retries := strings.Count(errb.String(), "publish failed, retrying")
	acked += published(errb.String())

	fetched, missing, dups, messages := onTopic(t, kafkaAddr, site, "site A")
	if missing > 0 || fetched != n {
		t.Fatalf("site A: %d of %d articles fetched, %d of them missing on the topic", fetched, n, missing)
	}
	// Delivery is at-least-once: a write the broker took but did not acknowledge
	// before it stopped, or that the writer still sent after the crawler had given
	// it up, comes again. Report duplicates, fail only on loss.
	t.Logf("site A: all %d articles on the topic after %d pass(es): %d messages, %d articles twice or more; the crawler counted %d publishes acknowledged, %d publish retries logged",
		n, passes, messages, dups, acked, retries)

	// Site B: the next pass (same crawler, same seen-set) publishes every article
	// the first pass fetched and gave up on.
	passB := time.Now()
	if err := crawlerB.Crawl(ctx, []crawler.Source{srcB}); err != nil {
		t.Fatalf("site B, next pass after the broker came back: %v", err)
	}
	stB2 := crawlerB.Stats()
	fetchedB, missingB, dupsB, _ := onTopic(t, kafkaAddr, siteB, "site B")
	if missingB > 0 || fetchedB != nb || stB2.Published != nb {
		t.Fatalf("site B after the next pass: %d of %d fetched, %d missing on the topic, %d published", fetchedB, nb, missingB, stB2.Published)
	}
	t.Logf("site B: pass 1 during the outage fetched %d, published 0, gave up (%d publish failures: %v); pass 2 took %s and published all %d (%d duplicates)",
		fetchedB1, stB.Failed["publish"], errB, time.Since(passB).Round(time.Millisecond), nb, dupsB)
}

// crawlStart is when the site served its first article.
func crawlStart(site *testkit.DealSite, n int) time.Time {
	var first time.Time
	for i := range n {
		if at := site.ServedAt(i); !at.IsZero() && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	return first
}

// pacedSite serves n generated articles over 4 feeds and writes a sources file
// crawling them 2 requests at once, 50 ms apart: the crawl takes several
// seconds, so a broker outage lands while pages are still being fetched and
// published. It returns the site (closed with the test), the sources file and
// the directory it is in.
func pacedSite(t *testing.T, name string, n int) (*testkit.DealSite, string, string) {
	t.Helper()
	site := testkit.NewDealSite(uniquePrefix(name), n, 4, func(i int) testkit.Deal { return testkit.DealOf(0, i) })
	t.Cleanup(site.Close)
	dir := t.TempDir()
	sources := filepath.Join(dir, "sources.yaml")
	var feeds strings.Builder
	for _, f := range site.FeedURLs() {
		fmt.Fprintf(&feeds, "      - %s\n", f)
	}
	if err := os.WriteFile(sources, []byte(fmt.Sprintf("sources:\n  - name: it-%s\n    feeds:\n%s    allow_private: true\n    delay: 50ms\n    parallelism: 2\n", name, feeds.String())), 0o644); err != nil {
		t.Fatal(err)
	}
	return site, sources, dir
}
