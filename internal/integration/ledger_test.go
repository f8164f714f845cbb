package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mwledger/mwledger/alert"
	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/indexer"
	"github.com/mwledger/mwledger/internal/app"
	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/ledger/es"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
	"github.com/mwledger/mwledger/stream/kafka"
)

// ledgerRecords are the contract records of the ledger fixtures: what the
// extractor reads from fixtures/ledger/*.html (four articles with the facts of
// the seed documents about IREN–Microsoft: an analyst note without MW or term,
// a rewrite calling the operator "Iris Energy", a blog, a crypto-media piece
// without MW) and from fixtures/en-pr-apld-coreweave.html (the original
// Applied Digital–CoreWeave leases; the upsize article gives an event record),
// plus one hand-built record: a mention of the IREN–Microsoft deal by capacity
// only, whose extractor id
// differs from the valued one (so identity resolution, not the id, must join it).
func ledgerRecords(t *testing.T) []schemas.Contract {
	t.Helper()
	x, err := extractor.New()
	if err != nil {
		t.Fatal(err)
	}
	dir := os.DirFS("../../fixtures/ledger")
	names, err := fs.Glob(dir, "*.html")
	if err != nil || len(names) < 5 {
		t.Fatalf("ledger fixtures: %v %v", names, err)
	}
	var out []schemas.Contract
	read := func(fsys fs.FS, name string) []schemas.Contract {
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		page, err := extractor.ReadHTML(body, "")
		if err != nil {
			t.Fatal(err)
		}
		return x.FromPage(page, page.Canonical)
	}
	var apld schemas.Contract
	for _, c := range read(os.DirFS("../../fixtures"), "en-pr-apld-coreweave.html") {
		if c.Operator.Name == "Applied Digital" {
			apld = c
		}
	}
	if apld.ID == "" {
		t.Fatal("no Applied Digital–CoreWeave record in en-pr-apld-coreweave.html")
	}
	out = append(out, apld)
	var blogIREN schemas.Contract
	for _, n := range names {
		for _, c := range read(dir, n) {
			out = append(out, c)
			if n == "blog-miners-pivot.html" && c.Operator.Name == "IREN" {
				blogIREN = c
			}
		}
	}
	// The upsize article is read by the extractor like the others: its record
	// carries the event and restates the original deal.
	upsizes := 0
	for _, c := range out {
		if c.Event != nil && c.Event.Type == schemas.EventUpsize {
			upsizes++
		}
	}
	if upsizes != 1 {
		t.Fatalf("the extractor wrote %d upsize events for the fixtures, want 1", upsizes)
	}
	// IREN–Microsoft by capacity only.
	mwOnly := blogIREN
	mwOnly.TotalValueUSD, mwOnly.TermYears, mwOnly.USDPerMWYear, mwOnly.PrepaymentUSD = nil, nil, nil, nil
	mwOnly.Source = schemas.Source{URL: "https://www.gridwatch-weekly.example/2026/02/texas-campuses", Outlet: ptr("Gridwatch Weekly")}
	mwOnly.ID = extractor.DealID(mwOnly)
	if mwOnly.ID == blogIREN.ID {
		t.Fatal("the capacity-only record should have another extractor id")
	}
	out = append(out, mwOnly)
	return out
}

func ptr(s string) *string       { return &s }
func runID(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) }

// webhookReceiver counts the alerts it accepted, by id; it answers 503 while down.
type webhookReceiver struct {
	srv  *httptest.Server
	up   atomic.Bool
	mu   sync.Mutex
	got  map[string]int
	at   map[string]time.Time
	down atomic.Int64
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	w := &webhookReceiver{got: map[string]int{}, at: map[string]time.Time{}}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !w.up.Load() {
			w.down.Add(1)
			http.Error(rw, "down", http.StatusServiceUnavailable)
			return
		}
		var m alert.Message
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &m); err != nil || m.Text == "" || m.AlertID == "" {
			http.Error(rw, "bad body", http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.got[m.AlertID]++
		if _, ok := w.at[m.AlertID]; !ok {
			w.at[m.AlertID] = time.Now()
		}
		w.mu.Unlock()
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *webhookReceiver) counts() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]int{}
	for k, v := range w.got {
		out[k] = v
	}
	return out
}

