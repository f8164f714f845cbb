package extractor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/fixtures"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
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
	mem := stream.NewMemory()
	var want []string
	var msgs []stream.Message
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
		msgs = append(msgs, stream.Message{Topic: schemas.TopicArticles, Key: []byte(a.CanonicalURL), Value: v})
	}
	poison := []string{`{"schema_version":`, `{"schema_version":9}`, "\xff\xfe binary"}
	for i, p := range poison {
		// Spread among the articles, so that batches mix good and bad messages.
		at := (i + 1) * len(msgs) / (len(poison) + 1)
		msgs = slices.Insert(msgs, at, stream.Message{Topic: schemas.TopicArticles, Key: []byte("poison"), Value: []byte(p)})
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
		mem.CloseTopic(schemas.TopicDLQ)
		dlq := mem.Consumer(schemas.TopicDLQ)
		var reasons []string
		for {
			m, err := dlq.Fetch(ctx)
			if err != nil {
				break
			}
			var dl schemas.DeadLetter
			_ = json.Unmarshal(m.Value, &dl)
			reasons = append(reasons, fmt.Sprintf("%s (%s): %s", dl.Reason, m.Key, dl.Error))
		}
		t.Errorf("%d dead letters, want %d: %q", n, len(poison), reasons)
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
	stream.Consumer
	committed map[int64]bool
	commits   int
}

func (r *recordingConsumer) Commit(ctx context.Context, msgs ...stream.Message) error {
	r.commits++
	for _, m := range msgs {
		r.committed[m.Offset] = true
	}
	return r.Consumer.Commit(ctx, msgs...)
}

// slowExtract extracts with x, except the article whose URL contains "hostile":
// that one takes until release is closed whatever its context says (an
// extractor that does not check its context, like the quadratic page of issue
// 13), or until its context ends when honour is set.
func slowExtract(x *extractor.Extractor, release <-chan struct{}, honour bool) func(context.Context, schemas.Article) ([]schemas.Contract, error) {
	return func(ctx context.Context, a schemas.Article) ([]schemas.Contract, error) {
		if !strings.Contains(a.CanonicalURL, "hostile") {
			return x.Extract(ctx, a)
		}
		if honour {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-release:
			}
		} else {
			<-release
		}
		return nil, nil
	}
}

