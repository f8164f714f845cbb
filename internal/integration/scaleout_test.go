package integration

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/ledger/es"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
	"github.com/mwledger/mwledger/stream/kafka"
)

// TestScaleOutSurvivesKills runs two `mwledger extract --consume` and two
// `mwledger index` processes in their consumer groups over a backlog of
// 1500 generated articles (-short 600; 6 partitions per topic), SIGKILLs one
// of each mid-stream, and checks that the survivors took the work over: every
// contract the extractor finds in the articles is in Elasticsearch, none twice.
// The survivors are stopped (SIGTERM) once both groups have committed everything.
func TestScaleOutSurvivesKills(t *testing.T) {
	shares(t, articlesTopic|contractsTopic)
	kafkaAddr, esURL := testkit.Kafka(t), testkit.ES(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := mwledgerBinary(t)
	cfg := kafka.Config{Brokers: []string{kafkaAddr}}
	store, err := es.New(es.Config{Addresses: []string{esURL}})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if err := kafka.EnsureTopics(ctx, cfg, kafka.TopicSpec{Name: schemas.TopicArticles}, kafka.TopicSpec{Name: schemas.TopicContracts},
		kafka.TopicSpec{Name: schemas.TopicDLQ, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixNano()
	run := strconv.FormatInt(now, 36)
	base := "https://scaleout.example/" + run
	seed := int(now % testkit.Combos)
	n := sized(t, "articles", 1500, 600)

	// What the extractor finds in-process is what must arrive, once each.
	x, err := extractor.New()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	msgs := make([]stream.Message, n)
	for i := range n {
		a := testkit.Article(base, seed, i)
		page, err := extractor.ReadHTML([]byte(a.HTML), "")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range x.FromPage(page, a.CanonicalURL) {
			want[c.Source.URL]++
		}
		v, _ := json.Marshal(a)
		msgs[i] = stream.Message{Topic: schemas.TopicArticles, Key: []byte(a.CanonicalURL), Value: v}
	}
	if len(want) < n*9/10 {
		t.Fatalf("the extractor finds contracts in only %d of %d generated articles", len(want), n)
	}

	// New groups that skip what other tests left on the shared topics.
	gx, gi := "scaleout-x-"+run, "scaleout-i-"+run
	if err := testkit.SkipBacklog(ctx, cfg.Brokers, gx, schemas.TopicArticles); err != nil {
		t.Fatal(err)
	}
	if err := testkit.SkipBacklog(ctx, cfg.Brokers, gi, schemas.TopicContracts); err != nil {
		t.Fatal(err)
	}
	pub, err := kafka.NewPublisher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	for i := 0; i < n; i += 500 {
		if err := pub.Publish(ctx, msgs[i:min(i+500, n)]...); err != nil {
			t.Fatal(err)
		}
	}

	// The idle exit outlasts the session timeout (10 s), so that a survivor is
	// still there when the coordinator hands it the dead member's partitions
	// (only a bound: the test stops the survivors once their groups caught up).
	start := func(args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, append(args, "--idle-exit", "25s")...)
		cmd.Env = append(os.Environ(), "MWLEDGER_KAFKA="+kafkaAddr, "MWLEDGER_ES="+esURL, "MWLEDGER_LOG_LEVEL=warn")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	began := time.Now()
	x1 := start("extract", "--consume", "--group", gx)
	x2 := start("extract", "--consume", "--group", gx)
	i1 := start("index", "--group", gi, "--batch", "50", "--no-alerts")
	i2 := start("index", "--group", gi, "--batch", "50", "--no-alerts")

	indexed := func() int {
		got, err := testkit.SourceCounts(ctx, store, base+"/")
		if err != nil {
			t.Logf("counting: %v", err)
			return 0
		}
		return len(got)
	}
	if !waitFor(ctx, 200*time.Millisecond, func() bool { return indexed() >= len(want)/5 }) {
		t.Fatal("the stages made no progress")
	}
	for _, c := range []*exec.Cmd{x1, i1} {
		if err := c.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = c.Wait()
	}
	killedAt := indexed()
	if killedAt >= len(want) {
		t.Fatalf("everything was indexed (%d) before the kill; raise n", killedAt)
	}
	// The extractors commit an article after publishing its contracts: once
	// their group caught up, every contract is on the topic for the indexers.
	caughtUp(t, ctx, cfg.Brokers, gx, schemas.TopicArticles)
	caughtUp(t, ctx, cfg.Brokers, gi, schemas.TopicContracts)
	stop(t, x2)
	stop(t, i2)
	got, err := testkit.SourceCounts(ctx, store, base+"/")
	if err != nil {
		t.Fatal(err)
	}
	missing, twice := 0, 0
	for u := range want {
		switch got[u] {
		case 0:
			missing++
			if missing <= 5 {
				t.Errorf("%s: its contract is not in Elasticsearch", u)
			}
		case 1:
		default:
			twice++
			if twice <= 5 {
				t.Errorf("%s: in %d deals/sources, want 1", u, got[u])
			}
		}
	}
	if missing > 0 || twice > 0 || len(got) != len(want) {
		t.Fatalf("%d articles with contracts: %d indexed, %d missing, %d twice", len(want), len(got), missing, twice)
	}
	t.Logf("%d articles, 2+2 processes, one of each SIGKILLed at %d indexed; survivors finished in %s: %d records, none lost, none twice",
		n, killedAt, time.Since(began).Round(time.Millisecond), len(got))
}
