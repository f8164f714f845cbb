package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mwledger/mwledger/crawler"
	"github.com/mwledger/mwledger/fixtures"
	"github.com/mwledger/mwledger/internal/cli"
	"github.com/mwledger/mwledger/internal/statedb"
	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
	"github.com/mwledger/mwledger/stream/kafka"
)

// topicArticles reads mwledger.articles from the beginning with a new consumer
// group and returns the articles whose canonical URL starts with prefix, in
// topic order (duplicates included). The callers' publishers have returned:
// what they published is on the topic, up to its end offsets as they are now.
// It stops once want of them were read, the topic was read to those offsets
// and then stayed quiet for quiet (a late duplicate), or at the deadline.
func topicArticles(t *testing.T, kafkaAddr, prefix string, want int, quiet time.Duration) []schemas.Article {
	t.Helper()
	cfg := kafka.Config{Brokers: kafka.ParseBrokers(kafkaAddr)}
	end, err := testkit.EndOffsets(context.Background(), cfg.Brokers, schemas.TopicArticles)
	if err != nil {
		t.Fatal(err)
	}
	next := map[int]int64{} // per partition, the offset after the last message read
	atEnd := func() bool {
		for p, e := range end {
			if next[p] < e {
				return false
			}
		}
		return true
	}
	c, err := kafka.NewConsumer(cfg, fmt.Sprintf("it-crawl-read-%d", time.Now().UnixNano()), schemas.TopicArticles)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(90 * time.Second)
	var out []schemas.Article
	for time.Now().Before(deadline) {
		wait := 20 * time.Second // the first fetch waits for the group to form
		if len(out) >= want && atEnd() {
			wait = quiet
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		m, err := c.Fetch(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			if len(out) >= want {
				return out
			}
			continue
		}
		if err != nil {
			t.Fatalf("reading %s: %v", schemas.TopicArticles, err)
		}
		next[m.Partition] = max(next[m.Partition], m.Offset+1)
		if !strings.HasPrefix(string(m.Key), prefix) {
			continue
		}
		if err := schemas.Validate("article.schema.json", m.Value); err != nil {
			t.Errorf("article on the topic does not match its schema: %v", err)
		}
		var a schemas.Article
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatal(err)
		}
		if a.CanonicalURL != string(m.Key) {
			t.Errorf("key %q is not the canonical URL %q", m.Key, a.CanonicalURL)
		}
		out = append(out, a)
	}
	t.Fatalf("read %d articles under %s before the deadline, want %d", len(out), prefix, want)
	return nil
}

func uniquePrefix(name string) string { return fmt.Sprintf("/%s-%d", name, time.Now().UnixNano()) }

// siteDialer reaches the test site through its loopback listener and plays a
// resolver that answers a private address for intranet.test, which the crawler
// must refuse; it records that. No connection leaves 127.0.0.1.
type siteDialer struct {
	site    *testkit.Site
	mu      sync.Mutex
	refused []string
}

func (d *siteDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if host, _, _ := net.SplitHostPort(addr); host == "intranet.test" {
		d.mu.Lock()
		d.refused = append(d.refused, addr)
		d.mu.Unlock()
		return nil, crawler.ErrPrivateAddress{Addr: addr + " (10.0.0.7)"}
	}
	return d.site.Dial(ctx, network, addr)
}