// ledgerEnv is one isolated ledger: its own alias, contracts topic and alerts topic.
type ledgerEnv struct {
	kcfg                     kafka.Config
	es, alias, topic, alerts string
	pub                      *kafka.Publisher
	hook                     *webhookReceiver
	log                      *slog.Logger
}

func newLedgerEnv(t *testing.T, ctx context.Context) *ledgerEnv {
	kafkaAddr, esURL := testkit.Kafka(t), testkit.ES(t)
	id := runID("lt")
	e := &ledgerEnv{kcfg: kafka.Config{Brokers: []string{kafkaAddr}}, es: esURL, alias: es.Alias + "-" + id,
		topic: "mwledger.contracts." + id, alerts: alert.Topic + "." + id, hook: newWebhookReceiver(t),
		log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if err := kafka.EnsureTopics(ctx, e.kcfg, kafka.TopicSpec{Name: e.topic}, kafka.TopicSpec{Name: e.alerts, Partitions: 1},
		kafka.TopicSpec{Name: schemas.TopicDLQ, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	pub, err := kafka.NewPublisher(e.kcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	e.pub = pub
	return e
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (e *ledgerEnv) publish(t *testing.T, ctx context.Context, cs ...schemas.Contract) {
	t.Helper()
	msgs := make([]stream.Message, len(cs))
	for i, c := range cs {
		v, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		msgs[i] = stream.Message{Topic: e.topic, Key: []byte(c.ID), Value: v}
	}
	if err := e.pub.Publish(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
}

// indexer is one indexer process: a store, a dispatcher with the three sinks, a stage.
type testIndexer struct {
	store  *es.Store
	disp   *alert.Dispatcher
	policy *alert.Policy
}

// app is the indexer as `mwledger index` runs it (app.Indexer), without the
// drain at the end: a test drains when it means to.
func (ix *testIndexer) app(stage indexer.StageConfig) app.Indexer {
	return app.Indexer{Store: ix.store, Stage: stage, Policy: ix.policy, Dispatcher: ix.disp, Drain: -1}
}

func (e *ledgerEnv) newIndexer(t *testing.T, ctx context.Context) *testIndexer {
	t.Helper()
	store, err := es.New(es.Config{Addresses: []string{e.es}, Alias: e.alias, Log: e.log})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureIndex(ctx); err != nil {
		t.Fatal(err)
	}
	hook, err := alert.NewWebhookSink(alert.WebhookConfig{URL: e.hook.srv.URL, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	disp, err := alert.NewDispatcher(alert.DispatcherConfig{Outbox: store, PollInterval: 300 * time.Millisecond,
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, Log: e.log,
		Sinks: []alert.Sink{alert.LogSink{Log: e.log}, hook, alert.KafkaSink{Pub: e.pub, Topic: e.alerts}}})
	if err != nil {
		t.Fatal(err)
	}
	policy, err := alert.NewPolicy(alert.DefaultRules(), disp.SinkNames())
	if err != nil {
		t.Fatal(err)
	}
	store.SetAlerts(policy, disp.Notify)
	return &testIndexer{store: store, disp: disp, policy: policy}
}

// run consumes the topic with group until idle for idle, with the dispatcher running.
func (ix *testIndexer) run(t *testing.T, ctx context.Context, e *ledgerEnv, group string, idle time.Duration) indexer.StageStats {
	t.Helper()
	in, err := kafka.NewConsumer(e.kcfg, group, e.topic)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	st, err := ix.app(indexer.StageConfig{BatchSize: 100, FlushInterval: 50 * time.Millisecond, IdleExit: idle, Log: e.log}).Run(ctx, in, e.pub)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func allDeals(t *testing.T, ctx context.Context, s *es.Store) []ledger.Deal {
	t.Helper()
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := s.Search(ctx, ledger.Query{Size: 10000})
	if err != nil {
		t.Fatal(err)
	}
	return res.Deals
}

func alertIDs(deals []ledger.Deal) []string {
	var out []string
	for _, d := range deals {
		for _, a := range d.Alerts {
			out = append(out, a.ID)
		}
	}
	sort.Strings(out)
	return out
}

// TestLedgerSeedsOneDealOneAlert: the seed facts give one IREN–Microsoft deal
// with every source and one alert; the upsize links to its deal; a replay of the
// topic and a restarted indexer raise nothing again; a webhook that is down
// while the alerts are raised receives each exactly once after it comes up, and
// the Kafka alerts topic holds each exactly once.
func TestLedgerSeedsOneDealOneAlert(t *testing.T) {
	isolated(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e := newLedgerEnv(t, ctx)
	recs := ledgerRecords(t)
	e.publish(t, ctx, recs...)

	// First indexer: the webhook is down the whole time.
	ix := e.newIndexer(t, ctx)
	st := ix.run(t, ctx, e, e.topic+"-g1", 3*time.Second)
	if st.Indexed != len(recs) || st.DeadLetters != 0 {
		t.Fatalf("stage: %+v for %d records", st, len(recs))
	}
	deals := allDeals(t, ctx, ix.store)
	var iren []ledger.Deal
	var apld *ledger.Deal
	for i, d := range deals {
		if d.Operator.Name == "IREN" && d.Counterparty.Label() == "Microsoft" {
			iren = append(iren, d)
		}
		if d.Operator.Name == "Applied Digital" {
			apld = &deals[i]
		}
	}
	if len(iren) != 1 {
		t.Fatalf("%d IREN–Microsoft deals, want 1: %+v", len(iren), iren)
	}
	d := iren[0]
	if len(d.Sources) != 5 {
		t.Errorf("IREN–Microsoft has %d sources, want 5 (four articles and the capacity-only mention)", len(d.Sources))
	}
	for _, s := range d.Sources {
		if len(s.Evidence) == 0 || s.ExtractorVersion == "" {
			t.Errorf("source %s lacks evidence or extractor version", s.URL)
		}
	}
	if d.CapacityMW == nil || *d.CapacityMW != 200 || d.TotalValueUSD == nil || *d.TotalValueUSD != 9.7e9 || d.TermYears == nil || *d.TermYears != 5 {
		t.Errorf("IREN–Microsoft figures: %v MW, %v USD, %v years", d.CapacityMW, d.TotalValueUSD, d.TermYears)
	}
	if d.PrepaymentUSD == nil || *d.PrepaymentUSD != 1.94e9 {
		t.Errorf("prepayment from the analyst note not merged: %v", d.PrepaymentUSD)
	}
	if !contains(d.Conflicts, "contract_type") {
		t.Errorf("bare_metal (analyst) vs cloud_services (others) should be a visible conflict: %v", d.Conflicts)
	}
	if len(d.Alerts) != 1 || d.Alerts[0].Key != "new" {
		t.Errorf("IREN–Microsoft alerts: %+v, want one 'new'", d.Alerts)
	}
	if apld == nil || len(apld.Events) != 1 || apld.Events[0].Type != schemas.EventUpsize {
		t.Fatalf("Applied Digital–CoreWeave deal with one upsize event: %+v", apld)
	}
	if apld.Current == nil || apld.Current.CapacityMW == nil || *apld.Current.CapacityMW != 400 {
		t.Errorf("Applied Digital current capacity after upsize: %+v", apld.Current)
	}
	for _, x := range deals {
		if x.ID != apld.ID && len(x.Sources) > 0 && x.Sources[0].Role == ledger.RoleEvent {
			t.Errorf("the upsize made a deal of its own: %s", x.ID)
		}
	}
	ids1 := alertIDs(deals)
	t.Logf("%d deals, alerts %v; webhook refused %d posts while down", len(deals), ids1, e.hook.down.Load())
	if len(e.hook.counts()) != 0 {
		t.Fatalf("webhook was down but received %v", e.hook.counts())
	}

	// A restart (new store and dispatcher) replaying the whole topic (new group),
	// with the webhook back up: no new alert, and the pending ones are delivered.
	e.hook.up.Store(true)
	ix2 := e.newIndexer(t, ctx)
	ix2.run(t, ctx, e, e.topic+"-g2", 3*time.Second)
	dctx, dcancel := context.WithTimeout(ctx, 20*time.Second)
	if err := ix2.disp.Drain(dctx); err != nil {
		t.Fatalf("draining the outbox: %v", err)
	}
	dcancel()
	deals2 := allDeals(t, ctx, ix2.store)
	if ids2 := alertIDs(deals2); strings.Join(ids2, ",") != strings.Join(ids1, ",") {
		t.Errorf("replay changed the alerts: %v → %v", ids1, ids2)
	}
	if len(deals2) != len(deals) {
		t.Errorf("replay changed the number of deals: %d → %d", len(deals), len(deals2))
	}
	got := e.hook.counts()
	for _, id := range ids1 {
		if got[id] != 1 {
			t.Errorf("webhook got alert %s %d times, want 1", id, got[id])
		}
	}
	if len(got) != len(ids1) {
		t.Errorf("webhook got %d alerts, want %d", len(got), len(ids1))
	}
	for _, dd := range deals2 {
		for _, a := range dd.Alerts {
			if len(a.Pending) != 0 {
				t.Errorf("alert %s still pending for %v", a.ID, a.Pending)
			}
		}
	}
	// The Kafka alerts topic: each alert once.
	kc, err := kafka.NewConsumer(e.kcfg, e.alerts+"-reader", e.alerts)
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	onKafka := map[string]int{}
	for len(onKafka) < len(ids1) {
		fctx, fcancel := context.WithTimeout(ctx, 15*time.Second)
		m, err := kc.Fetch(fctx)
		fcancel()
		if err != nil {
			t.Fatalf("reading %s (have %v): %v", e.alerts, onKafka, err)
		}
		onKafka[string(m.Key)]++
	}
	fctx, fcancel := context.WithTimeout(ctx, 2*time.Second)
	if m, err := kc.Fetch(fctx); err == nil {
		onKafka[string(m.Key)]++
	}
	fcancel()
	for _, id := range ids1 {
		if onKafka[id] != 1 {
			t.Errorf("alert %s on Kafka %d times, want 1", id, onKafka[id])
		}
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// synthetic returns n records of n distinct new hyperscaler deals.
func synthetic(prefix string, n int) []schemas.Contract {
	out := make([]schemas.Contract, n)
	for i := range out {
		cp := "Microsoft"
		mw, usd, yrs := float64(50+i%400), float64(1e9+float64(i)*1e7), 10.0
		c := schemas.Contract{SchemaVersion: 1, Operator: schemas.Operator{Name: fmt.Sprintf("%s Op %d", prefix, i)},
			Counterparty: schemas.Counterparty{Name: &cp, Hyperscaler: true}, ContractType: schemas.TypeColocation,
			CapacityMW: &mw, TotalValueUSD: &usd, TermYears: &yrs, Terms: []string{},
			Source:   schemas.Source{URL: fmt.Sprintf("https://bench.example/%s/%d", prefix, i)},
			Evidence: []string{"synthetic"}, Confidence: 0.9, ExtractorVersion: "test"}
		c.USDPerMWYear = schemas.DerivedUSDPerMWYear(c.TotalValueUSD, c.CapacityMW, c.TermYears)
		c.ID = extractor.DealID(c)
		out[i] = c
	}
	return out
}

// TestLedgerThroughputAndAlertLatency reports bulk indexing throughput (deals/s,
// new deals with alerts, through es.Store.Upsert in batches of 500; 5000 deals,
// -short 1000) and the latency from a contract record published on Kafka to its
// alert at the webhook (p50/p95 over a bounded number of records, one at a time).
func TestLedgerThroughputAndAlertLatency(t *testing.T) {
	isolated(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e := newLedgerEnv(t, ctx)
	e.hook.up.Store(true)
	ix := e.newIndexer(t, ctx)

	n := sized(t, "deals", 5000, 1000)
	recs := synthetic(runID("tp"), n)
	start := time.Now()
	for i := 0; i < n; i += 500 {
		for _, err := range ix.store.Upsert(ctx, recs[i:min(i+500, n)]) {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	took := time.Since(start)
	t.Logf("THROUGHPUT bulk indexing: %d new deals in %s = %.0f deals/s (batches of 500, identity resolution, merge, alerts)", n, took.Round(time.Millisecond), float64(n)/took.Seconds())
	start = time.Now()
	for i := 0; i < n; i += 500 {
		for _, err := range ix.store.Upsert(ctx, recs[i:min(i+500, n)]) {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	took = time.Since(start)
	t.Logf("THROUGHPUT replay of the same %d records: %s = %.0f records/s (no write: nothing changed)", n, took.Round(time.Millisecond), float64(n)/took.Seconds())

	// Latency: a running indexer on a fresh ledger (the 5000 alerts above would
	// queue ahead), one record at a time.
	e = newLedgerEnv(t, ctx)
	e.hook.up.Store(true)
	ix = e.newIndexer(t, ctx)
	lctx, lcancel := context.WithCancel(ctx)
	in, err := kafka.NewConsumer(e.kcfg, e.topic+"-lat", e.topic)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ix.app(indexer.StageConfig{BatchSize: 100, FlushInterval: 20 * time.Millisecond, Log: e.log}).Run(lctx, in, e.pub)
	}()
	const m = 40
	lat := make([]time.Duration, 0, m)
	for i, c := range synthetic(runID("lat"), m) {
		sent := time.Now()
		e.publish(t, ctx, c)
		id := c.ID + "/new"
		for {
			e.hook.mu.Lock()
			at, ok := e.hook.at[id]
			e.hook.mu.Unlock()
			if ok {
				lat = append(lat, at.Sub(sent))
				break
			}
			if time.Since(sent) > 30*time.Second {
				t.Fatalf("record %d: no alert after 30s", i)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	lcancel()
	wg.Wait()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("LATENCY Kafka record → webhook alert over %d records: p50 %s, p95 %s, max %s", m,
		lat[m/2].Round(time.Millisecond), lat[m*95/100].Round(time.Millisecond), lat[m-1].Round(time.Millisecond))
}

// TestLedgerReindexSwapsAliasWhileServing copies the ledger into the next index
// version while searches keep running, and checks the alias moved with every deal.
func TestLedgerReindexSwapsAliasWhileServing(t *testing.T) {
	isolated(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e := newLedgerEnv(t, ctx)
	ix := e.newIndexer(t, ctx)
	recs := append(ledgerRecords(t), synthetic(runID("rx"), 1200)...)
	for _, err := range ix.store.Upsert(ctx, recs) {
		if err != nil {
			t.Fatal(err)
		}
	}
	before := allDeals(t, ctx, ix.store)
	var failures, searches atomic.Int64
	sctx, scancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for sctx.Err() == nil {
			res, err := ix.store.Search(sctx, ledger.Query{Operator: "IREN"})
			if sctx.Err() != nil {
				return
			}
			searches.Add(1)
			if err != nil || res.Total == 0 {
				failures.Add(1)
			}
		}
	}()
	st, err := ix.store.Reindex(ctx)
	scancel()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if next := fmt.Sprintf("-v%d", es.MappingVersion+1); !strings.HasSuffix(st.To, next) || st.Copied != len(before) {
		t.Errorf("reindex %+v; want a copy of %d deals into %s", st, len(before), next)
	}
	if failures.Load() != 0 {
		t.Errorf("%d of %d searches failed during the reindex", failures.Load(), searches.Load())
	}
	after := allDeals(t, ctx, ix.store)
	if len(after) != len(before) {
		t.Errorf("after reindex %d deals, before %d", len(after), len(before))
	}
	// Writes after the swap go to the new index.
	for _, err := range ix.store.Upsert(ctx, synthetic(runID("post"), 3)) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(allDeals(t, ctx, ix.store)); n != len(before)+3 {
		t.Errorf("after writing 3 more: %d deals, want %d", n, len(before)+3)
	}
	t.Logf("reindexed %d deals %s → %s in %s while %d searches ran", st.Copied, st.From, st.To, st.Took.Round(time.Millisecond), searches.Load())
}
