package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/fixtures"
	"github.com/mwledger/mwledger/internal/cli"
	"github.com/mwledger/mwledger/internal/eval"
	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/ledger/es"
	"github.com/mwledger/mwledger/ledger/es/estest"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
	"github.com/mwledger/mwledger/stream/kafka"
)

// mwledger runs one command line in-process, as the binary would.
func mwledger(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if err := cli.Run(ctx, args, strings.NewReader(""), &out, &errb); err != nil {
		t.Fatalf("mwledger %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// background runs one command line in-process (a stage: `extract --consume`,
// `index`, `reprocess`) until stop is called; stop cancels its context, as
// SIGTERM does for the binary, and fails the test if the command then returns
// an error. The test calls stop once the stage's consumer group has caught up
// (caughtUp), instead of waiting for an idle exit.
func background(t *testing.T, ctx context.Context, args ...string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var err error
	var errb bytes.Buffer
	go func() {
		defer close(done)
		err = cli.Run(ctx, args, strings.NewReader(""), io.Discard, &errb)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return func() {
		t.Helper()
		cancel()
		<-done
		if err != nil {
			t.Fatalf("mwledger %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
	}
}

// TestPipelineEndToEnd crawls the fixture articles from a local site, runs
// crawl → extract → index on the real Kafka and Elasticsearch, and checks that
// the deals are searchable with the right $/MW/year, and that a second pass over
// the same articles changes no count.
func TestPipelineEndToEnd(t *testing.T) {
	shares(t, articlesTopic|contractsTopic)
	kafkaAddr, esURL := testkit.Kafka(t), testkit.ES(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	site, err := testkit.StartFixtureSite(fixtures.FS(), fixtures.Cases())
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	sources := filepath.Join(t.TempDir(), "sources.yaml")
	if err := os.WriteFile(sources, []byte(fmt.Sprintf(`sources:
  - name: fixture-site
    listings:
      - url: %s/news/1
        link_selector: a.story
        next_selector: a.next
    allow_private: true
    canonical_hosts: ["*.example"] # the fixtures name their outlets, served here on loopback
    delay: 1ms
    parallelism: 4
`, site.URL)), 0o644); err != nil {
		t.Fatal(err)
	}

	// What the extractor finds in-process is what must arrive in Elasticsearch.
	x, err := extractor.New()
	if err != nil {
		t.Fatal(err)
	}
	cases, err := eval.RunFixtures(fixtures.FS(), x)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := map[string]bool{}
	fixtureURLs := map[string]bool{} // other tests share the index: count only our deals
	for _, name := range fixtures.Cases() {
		body, err := fs.ReadFile(fixtures.FS(), name+".html")
		if err != nil {
			t.Fatal(err)
		}
		page, err := extractor.ReadHTML(body, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range x.FromPage(page, page.Canonical) {
			wantIDs[c.ID] = true
			fixtureURLs[c.Source.URL] = true
		}
	}

	group := fmt.Sprintf("it-%d", time.Now().UnixNano())
	// A ledger of its own: searches below read the first 10,000 deals, which
	// a shared alias that other tests and benches filled would not hold.
	store := estest.Open(t, ctx, esURL, "pipeline", es.Config{})
	// New groups that skip what other tests left on the shared topics: the
	// stages read this test's articles and records only.
	cfg := kafka.Config{Brokers: []string{kafkaAddr}}
	if err := kafka.EnsureTopics(ctx, cfg, kafka.TopicSpec{Name: schemas.TopicArticles}, kafka.TopicSpec{Name: schemas.TopicContracts},
		kafka.TopicSpec{Name: schemas.TopicDLQ, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	skipBacklog(t, ctx, cfg.Brokers, group+"-x", schemas.TopicArticles)
	skipBacklog(t, ctx, cfg.Brokers, group+"-i", schemas.TopicContracts)
	// Each pass crawls with a fresh seen-set, so that the second pass publishes
	// every article again: the replay the extractor and indexer must absorb.
	// The stages run beside the crawl and stop once their groups have
	// committed everything it published.
	passes := 0
	pass := func() {
		passes++
		state := filepath.Join(t.TempDir(), fmt.Sprintf("crawl-state-%d.db", passes))
		stopExtract := background(t, ctx, "extract", "--kafka", kafkaAddr, "--consume", "--group", group+"-x")
		stopIndex := background(t, ctx, "index", "--kafka", kafkaAddr, "--es", esURL, "--group", group+"-i", "--alias", store.AliasName())
		mwledger(t, ctx, "crawl", "--kafka", kafkaAddr, "--sources", sources, "--once", "--state", state)
		caughtUp(t, ctx, cfg.Brokers, group+"-x", schemas.TopicArticles)
		stopExtract()
		caughtUp(t, ctx, cfg.Brokers, group+"-i", schemas.TopicContracts)
		stopIndex()
	}
	pass()

	if err := store.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	all, err := store.Search(ctx, ledger.Query{Size: 10000})
	if err != nil {
		t.Fatal(err)
	}
	// Identity resolution may join records with different extractor ids into one
	// deal (a mention without the value, another rounding): every extracted id
	// must be a deal's id or one of its record_ids, in exactly one deal.
	gotIDs := map[string]int{}
	sources1 := map[string]int{}
	for _, d := range all.Deals {
		gotIDs[d.ID]++
		for _, r := range d.RecordIDs {
			if r != d.ID {
				gotIDs[r]++
			}
		}
		sources1[d.ID] = len(d.Sources)
	}
	for id := range wantIDs {
		if gotIDs[id] != 1 {
			t.Errorf("deal %s extracted in-process is in %d Elasticsearch deals, want 1", id, gotIDs[id])
		}
	}

	// Deals whose golden $/MW/year the extractor gets right must be searchable with it.
	checked := 0
	for _, c := range cases {
		for _, w := range c.Want {
			if w.USDPerMWYear == nil || !extractedRight(c.Got, w) {
				continue
			}
			res, err := store.Search(ctx, ledger.Query{Operator: w.Operator.Name, Counterparty: w.Counterparty.Label(), Size: 50})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, d := range res.Deals {
				if d.USDPerMWYear != nil && math.Abs(*d.USDPerMWYear-*w.USDPerMWYear) <= 0.005**w.USDPerMWYear {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no deal %s–%s with $%.0f/MW/year in Elasticsearch", c.Name, w.Operator.Name, w.Counterparty.Label(), *w.USDPerMWYear)
			}
			checked++
		}
	}
	if checked < 5 {
		t.Fatalf("only %d deals with a known $/MW/year were checked; want at least 5", checked)
	}
	count1 := len(fromFixtures(all.Deals, fixtureURLs))
	if count1 > len(wantIDs) || count1 == 0 {
		t.Errorf("Elasticsearch holds %d deals, the extractor found %d distinct ids", count1, len(wantIDs))
	}

	// The same articles again: no new document, no duplicated source.
	pass()
	if err := store.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	all2, err := store.Search(ctx, ledger.Query{Size: 10000})
	if err != nil {
		t.Fatal(err)
	}
	if count2 := len(fromFixtures(all2.Deals, fixtureURLs)); count2 != count1 {
		t.Errorf("second pass changed the number of deals from %d to %d", count1, count2)
	}
	for _, d := range all2.Deals {
		if sources1[d.ID] != len(d.Sources) {
			t.Errorf("deal %s had %d sources, has %d after the replay", d.ID, sources1[d.ID], len(d.Sources))
		}
	}
	t.Logf("%d deals indexed, %d checked for $/MW/year", count1, checked)
}

func extractedRight(got []eval.Golden, w eval.Golden) bool {
	for _, g := range got {
		if g.Operator.Name == w.Operator.Name && g.Counterparty.Label() == w.Counterparty.Label() && g.USDPerMWYear != nil &&
			math.Abs(*g.USDPerMWYear-*w.USDPerMWYear) <= 0.005**w.USDPerMWYear {
			return true
		}
	}
	return false
}

// fromFixtures keeps the deals that a fixture article reported.
func fromFixtures(deals []ledger.Deal, urls map[string]bool) []ledger.Deal {
	var out []ledger.Deal
	for _, d := range deals {
		for _, src := range d.Sources {
			if urls[src.URL] {
				out = append(out, d)
				break
			}
		}
	}
	return out
}

// TestPoisonMessagesGoToDLQ publishes messages no stage can process and checks
// that each lands on the dead-letter topic with its reason while the stream goes on.
func TestPoisonMessagesGoToDLQ(t *testing.T) {
	shares(t, articlesTopic)
	kafkaAddr := testkit.Kafka(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
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
	run := fmt.Sprintf("poison-%d", time.Now().UnixNano())
	// A new group that skips what other tests left on mwledger.articles.
	skipBacklog(t, ctx, cfg.Brokers, run, schemas.TopicArticles)
	oldVersion, _ := json.Marshal(map[string]any{"schema_version": 99, "canonical_url": "x"})
	binary := schemas.Article{SchemaVersion: 1, CanonicalURL: "https://bin.example/x", URL: "https://bin.example/x", FetchedAt: time.Now(), Status: 200,
		ContentHash: "sha256:" + strings.Repeat("0", 64), Source: "test"}
	binary.SetBody([]byte{0x89, 'P', 'N', 'G', 0, 0, 0, 0x0d, 0xff, 0xfe})
	binMsg, _ := json.Marshal(binary)
	huge := binary
	huge.CanonicalURL, huge.URL = "https://huge.example/x", "https://huge.example/x"
	huge.SetBody([]byte("<html><body><p>" + strings.Repeat("IREN signed a contract. ", 460_000) + "</p></body></html>")) // ~10.5 MB
	hugeMsg, _ := json.Marshal(huge)
	want := map[string]string{run + "-json": "invalid_json", run + "-version": "schema_version", run + "-binary": "not_html", run + "-huge": "too_large"}
	if err := pub.Publish(ctx,
		stream.Message{Topic: schemas.TopicArticles, Key: []byte(run + "-json"), Value: []byte("{not json")},
		stream.Message{Topic: schemas.TopicArticles, Key: []byte(run + "-version"), Value: oldVersion},
		stream.Message{Topic: schemas.TopicArticles, Key: []byte(run + "-binary"), Value: binMsg},
		stream.Message{Topic: schemas.TopicArticles, Key: []byte(run + "-huge"), Value: hugeMsg},
	); err != nil {
		t.Fatal(err)
	}
	// The deadline of one article is long: the 10 MB article must be refused
	// for its size, which a -race build on a busy machine took more than the
	// default 30 s to get to (reason timeout) once.
	stopExtract := background(t, ctx, "extract", "--kafka", kafkaAddr, "--consume", "--group", run, "--article-timeout", "100s")
	caughtUp(t, ctx, cfg.Brokers, run, schemas.TopicArticles)
	stopExtract()

	dlq, err := kafka.NewConsumer(cfg, run+"-dlq", schemas.TopicDLQ)
	if err != nil {
		t.Fatal(err)
	}
	defer dlq.Close()
	got := map[string]string{}
	for len(got) < len(want) {
		fctx, fcancel := context.WithTimeout(ctx, 20*time.Second)
		m, err := dlq.Fetch(fctx)
		fcancel()
		if err != nil {
			t.Fatalf("reading dead letters (have %v): %v", got, err)
		}
		if err := schemas.Validate("dlq.schema.json", m.Value); err != nil {
			t.Errorf("dead letter does not match its schema: %v", err)
		}
		var dl schemas.DeadLetter
		if err := json.Unmarshal(m.Value, &dl); err != nil {
			t.Fatal(err)
		}
		if _, ok := want[dl.Key]; ok {
			got[dl.Key] = dl.Reason
		}
	}
	for k, reason := range want {
		if got[k] != reason {
			t.Errorf("dead letter %s: reason %q, want %q", k, got[k], reason)
		}
	}
}
