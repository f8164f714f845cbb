package backfill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
	"github.com/mwledger/mwledger/stream/kafka"
)

// stopAfter publishes to the real bus and cancels the run once n messages
// were acknowledged, as a SIGTERM would.
type stopAfter struct {
	stream.Publisher
	n, sent int
	cancel  func()
}

func (s *stopAfter) Publish(ctx context.Context, msgs ...stream.Message) error {
	err := s.Publisher.Publish(ctx, msgs...)
	if err == nil {
		s.sent += len(msgs)
		if s.sent >= s.n {
			s.cancel()
		}
	}
	return err
}

// TestBackfillToKafka backfills a generated WARC set into the real
// mwledger.articles topic, stopped after 10 articles and started again, and
// reads every deal from the topic exactly once.
func TestBackfillToKafka(t *testing.T) {
	addr := testkit.Kafka(t)
	cfg := kafka.Config{Brokers: []string{addr}}
	ctx := context.Background()
	if err := kafka.EnsureTopics(ctx, cfg, kafka.TopicSpec{Name: schemas.TopicArticles}); err != nil {
		t.Fatal(err)
	}
	host := fmt.Sprintf("bf%d.example", time.Now().UnixNano())
	dir := t.TempDir()
	want := manySetOn(t, dir, host, 3, 30)
	files, err := Files([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := kafka.NewPublisher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	statePath := filepath.Join(t.TempDir(), "state.db")

	rctx, cancel := context.WithCancel(ctx)
	st := openState(t, statePath)
	b, _ := New(Config{State: st, BatchSize: 4, Source: "it-backfill"}, &stopAfter{Publisher: pub, n: 10, cancel: cancel})
	if err := b.Run(rctx, files); !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v", err)
	}
	first := b.Stats().Published
	st.Close()
	st = openState(t, statePath)
	defer st.Close()
	b, _ = New(Config{State: st, BatchSize: 4, Source: "it-backfill"}, pub)
	if err := b.Run(ctx, files); err != nil {
		t.Fatal(err)
	}
	t.Logf("published %d before the stop, %d after", first, b.Stats().Published)

	c, err := kafka.NewConsumer(cfg, "it-backfill-"+host, schemas.TopicArticles)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got []string
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		wait := 20 * time.Second
		if len(got) >= len(want) {
			wait = 3 * time.Second // and nothing more
		}
		fctx, fcancel := context.WithTimeout(ctx, wait)
		m, err := c.Fetch(fctx)
		fcancel()
		if errors.Is(err, context.DeadlineExceeded) {
			if len(got) >= len(want) {
				break
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(m.Key), "https://"+host+"/") {
			continue
		}
		if err := schemas.Validate("article.schema.json", m.Value); err != nil {
			t.Errorf("%s: %v", m.Key, err)
		}
		var a schemas.Article
		if err := json.Unmarshal(m.Value, &a); err != nil || a.Source != "it-backfill" || !a.FetchedAt.Equal(day) {
			t.Errorf("article %s: source %q fetched_at %s err %v", m.Key, a.Source, a.FetchedAt, err)
		}
		got = append(got, string(m.Key))
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("read %d articles from the topic, want %d exactly once:\n%v", len(got), len(want), got)
	}
}
