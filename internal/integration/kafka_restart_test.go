package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mwledger/mwledger/internal/benchtool"
	"github.com/mwledger/mwledger/internal/bus"
	"github.com/mwledger/mwledger/internal/testenv"
	"github.com/mwledger/mwledger/schemas"
)

// TestKafkaPausedWhileCrawling freezes the Kafka broker (SIGSTOP) for 15 s while
// `mwledger crawl --once` publishes a generated site of 300 articles, then thaws
// it (SIGCONT): the crawler publishes synchronously and retries, so every article
// it fetched must end up on mwledger.articles. A frozen broker is a fair stand-in
// for a restart as the clients see it: connections stall, requests time out and
// are retried until the broker answers again; the log survives either way
// (a restart would also lose nothing that was acknowledged with acks=all).
func TestKafkaPausedWhileCrawling(t *testing.T) {
	kafka := testenv.Kafka(t)
	pid := testenv.ServicePID(t, "MWLEDGER_TEST_KAFKA_PID_FILE")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := mwledgerBinary(t)
	cfg := bus.KafkaConfig{Brokers: []string{kafka}}
	if err := bus.EnsureTopics(ctx, cfg, bus.TopicSpec{Name: schemas.TopicArticles}); err != nil {
		t.Fatal(err)
	}

	const n = 300
	site := benchtool.NewSite(uniquePrefix("kafka-pause"), n, 4, func(i int) benchtool.Deal { return benchtool.DealOf(0, i) })
	defer site.Close()
	dir := t.TempDir()
	sources := filepath.Join(dir, "sources.yaml")
	var feeds strings.Builder
	for _, f := range site.FeedURLs() {
		fmt.Fprintf(&feeds, "      - %s\n", f)
	}
	// 2 requests at once, 50 ms apart: the crawl takes several seconds, so the
	// broker freezes while pages are still being fetched and published.
	if err := os.WriteFile(sources, []byte(fmt.Sprintf("sources:\n  - name: it-kafka-pause\n    feeds:\n%s    allow_private: true\n    delay: 50ms\n    parallelism: 2\n", feeds.String())), 0o644); err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	crawl := exec.CommandContext(ctx, bin, "crawl", "--sources", sources, "--once", "--state", filepath.Join(dir, "state.db"), "--progress", "0")
	crawl.Env = append(os.Environ(), "MWLEDGER_KAFKA="+kafka, "MWLEDGER_LOG_LEVEL=warn")
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

	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}
	defer thaw() // never leave Kafka frozen, whatever happens
	pausedAt := served()
	time.Sleep(15 * time.Second)
	duringPause := served() - pausedAt
	thaw()

	if err := crawl.Wait(); err != nil {
		t.Fatalf("mwledger crawl: %v\n%s", err, errb.String())
	}
	fetched := served()
	got := topicArticles(t, kafka, site.URL+"/", fetched, 5*time.Second)
	count := map[string]int{}
	for _, a := range got {
		count[a.CanonicalURL]++
	}
	missing, dups := 0, 0
	for i := range n {
		if site.ServedAt(i).IsZero() {
			continue
		}
		switch count[site.ArticleURL(i)] {
		case 0:
			missing++
			if missing <= 5 {
				t.Errorf("%s was fetched but is not on the topic", site.ArticleURL(i))
			}
		case 1:
		default:
			dups++
		}
	}
	if missing > 0 || fetched != n {
		t.Fatalf("%d of %d articles fetched, %d of them missing on the topic", fetched, n, missing)
	}
	// Delivery is at-least-once: a write the frozen broker received but did not
	// acknowledge in time is sent again. Report duplicates, fail only on loss.
	t.Logf("Kafka frozen 15 s after %d of %d articles were fetched (%d more fetched meanwhile); all %d on the topic, %d of them twice or more",
		pausedAt, n, duringPause, len(count), dups)
	if tail := strings.TrimSpace(errb.String()); tail != "" {
		t.Logf("crawler warnings (last line): %s", lastLine(tail))
	}
}