// TestCrawlTestSiteToKafka crawls the test news site (feeds, a sitemap index
// with a news sitemap, a paginated listing and every page that goes wrong) into
// the real mwledger.articles topic, then crawls it again unchanged.
func TestCrawlTestSiteToKafka(t *testing.T) {
	shares(t, articlesTopic)
	kafkaAddr := testkit.Kafka(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := kafka.Config{Brokers: []string{kafkaAddr}}
	if err := kafka.EnsureTopics(ctx, cfg, kafka.TopicSpec{Name: schemas.TopicArticles}); err != nil {
		t.Fatal(err)
	}
	pub, err := kafka.NewPublisher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()

	site := testkit.NewSite(testkit.SiteOptions{Prefix: uniquePrefix("crawl"), Articles: 20, Feeds: 3, Specials: true, SlowDelay: 10 * time.Second})
	defer site.Close()
	dialer := &siteDialer{site: site}
	src := crawler.Source{
		Name:           "it-test-site",
		Feeds:          append(site.FeedURLs(), site.SpecialsURL()),
		Sitemaps:       []string{site.SitemapIndexURL()},
		Listings:       []crawler.Listing{{URL: site.ListingURL(), LinkSelector: "a.story", NextSelector: "a.next", MaxPages: 5}},
		AllowedDomains: []string{site.Host, "intranet.test"},
		Delay:          crawler.Duration{Duration: time.Millisecond},
		Parallelism:    8,
	}
	state := filepath.Join(t.TempDir(), "state.db")
	crawl := func() crawler.Stats {
		st, err := statedb.OpenCrawlState(state, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		// Default body limit (10 MiB) against the 50 MB page.
		c := crawler.New(crawler.Config{Dial: dialer.dial, Timeout: 2 * time.Second, RetryBackoff: 50 * time.Millisecond, State: st}, pub, nil)
		if err := c.Crawl(ctx, []crawler.Source{src}); err != nil {
			t.Fatal(err)
		}
		return c.Stats()
	}
	st := crawl()

	want := map[string]bool{site.Base + "/story/dup": true, site.Base + "/ratelimited": true, site.Base + "/cp1252": true, site.Base + "/gbk": true}
	for i := range 20 {
		want[site.ArticleURL(i)] = true
	}
	got := topicArticles(t, kafkaAddr, site.Base+"/", len(want), time.Second)
	count := map[string]int{}
	byKey := map[string]schemas.Article{}
	for _, a := range got {
		count[a.CanonicalURL]++
		byKey[a.CanonicalURL] = a
	}
	for k := range want {
		if count[k] != 1 {
			t.Errorf("%s published %d times, want once", k, count[k])
		}
	}
	for k := range count {
		if !want[k] {
			t.Errorf("%s published, but it is not an article the site should yield", k)
		}
	}
	if a := byKey[site.Base+"/cp1252"]; !a.HTMLBase64 || a.Headers["Content-Type"] != "text/html; charset=windows-1252" {
		t.Errorf("windows-1252 page not carried as received: base64 %v headers %v", a.HTMLBase64, a.Headers)
	}
	if a := byKey[site.Base+"/gbk"]; a.HTMLBase64 {
		b, _ := a.Body()
		if !bytes.Contains(b, []byte{0xca, 0xfd, 0xbe, 0xdd}) { // 数据 in GBK
			t.Errorf("GBK bytes were transcoded")
		}
	} else {
		t.Errorf("GBK page not carried as received")
	}
	for reason, n := range map[string]int{"robots_txt": 1, "timeout": 1, "redirect_loop": 1, "redirect_offsite": 1, "redirect_private": 1,
		"private_address": 1, "too_large": 1} {
		if st.Failed[reason] != n {
			t.Errorf("failed[%s] = %d, want %d (all %v)", reason, st.Failed[reason], n, st.Failed)
		}
	}
	for _, reason := range []string{"challenge", "captcha", "consent_wall", "empty", "not_html"} {
		if st.Rejected[reason] != 1 {
			t.Errorf("rejected[%s] = %d, want 1 (all %v)", reason, st.Rejected[reason], st.Rejected)
		}
	}
	if st.Retries != 1 {
		t.Errorf("retries %d, want 1", st.Retries)
	}
	if r := site.Refused(); len(r) > 0 {
		t.Errorf("the site's dialer was asked for %v: 10.0.0.5 must be refused before any dial", r)
	}
	if len(dialer.refused) == 0 {
		t.Errorf("the redirect to intranet.test never reached the resolver")
	}

	// Again, unchanged: nothing new on the topic.
	st2 := crawl()
	if st2.Published != 0 {
		t.Errorf("an unchanged second pass published %d articles", st2.Published)
	}
	got2 := topicArticles(t, kafkaAddr, site.Base+"/", len(want), time.Second)
	if len(got2) != len(got) {
		t.Errorf("the topic holds %d articles of the site after the second pass, %d after the first", len(got2), len(got))
	}
	t.Logf("first pass %+v", st)
}

// restartCrawl crawls a generated site of n articles over feeds, stops the
// crawl after about half of them were published, restarts it with the command
// line (`mwledger crawl --once` on the same state file) and checks on the real
// topic that every article was published exactly once.
func restartCrawl(t *testing.T, n, feeds int) {
	shares(t, articlesTopic)
	kafkaAddr := testkit.Kafka(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cfg := kafka.Config{Brokers: []string{kafkaAddr}}
	if err := kafka.EnsureTopics(ctx, cfg, kafka.TopicSpec{Name: schemas.TopicArticles}); err != nil {
		t.Fatal(err)
	}
	pub, err := kafka.NewPublisher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	site := testkit.NewSite(testkit.SiteOptions{Loopback: true, Prefix: uniquePrefix("restart"), Articles: n, Feeds: feeds})
	defer site.Close()
	dir := t.TempDir()
	state := filepath.Join(dir, "state.db")
	sources := filepath.Join(dir, "sources.yaml")
	var feedLines strings.Builder
	for _, f := range site.FeedURLs() {
		fmt.Fprintf(&feedLines, "      - %s\n", f)
	}
	if err := os.WriteFile(sources, []byte(fmt.Sprintf("sources:\n  - name: it-restart\n    feeds:\n%s    allow_private: true\n    delay: 20ms\n    parallelism: 4\n", feedLines.String())), 0o644); err != nil {
		t.Fatal(err)
	}
	srcs, err := crawler.LoadSources(sources)
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	st, err := statedb.OpenCrawlState(state, nil)
	if err != nil {
		t.Fatal(err)
	}
	cctx, stop := context.WithCancel(ctx)
	c := crawler.New(crawler.Config{State: st}, &testkit.CancelAfter{Publisher: pub, N: int64(n / 2), Cancel: stop}, nil)
	err = c.Crawl(cctx, srcs)
	stop()
	st.Close()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted crawl returned %v, want context.Canceled", err)
	}
	first := c.Stats().Published
	if first < n/2 || first >= n {
		t.Fatalf("first crawl published %d of %d: it was not stopped halfway", first, n)
	}
	firstTook := time.Since(start)

	restart := time.Now()
	var out, errb bytes.Buffer
	if err := cli.Run(ctx, []string{"crawl", "--kafka", kafkaAddr, "--sources", sources, "--once", "--state", state, "--progress", "0"}, strings.NewReader(""), &out, &errb); err != nil {
		t.Fatalf("mwledger crawl: %v\n%s", err, errb.String())
	}
	secondTook := time.Since(restart)
	t.Log(strings.TrimSpace(lastLine(errb.String())))

	got := topicArticles(t, kafkaAddr, site.Base+"/", n, time.Second)
	count := map[string]int{}
	for _, a := range got {
		count[a.CanonicalURL]++
	}
	dups, missing := 0, 0
	for i := range n {
		switch count[site.ArticleURL(i)] {
		case 0:
			missing++
		case 1:
		default:
			dups++
			if dups <= 5 {
				t.Errorf("%s published %d times", site.ArticleURL(i), count[site.ArticleURL(i)])
			}
		}
	}
	if dups > 0 || missing > 0 || len(count) != n {
		t.Errorf("%d articles: %d distinct published, %d duplicated, %d missing", n, len(count), dups, missing)
	}
	total := time.Since(start)
	t.Logf("%d articles over %d feeds: first crawl stopped after %d published in %s, restart took %s, %s in all (%.0f articles/s)",
		n, feeds, first, firstTook.Round(time.Millisecond), secondTook.Round(time.Millisecond), total.Round(time.Millisecond), float64(n)/(firstTook+secondTook).Seconds())
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestCrawlRestartPublishesOnce(t *testing.T) { restartCrawl(t, 300, 4) }

// TestCrawlLoad5000 is the acceptance load: 5,000 articles over 10 feeds,
// restarted halfway. MWLEDGER_LOAD=1 runs it.
func TestCrawlLoad5000(t *testing.T) {
	if os.Getenv("MWLEDGER_LOAD") != "1" {
		t.Skip("set MWLEDGER_LOAD=1 to run the 5,000-article load test")
	}
	restartCrawl(t, 5000, 10)
}

// TestCrawlFixtureRecord records a page of a local site through the crawler's
// guarded fetch, and refuses one robots.txt disallows.
func TestCrawlFixtureRecord(t *testing.T) {
	isolated(t) // no service: a local site and a directory of its own
	site := testkit.NewSite(testkit.SiteOptions{Loopback: true, Prefix: uniquePrefix("fixture"), Articles: 2, Specials: true})
	defer site.Close()
	dir := t.TempDir()
	ctx := context.Background()
	run := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := cli.Run(ctx, args, strings.NewReader(""), &out, &errb)
		return out.String() + errb.String(), err
	}
	out, err := run("fixture", "record", "--dir", dir, "--allow-private", "--name", "it-story", site.ArticleURL(1))
	if err != nil {
		t.Fatalf("fixture record: %v\n%s", err, out)
	}
	for _, f := range []string{"it-story.html", "it-story.golden.jsonl"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	tests := []struct {
		name        string
		args        []string
		errContains string
	}{
		{"robots.txt", []string{"fixture", "record", "--dir", dir, "--allow-private", "--name", "x1", site.Base + "/private/secret"}, "robots_txt"},
		{"private address without --allow-private", []string{"fixture", "record", "--dir", dir, "--name", "x2", site.ArticleURL(0)}, "private_address"},
		{"bot wall", []string{"fixture", "record", "--dir", dir, "--allow-private", "--name", "x3", site.Base + "/challenge"}, "challenge"},
		{"exists", []string{"fixture", "record", "--dir", dir, "--allow-private", "--name", "it-story", site.ArticleURL(1)}, "exists"},
		{"update needs --yes", []string{"fixture", "update", "--dir", dir}, "--yes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("error %v, want it to contain %q\n%s", err, tt.errContains, out)
			}
		})
	}
	// A saved file, then regenerate the goldens.
	body, err := fs.ReadFile(fixtures.FS(), fixtures.Cases()[0]+".html")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "Saved Page.html")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run("fixture", "record", "--dir", dir, file); err != nil {
		t.Fatalf("fixture record FILE: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "saved-page.golden.jsonl")); err != nil {
		t.Errorf("golden of the saved file: %v", err)
	}
	if out, err := run("fixture", "update", "--yes", "--dir", dir); err != nil || !strings.Contains(out, "rewrote 2 golden file(s)") {
		t.Fatalf("fixture update --yes: %v\n%s", err, out)
	}
}

// TestCrawlReprocessReplaysArchive puts an article on the archive topic and
// replays the archive with `mwledger reprocess`: its contracts come out again,
// stamped with the current extractor version.
func TestCrawlReprocessReplaysArchive(t *testing.T) {
	shares(t, articlesTopic|contractsTopic) // it replays the whole archive into mwledger.contracts
	kafkaAddr := testkit.Kafka(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cfg := kafka.Config{Brokers: []string{kafkaAddr}}
	if err := kafka.EnsureTopics(ctx, cfg, kafka.TopicSpec{Name: schemas.TopicArticles}, kafka.TopicSpec{Name: schemas.TopicContracts}, kafka.TopicSpec{Name: schemas.TopicDLQ, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	pub, err := kafka.NewPublisher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	// The first fixture that yields a contract.
	var body []byte
	for _, name := range fixtures.Cases() {
		b, _ := fs.ReadFile(fixtures.FS(), name+".golden.jsonl")
		if len(bytes.TrimSpace(b)) > 0 {
			body, _ = fs.ReadFile(fixtures.FS(), name+".html")
			break
		}
	}
	key := fmt.Sprintf("https://reprocess-%d.example/story", time.Now().UnixNano())
	a := schemas.Article{SchemaVersion: schemas.Version, CanonicalURL: key, URL: key, FetchedAt: time.Now().UTC(), Status: 200,
		Headers: map[string]string{"Content-Type": "text/html"}, ContentHash: "sha256:" + strings.Repeat("0", 64), Source: "it-reprocess", Version: 1}
	a.SetBody(body)
	v, _ := json.Marshal(a)
	if err := pub.Publish(ctx, stream.Message{Topic: schemas.TopicArticles, Key: []byte(key), Value: v}); err != nil {
		t.Fatal(err)
	}
	// The binary (built without -race: the replay extracts every article the
	// tests before this one published), stopped once it replayed the whole archive.
	group := fmt.Sprintf("it-reprocess-%d", time.Now().UnixNano())
	replay := exec.CommandContext(ctx, mwledgerBinary(t), "reprocess", "--kafka", kafkaAddr, "--group", group)
	replay.Env = append(os.Environ(), "MWLEDGER_LOG_LEVEL=warn")
	replay.Stderr = os.Stderr
	if err := replay.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = replay.Process.Kill(); _ = replay.Wait() })
	caughtUp(t, ctx, cfg.Brokers, group, schemas.TopicArticles)
	stop(t, replay)

	c, err := kafka.NewConsumer(cfg, fmt.Sprintf("it-reprocess-read-%d", time.Now().UnixNano()), schemas.TopicContracts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for {
		fctx, fcancel := context.WithTimeout(ctx, 20*time.Second)
		m, err := c.Fetch(fctx)
		fcancel()
		if err != nil {
			t.Fatalf("no contract of the replayed article %s on %s: %v", key, schemas.TopicContracts, err)
		}
		var rec schemas.Contract
		if err := json.Unmarshal(m.Value, &rec); err != nil {
			continue
		}
		if rec.Source.URL == key {
			if m.Headers["extractor_version"] == "" {
				t.Errorf("replayed contract has no extractor_version header")
			}
			return
		}
	}
}
