package extractor_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/fixtures"
	"github.com/mwledger/mwledger/internal/bus"
	"github.com/mwledger/mwledger/schemas"
)

// TestStageBatchesInParallel runs the stage over every fixture article plus
// poison messages, in batches extracted by several workers (run it with -race):
// it must publish exactly what extracting the articles one by one gives, one
// dead letter per poison message, and commit every article.
func TestStageBatchesInParallel(t *testing.T) {
	x, err := extractor.New()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mem := bus.NewMemory()
	var want []string
	var msgs []bus.Message
	for _, name := range fixtures.Cases() {
		a, err := fixtures.Article(name)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := x.Extract(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			want = append(want, c.ID+" "+c.Source.URL)
		}
		v, _ := json.Marshal(a)
		msgs = append(msgs, bus.Message{Topic: schemas.TopicArticles, Key: []byte(a.CanonicalURL), Value: v})
	}
	poison := []string{`{"schema_version":`, `{"schema_version":9}`, "\xff\xfe binary"}
	for i, p := range poison {
		// Spread among the articles, so that batches mix good and bad messages.
		at := (i + 1) * len(msgs) / (len(poison) + 1)
		msgs = slices.Insert(msgs, at, bus.Message{Topic: schemas.TopicArticles, Key: []byte("poison"), Value: []byte(p)})
	}
	if err := mem.Publish(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	mem.CloseTopic(schemas.TopicArticles)
	in := &recordingConsumer{Consumer: mem.Consumer(schemas.TopicArticles), committed: map[int64]bool{}}
	st, err := x.RunStage(ctx, in, mem, extractor.StageConfig{BatchSize: 7, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if st.Articles != len(msgs) || st.DeadLetters != len(poison) || st.Contracts != len(want) {
		t.Errorf("stats %+v; want %d articles, %d dead letters, %d contracts", st, len(msgs), len(poison), len(want))
	}
	var got []string
	mem.CloseTopic(schemas.TopicContracts)
	out := mem.Consumer(schemas.TopicContracts)
	for {
		m, err := out.Fetch(ctx)
		if err != nil {
			break
		}
		var c schemas.Contract
		if err := json.Unmarshal(m.Value, &c); err != nil {
			t.Fatal(err)
		}
		got = append(got, c.ID+" "+c.Source.URL)
	}
	if !slices.Equal(got, want) {
		t.Errorf("published %d contracts, want %d in article order:\n got %v\nwant %v", len(got), len(want), got, want)
	}
	if n := mem.Len(schemas.TopicDLQ); n != len(poison) {
		t.Errorf("%d dead letters, want %d", n, len(poison))
	}
	for i := range msgs {
		if !in.committed[int64(i)] {
			t.Errorf("message %d (%s) left uncommitted", i, msgs[i].Key)
		}
	}
	if in.commits >= len(msgs) {
		t.Errorf("%d commits for %d messages: not batched", in.commits, len(msgs))
	}
}

// recordingConsumer remembers what was committed.
type recordingConsumer struct {
	bus.Consumer
	committed map[int64]bool
	commits   int
}

func (r *recordingConsumer) Commit(ctx context.Context, msgs ...bus.Message) error {
	r.commits++
	for _, m := range msgs {
		r.committed[m.Offset] = true
	}
	return r.Consumer.Commit(ctx, msgs...)
}
