package stream

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/schemas"
)

func TestRun(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	for _, v := range []string{"ok", "bad", "later", "ok2"} {
		if err := m.Publish(ctx, Message{Topic: "in", Key: []byte(v), Value: []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	m.CloseTopic("in")
	in := m.Consumer("in")
	calls := map[string]int{}
	fn := func(_ context.Context, batch []Message) ([]Message, []error, error) {
		var out []Message
		errs := make([]error, len(batch))
		for i, msg := range batch {
			v := string(msg.Value)
			calls[v]++
			switch {
			case v == "bad":
				errs[i] = Permanent("test", "bad_value", errors.New("cannot read bad"))
			case v == "later" && calls[v] < 3:
				errs[i] = Retryable("test", "not_yet", errors.New("store down"))
			default:
				out = append(out, Message{Topic: "out", Key: msg.Key, Value: []byte(strings.ToUpper(v))})
			}
		}
		return out, errs, nil
	}
	st, err := Run(ctx, in, m, RunnerConfig{Stage: "test", BatchSize: 10, RetryBackoff: Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond}}, fn)
	if err != nil {
		t.Fatal(err)
	}
	want := RunStats{Messages: 4, Done: 3, DeadLetters: 1, Published: 3, Retries: 2}
	if st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
	if calls["ok"] != 1 || calls["later"] != 3 || calls["bad"] != 1 {
		t.Errorf("calls = %v: only the retryable message is handed back", calls)
	}
	if n := m.Len("out"); n != 3 {
		t.Errorf("%d messages published downstream, want 3", n)
	}
	if n := m.Len(schemas.TopicDLQ); n != 1 {
		t.Fatalf("%d dead letters, want 1", n)
	}
	dl, _ := m.Consumer(schemas.TopicDLQ).Fetch(ctx)
	var d schemas.DeadLetter
	if err := json.Unmarshal(dl.Value, &d); err != nil || d.Reason != "bad_value" || d.Stage != "test" || d.Payload != "bad" {
		t.Errorf("dead letter = %+v (%v)", d, err)
	}
	if c := in.(*memoryConsumer).committed; c != 4 {
		t.Errorf("committed up to %d, want 4", c)
	}
}

// A failing BatchFunc, or a stage stopped in the middle of a batch, commits nothing.
func TestRunCommitsNothingOnError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := NewMemory()
	_ = m.Publish(ctx, Message{Topic: "in", Value: []byte("x")})
	m.CloseTopic("in")
	in := m.Consumer("in")
	boom := errors.New("boom")
	_, err := Run(ctx, in, m, RunnerConfig{Stage: "test"}, func(context.Context, []Message) ([]Message, []error, error) {
		return nil, nil, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want boom", err)
	}
	in = m.Consumer("in") // a new reader: what was not committed comes again
	_, err = Run(ctx, in, m, RunnerConfig{Stage: "test", RetryBackoff: Backoff{Min: time.Hour, Max: time.Hour}}, func(context.Context, []Message) ([]Message, []error, error) {
		cancel()
		return nil, []error{Retryable("test", "down", boom)}, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if c := in.(*memoryConsumer).committed; c != 0 {
		t.Errorf("committed up to %d, want nothing", c)
	}
}

// recorder is an Observer that keeps what it heard.
type recorder struct {
	retries int
	batches []BatchReport
}

func (r *recorder) Retrying(_ string, n int)          { r.retries += n }
func (r *recorder) BatchDone(_ string, b BatchReport) { r.batches = append(r.batches, b) }

func TestRunReportsToObserver(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	for _, v := range []string{"ok", "bad", "later"} {
		if err := m.Publish(ctx, Message{Topic: "in", Key: []byte(v), Value: []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	m.CloseTopic("in")
	// The in-process bus knows no high-water mark: set one as Kafka would.
	in := &hwmConsumer{Consumer: m.Consumer("in"), hwm: 10}
	calls := map[string]int{}
	fn := func(_ context.Context, batch []Message) ([]Message, []error, error) {
		var out []Message
		errs := make([]error, len(batch))
		for i, msg := range batch {
			v := string(msg.Value)
			calls[v]++
			switch {
			case v == "bad":
				errs[i] = Permanent("test", "bad_value", errors.New("cannot read bad"))
			case v == "later" && calls[v] < 2:
				errs[i] = Retryable("test", "not_yet", errors.New("store down"))
			default:
				out = append(out, Message{Topic: "out", Key: msg.Key, Value: msg.Value})
			}
		}
		return out, errs, nil
	}
	rec := &recorder{}
	ctx = WithObserver(ctx, rec)
	if _, err := Run(ctx, in, m, RunnerConfig{Stage: "test", BatchSize: 10, RetryBackoff: Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond}}, fn); err != nil {
		t.Fatal(err)
	}
	if rec.retries != 1 {
		t.Errorf("observer heard %d retried messages, want 1", rec.retries)
	}
	if len(rec.batches) != 1 {
		t.Fatalf("observer heard %d batches, want 1", len(rec.batches))
	}
	b := rec.batches[0]
	if b.Messages != 3 || b.Published != 2 || b.DeadLetters["bad_value"] != 1 || len(b.DeadLetters) != 1 {
		t.Errorf("batch report = %+v, want 3 messages, 2 published, 1 dead letter bad_value", b)
	}
	if len(b.Lag) != 1 || b.Lag[0].Topic != "in" || b.Lag[0].Lag != 10-2-1 {
		t.Errorf("lag = %+v, want 7 left on topic in after offset 2 of 10", b.Lag)
	}
}

// hwmConsumer sets a high-water mark on what it fetches, as Kafka does.
type hwmConsumer struct {
	Consumer
	hwm int64
}

func (c *hwmConsumer) Fetch(ctx context.Context) (Message, error) {
	m, err := c.Consumer.Fetch(ctx)
	m.HighWaterMark = c.hwm
	return m, err
}

// flakyConsumer fails its first fetches, as a Kafka reader does while the
// leader of its partition is down.
type flakyConsumer struct {
	Consumer
	fails int
}

func (c *flakyConsumer) Fetch(ctx context.Context) (Message, error) {
	if c.fails > 0 {
		c.fails--
		return Message{}, errors.New("failed to dial: connection refused")
	}
	return c.Consumer.Fetch(ctx)
}

func TestRunRetriesFailedFetch(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	if err := m.Publish(ctx, Message{Topic: "in", Key: []byte("a"), Value: []byte("a")}); err != nil {
		t.Fatal(err)
	}
	m.CloseTopic("in")
	in := &flakyConsumer{Consumer: m.Consumer("in"), fails: 2}
	st, err := Run(ctx, in, m, RunnerConfig{Stage: "test"}, func(_ context.Context, batch []Message) ([]Message, []error, error) {
		return nil, make([]error, len(batch)), nil
	})
	if err != nil || st.Done != 1 {
		t.Fatalf("Run = %+v, %v; want the message done after two failed fetches", st, err)
	}
	perm := &permanentFetch{}
	if _, err := Run(ctx, perm, m, RunnerConfig{Stage: "test"}, nil); err == nil || !strings.Contains(err.Error(), "fetching") {
		t.Errorf("a permanent fetch error: Run = %v, want it returned", err)
	}
}

// permanentFetch fails every fetch for good.
type permanentFetch struct{ Consumer }

func (permanentFetch) Fetch(context.Context) (Message, error) {
	return Message{}, Permanent("test", "config", errors.New("bad credentials"))
}

// partlyFailing delivers each message with a failed fetch behind it, as a
// consumer does when one of its partitions cannot be read and the others can.
type partlyFailing struct {
	Consumer
	failNext bool
}

func (c *partlyFailing) Fetch(ctx context.Context) (Message, error) {
	if c.failNext {
		c.failNext = false
		return Message{}, errors.New("failed to dial: connection refused")
	}
	m, err := c.Consumer.Fetch(ctx)
	c.failNext = err == nil
	return m, err
}

// A failed fetch that came with messages does not lengthen the next wait:
// the stage keeps reading the partitions that work at full speed.
func TestRunFetchBackoffStartsOverWithMessages(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	for i := range 6 {
		if err := m.Publish(ctx, Message{Topic: "in", Value: []byte{byte('a' + i)}}); err != nil {
			t.Fatal(err)
		}
	}
	m.CloseTopic("in")
	in := &partlyFailing{Consumer: m.Consumer("in")}
	start := time.Now()
	// Six failures with a growing wait would sleep at least
	// 25+50+100+200+400+800 ms; starting over each time, at most 6×50 ms.
	st, err := Run(ctx, in, m, RunnerConfig{Stage: "test", BatchSize: 10, FetchBackoff: Backoff{Min: 50 * time.Millisecond, Max: 5 * time.Second}},
		func(_ context.Context, batch []Message) ([]Message, []error, error) {
			return nil, make([]error, len(batch)), nil
		})
	if err != nil || st.Done != 6 {
		t.Fatalf("Run = %+v, %v; want the 6 messages done", st, err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Run took %s: the fetch backoff grew although every failed fetch brought a message", took)
	}
}

func TestRunnerConfigFetchBackoffDefault(t *testing.T) {
	if b := (RunnerConfig{}).withDefaults().FetchBackoff; b.Max > time.Second || b.Min <= 0 {
		t.Errorf("default FetchBackoff = %+v: kafka-go paces its own retries; more than 1s between fetches outlasts the outage", b)
	}
}