// deadlineInput publishes a fixture article, a hostile one and another fixture
// article, and closes the topic.
func deadlineInput(t *testing.T, mem *stream.Memory) []stream.Message {
	t.Helper()
	cases := fixtures.Cases()
	var msgs []stream.Message
	for i, name := range []string{cases[0], "hostile", cases[1]} {
		var a schemas.Article
		var err error
		if name == "hostile" {
			a, err = fixtures.Article(cases[2])
			a.CanonicalURL, a.URL = "https://hostile.example/repeat", "https://hostile.example/repeat"
		} else {
			a, err = fixtures.Article(name)
		}
		if err != nil {
			t.Fatal(err)
		}
		v, _ := json.Marshal(a)
		msgs = append(msgs, stream.Message{Topic: schemas.TopicArticles, Key: []byte(a.CanonicalURL), Value: v, Offset: int64(i)})
	}
	if err := mem.Publish(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	return msgs
}

// TestStageArticleDeadline: an article whose extraction outlives the
// per-article deadline (200 ms) goes to the dead-letter topic with the reason
// "timeout" and the stage carries on with the others, within 3 s, whether the
// extractor checks its context or not; every article is committed.
func TestStageArticleDeadline(t *testing.T) {
	x, err := extractor.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, honour := range []bool{false, true} {
		t.Run(fmt.Sprintf("extractor checks its context=%v", honour), func(t *testing.T) {
			release := make(chan struct{})
			defer close(release)
			mem := stream.NewMemory()
			msgs := deadlineInput(t, mem)
			mem.CloseTopic(schemas.TopicArticles)
			in := &recordingConsumer{Consumer: mem.Consumer(schemas.TopicArticles), committed: map[int64]bool{}}
			start := time.Now()
			// The stuck article never returns by itself, so the stage ends only
			// if the deadline abandons it. The deadline is long enough for a
			// real article on a loaded machine under -race (tens of ms alone):
			// only the stuck one may miss it.
			const deadline = 2 * time.Second
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			st, err := x.RunStage(ctx, in, mem, extractor.StageConfig{
				Workers: 2, ArticleTimeout: deadline, Extract: slowExtract(x, release, honour)})
			if err != nil {
				t.Fatal(err)
			}
			if ctx.Err() != nil {
				t.Fatalf("stage ran for %s, until the test's one-minute guard: the %s article deadline did not abandon the stuck article", time.Since(start), deadline)
			}
			t.Logf("stage ended %s after it started, with a %s article deadline", time.Since(start).Round(time.Millisecond), deadline)
			if st.Articles != 3 || st.DeadLetters != 1 || st.Contracts == 0 {
				t.Errorf("stats %+v; want 3 articles, 1 dead letter, the others' contracts", st)
			}
			mem.CloseTopic(schemas.TopicDLQ)
			m, err := mem.Consumer(schemas.TopicDLQ).Fetch(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var dl schemas.DeadLetter
			if err := json.Unmarshal(m.Value, &dl); err != nil || dl.Reason != "timeout" || dl.Stage != "extract" {
				t.Errorf("dead letter %+v (%v); want stage extract, reason timeout", dl, err)
			}
			for i := range msgs {
				if !in.committed[int64(i)] {
					t.Errorf("article %d left uncommitted", i)
				}
			}
		})
	}
}

// TestStageStopsDuringSlowExtraction: SIGTERM (the context ending) while an
// extraction is stuck stops the stage within 1 s; the stuck article is
// neither dead-lettered nor committed, so it comes again.
func TestStageStopsDuringSlowExtraction(t *testing.T) {
	x, err := extractor.New()
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	defer close(release)
	mem := stream.NewMemory()
	deadlineInput(t, mem)
	in := &recordingConsumer{Consumer: mem.Consumer(schemas.TopicArticles), committed: map[int64]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	if _, err := x.RunStage(ctx, in, mem, extractor.StageConfig{Workers: 2, ArticleTimeout: time.Hour, Extract: slowExtract(x, release, false)}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 1300*time.Millisecond {
		t.Errorf("stage stopped %s after start (cancelled at 300ms), want < 1.3s", d)
	}
	if n := mem.Len(schemas.TopicDLQ); n != 0 {
		t.Errorf("%d dead letters for a shutdown", n)
	}
	if in.committed[1] {
		t.Error("the article cut short by the shutdown was committed")
	}
}

// TestStageKeepsTheFetchedURL: every record names the URL its page was
// fetched from (source.fetched_url) next to the canonical URL it was
// published under, and passes the contract schema.
func TestStageKeepsTheFetchedURL(t *testing.T) {
	x, err := extractor.New()
	if err != nil {
		t.Fatal(err)
	}
	a, err := fixtures.Article("en-pr-cipher-aws") // a press release with one deal
	if err != nil {
		t.Fatal(err)
	}
	a.URL = "http://mirror.example/fetched/here?utm_source=x"
	mem := stream.NewMemory()
	v, _ := json.Marshal(a)
	mem.Publish(context.Background(), stream.Message{Topic: schemas.TopicArticles, Key: []byte(a.CanonicalURL), Value: v})
	mem.CloseTopic(schemas.TopicArticles)
	st, err := x.RunStage(context.Background(), mem.Consumer(schemas.TopicArticles), mem, extractor.StageConfig{})
	if err != nil || st.Contracts == 0 {
		t.Fatalf("%v, %+v", err, st)
	}
	mem.CloseTopic(schemas.TopicContracts)
	out := mem.Consumer(schemas.TopicContracts)
	for range st.Contracts {
		m, err := out.Fetch(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var c schemas.Contract
		json.Unmarshal(m.Value, &c)
		if c.Source.FetchedURL != a.URL || c.Source.URL != a.CanonicalURL {
			t.Errorf("record %s: source %+v; want url %s, fetched_url %s", c.ID, c.Source, a.CanonicalURL, a.URL)
		}
		if err := schemas.Validate("contract.schema.json", m.Value); err != nil {
			t.Errorf("record %s: %v", c.ID, err)
		}
	}
}

// TestStagePanicIsADeadLetter: an extraction that panics on one article
// dead-letters that article (reason extractor_panic, with where it happened)
// and the stage goes on with the others and commits every article.
func TestStagePanicIsADeadLetter(t *testing.T) {
	x, err := extractor.New()
	if err != nil {
		t.Fatal(err)
	}
	mem := stream.NewMemory()
	msgs := deadlineInput(t, mem)
	mem.CloseTopic(schemas.TopicArticles)
	in := &recordingConsumer{Consumer: mem.Consumer(schemas.TopicArticles), committed: map[int64]bool{}}
	boom := func(ctx context.Context, a schemas.Article) ([]schemas.Contract, error) {
		if strings.Contains(a.CanonicalURL, "hostile") {
			var none []byte
			_ = none[len(a.CanonicalURL)] // an index out of range: a panic as a bug would cause
		}
		return x.Extract(ctx, a)
	}
	st, err := x.RunStage(context.Background(), in, mem, extractor.StageConfig{Workers: 2, Extract: boom})
	if err != nil {
		t.Fatal(err)
	}
	if st.Articles != 3 || st.DeadLetters != 1 || st.Contracts == 0 {
		t.Errorf("stats %+v; want 3 articles, 1 dead letter, the others' contracts", st)
	}
	mem.CloseTopic(schemas.TopicDLQ)
	m, err := mem.Consumer(schemas.TopicDLQ).Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var dl schemas.DeadLetter
	if err := json.Unmarshal(m.Value, &dl); err != nil || dl.Reason != "extractor_panic" || !strings.Contains(dl.Error, "index out of range") || !strings.Contains(dl.Error, "stage_test.go") {
		t.Errorf("dead letter %+v (%v); want reason extractor_panic naming the panic and where it happened", dl, err)
	}
	for i := range msgs {
		if !in.committed[int64(i)] {
			t.Errorf("article %d left uncommitted", i)
		}
	}
}

// TestStageFastExtractionIsNeverATimeout: an extraction that answers at once
// also cancels its deadline context when it ends; the stage must take its
// answer, never report the cancelled deadline as a timeout.
func TestStageFastExtractionIsNeverATimeout(t *testing.T) {
	x, err := extractor.New()
	if err != nil {
		t.Fatal(err)
	}
	mem := stream.NewMemory()
	const n = 3000
	msgs := make([]stream.Message, n)
	base, err := fixtures.Article(fixtures.Cases()[0])
	if err != nil {
		t.Fatal(err)
	}
	for i := range msgs {
		a := base
		a.URL = fmt.Sprintf("https://fast.example/%d", i)
		a.CanonicalURL = a.URL
		v, _ := json.Marshal(a)
		msgs[i] = stream.Message{Topic: schemas.TopicArticles, Key: []byte(a.CanonicalURL), Value: v, Offset: int64(i)}
	}
	if err := mem.Publish(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	mem.CloseTopic(schemas.TopicArticles)
	instant := func(ctx context.Context, a schemas.Article) ([]schemas.Contract, error) { return nil, nil }
	// Many Ps make the race likely: the extraction, on another P, answers
	// and cancels before the stage's select runs, so both cases are ready.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	st, err := x.RunStage(context.Background(), mem.Consumer(schemas.TopicArticles), mem, extractor.StageConfig{Workers: 4, Extract: instant})
	if err != nil {
		t.Fatal(err)
	}
	if st.Articles != n || st.DeadLetters != 0 {
		mem.CloseTopic(schemas.TopicDLQ)
		m, _ := mem.Consumer(schemas.TopicDLQ).Fetch(context.Background())
		t.Fatalf("stats %+v; want %d articles and no dead letter (first: %s)", st, n, m.Value)
	}
}
