package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mwledger/mwledger/alert"
	"github.com/mwledger/mwledger/indexer"
	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/ledger/sqlite"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

// failingSink refuses every alert until up is set.
type failingSink struct {
	up        atomic.Bool
	delivered atomic.Int64
}

func (s *failingSink) Name() string { return "test" }

func (s *failingSink) Send(context.Context, alert.Message) error {
	if !s.up.Load() {
		return errors.New("receiver down")
	}
	s.delivered.Add(1)
	return nil
}

// countingStore tells, after each write, how many records it took.
type countingStore struct {
	Store
	upserted chan int
}

func (s countingStore) Upsert(ctx context.Context, cs []schemas.Contract) []error {
	errs := s.Store.Upsert(ctx, cs)
	s.upserted <- len(cs)
	return errs
}

// waitStored waits until n records were written.
func (r *indexerRun) waitStored(t *testing.T, n int) {
	for got := 0; got < n; {
		select {
		case k := <-r.upserted:
			got += k
		case <-time.After(30 * time.Second):
			t.Errorf("%d of %d records stored after 30 s", got, n)
			return
		}
	}
}

// indexerRun is one Indexer over a new ledger, fed n sample records on an
// in-process bus; stop says how the stage ends: "idle" (a clean stop: the
// stage's IdleExit) or "cancel" (ctx cancelled once every record is stored).
type indexerRun struct {
	store    *sqlite.Store
	sink     *failingSink
	upserted chan int
	stored   atomic.Int64 // deal ids Stored heard of
	log      *slog.Logger // the stage's
	ix       Indexer
}

func newIndexerRun(t *testing.T, drain time.Duration) *indexerRun {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	sink := &failingSink{}
	disp, err := alert.NewDispatcher(alert.DispatcherConfig{Outbox: store, Sinks: []alert.Sink{sink},
		PollInterval: 50 * time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	policy, err := alert.NewPolicy(alert.DefaultRules(), disp.SinkNames())
	if err != nil {
		t.Fatal(err)
	}
	r := &indexerRun{store: store, sink: sink, upserted: make(chan int, 1000)}
	r.ix = Indexer{Store: countingStore{store, r.upserted}, Policy: policy, Dispatcher: disp, Drain: drain,
		Stored: func(ids []string) { r.stored.Add(int64(len(ids))) }}
	return r
}

// run feeds the records and runs the indexer until it returns (at most 30 s:
// a run that waits longer fails the test instead of hanging it).
func (r *indexerRun) run(t *testing.T, recs []schemas.Contract, stop string) indexer.StageStats {
	t.Helper()
	mem := stream.NewMemory()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := mem.Consumer(schemas.TopicContracts)
	for _, c := range recs {
		v, _ := json.Marshal(c)
		if err := mem.Publish(ctx, stream.Message{Topic: schemas.TopicContracts, Key: []byte(c.ID), Value: v}); err != nil {
			t.Fatal(err)
		}
	}
	r.ix.Stage = indexer.StageConfig{BatchSize: 50, FlushInterval: 5 * time.Millisecond, Log: r.log}
	if stop == "idle" {
		r.ix.Stage.IdleExit = 200 * time.Millisecond
	}
	var st indexer.StageStats
	var err error
	done := make(chan struct{})
	go func() { defer close(done); st, err = r.ix.Run(ctx, in, mem) }()
	if stop == "cancel" {
		r.waitStored(t, len(recs))
		cancel()
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Indexer.Run still running 30 s after the stage stopped")
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	return st
}

func (r *indexerRun) pending(t *testing.T) int {
	t.Helper()
	p, err := r.store.PendingAlerts(context.Background(), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(p)
}

// hyperscalerDeals are sample records that raise a "new" alert each.
func hyperscalerDeals(t *testing.T) []schemas.Contract {
	var out []schemas.Contract
	for i, c := range testkit.SampleContracts("ix", 60, 4) {
		if c.Counterparty.Hyperscaler && c.CapacityMW != nil {
			c.ID = fmt.Sprintf("deal-%016x", i) // as the schema wants record ids
			out = append(out, c)
		}
	}
	if len(out) < 5 {
		t.Fatalf("only %d hyperscaler samples", len(out))
	}
	return out
}

// onStageStop is a log handler that calls stop when the stage logs that it
// stops (its idle exit).
type onStageStop struct{ stop func() }

func (h onStageStop) Enabled(context.Context, slog.Level) bool { return true }
func (h onStageStop) Handle(_ context.Context, r slog.Record) error {
	if strings.HasSuffix(r.Message, "idle, stopping") {
		h.stop()
	}
	return nil
}
func (h onStageStop) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h onStageStop) WithGroup(string) slog.Handler      { return h }

// A clean stop drains the dispatcher: alerts a failing sink refused while
// the stage ran are delivered before Run returns, by a sink that came back
// only once the stage had stopped.
func TestIndexerDrainsAfterACleanStop(t *testing.T) {
	r := newIndexerRun(t, 20*time.Second)
	r.log = slog.New(onStageStop{func() { r.sink.up.Store(true) }})
	recs := hyperscalerDeals(t)
	st := r.run(t, recs, "idle")
	if st.Indexed != len(recs) {
		t.Errorf("indexed %d of %d (%+v)", st.Indexed, len(recs), st)
	}
	if n := r.pending(t); n != 0 || r.sink.delivered.Load() == 0 {
		t.Errorf("after a clean stop: %d alerts pending, %d delivered", n, r.sink.delivered.Load())
	}
	if r.stored.Load() == 0 || r.stored.Load() > int64(len(recs)) {
		t.Errorf("Stored heard of %d deals for %d records", r.stored.Load(), len(recs))
	}
}

// A stop (ctx cancelled) does not wait for a sink that is down, nor does a
// run with Drain < 0: the alerts stay in the outbox for the next run.
func TestIndexerLeavesAlertsInTheOutbox(t *testing.T) {
	for _, c := range []struct {
		name, stop string
		drain      time.Duration
	}{{"cancelled", "cancel", time.Hour}, {"no drain", "idle", -1}} {
		t.Run(c.name, func(t *testing.T) {
			r := newIndexerRun(t, c.drain)
			recs := hyperscalerDeals(t)
			r.run(t, recs, c.stop)
			if n := r.pending(t); n == 0 || r.sink.delivered.Load() != 0 {
				t.Errorf("%d alerts pending, %d delivered: want them all pending", n, r.sink.delivered.Load())
			}
			// The next run (sink up, nothing new) delivers them.
			r.sink.up.Store(true)
			r.ix.Drain = 20 * time.Second
			r.run(t, nil, "idle")
			if n := r.pending(t); n != 0 {
				t.Errorf("next run left %d alerts pending", n)
			}
		})
	}
}
