package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mwledger/mwledger/alert"
	"github.com/mwledger/mwledger/internal/metrics"
	"github.com/mwledger/mwledger/ledger/sqlite"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

func TestListenAddrDefaultsToLoopback(t *testing.T) {
	for _, tt := range []struct{ in, want, errContains string }{
		{"9464", "127.0.0.1:9464", ""},
		{":9464", "127.0.0.1:9464", ""},
		{"127.0.0.1:0", "127.0.0.1:0", ""},
		{"[::1]:9464", "[::1]:9464", ""},
		{"0.0.0.0:9464", "0.0.0.0:9464", ""},
		{"", "", "empty"},
		{"a:b:c", "", "too many colons"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := metrics.ListenAddr(tt.in)
			if (err == nil) != (tt.errContains == "") || err != nil && !strings.Contains(err.Error(), tt.errContains) || got != tt.want {
				t.Fatalf("ListenAddr(%q) = %q, %v; want %q, error containing %q", tt.in, got, err, tt.want, tt.errContains)
			}
		})
	}
}

func TestStageObserver(t *testing.T) {
	reg := metrics.NewRegistry()
	st := metrics.NewStage(reg)
	st.Init("index")
	srv, err := metrics.Serve("127.0.0.1:0", reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	url := "http://" + srv.Addr + "/metrics"
	st.Retrying("index", 3)
	st.BatchDone("index", stream.BatchReport{Messages: 5, Published: 0, DeadLetters: map[string]int{"invalid_json": 2}, Took: 20 * time.Millisecond,
		Lag: []stream.PartitionLag{{Topic: "mwledger.contracts", Partition: 1, Lag: 42}}})
	s, err := metrics.ScrapeURL(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"mwledger_stage_records_in_total", []string{"stage", "index"}, 5},
		{"mwledger_stage_records_out_total", []string{"stage", "index"}, 0},
		{"mwledger_stage_retries_total", []string{"stage", "index"}, 3},
		{"mwledger_stage_dead_letters_total", []string{"stage", "index", "reason", "invalid_json"}, 2},
		{"mwledger_stage_batch_duration_seconds", []string{"stage", "index"}, 1},
		{"mwledger_stage_consumer_lag", []string{"stage", "index", "topic", "mwledger.contracts", "partition", "1"}, 42},
	} {
		if got := s.Value(tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}

// flakySink fails its first n sends.
type flakySink struct {
	fail atomic.Int32
	sent atomic.Int32
}

func (s *flakySink) Name() string { return "flaky" }
func (s *flakySink) Send(context.Context, alert.Message) error {
	if s.fail.Add(-1) >= 0 {
		return errors.New("receiver down")
	}
	s.sent.Add(1)
	return nil
}

// TestDispatcherObserver runs a real dispatcher over the embedded store (SQLite) with a
// sink that fails twice: the scrape shows the failures, the delivery, its
// latency and nothing left pending.
func TestDispatcherObserver(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	reg := metrics.NewRegistry()
	am := metrics.NewAlerts(reg, "flaky")
	srv, err := metrics.Serve("127.0.0.1:0", reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	url := "http://" + srv.Addr + "/metrics"
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	sink := &flakySink{}
	sink.fail.Store(2)
	d, err := alert.NewDispatcher(alert.DispatcherConfig{Outbox: store, Sinks: []alert.Sink{sink}, Observer: am,
		PollInterval: 50 * time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p, err := alert.NewPolicy(alert.DefaultRules(), d.SinkNames())
	if err != nil {
		t.Fatal(err)
	}
	store.SetAlerts(p, d.Notify)
	ms := "Microsoft"
	mw, usd, years := 200.0, 5e9, 10.0
	rec := schemas.Contract{SchemaVersion: schemas.Version, ID: "deal-metrics-1", Operator: schemas.Operator{Name: "IREN"},
		Counterparty: schemas.Counterparty{Name: &ms, Hyperscaler: true}, ContractType: schemas.TypeCloudServices,
		CapacityMW: &mw, TotalValueUSD: &usd, TermYears: &years, Terms: []string{},
		Source: schemas.Source{URL: "https://metrics.example/a"}, Evidence: []string{"synthetic"}, Confidence: 0.9}
	for _, err := range store.Upsert(ctx, []schemas.Contract{rec}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	go d.Run(ctx)
	var s metrics.Scrape
	for {
		if s, err = metrics.ScrapeURL(ctx, url); err != nil {
			t.Fatal(err)
		}
		if s.Value("mwledger_alerts_delivered_total", "sink", "flaky") >= 1 && s.Value("mwledger_alerts_pending") == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no delivery seen: delivered %v, pending %v, failures %v", s.Value("mwledger_alerts_delivered_total"),
				s.Value("mwledger_alerts_pending"), s.Value("mwledger_alerts_failures_total"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := s.Value("mwledger_alerts_failures_total", "sink", "flaky"); got != 2 {
		t.Errorf("failures = %v, want 2", got)
	}
	if got := s.Value("mwledger_alerts_delivery_latency_seconds", "sink", "flaky"); got != s.Value("mwledger_alerts_delivered_total", "sink", "flaky") {
		t.Errorf("%v latencies for %v deliveries", got, s.Value("mwledger_alerts_delivered_total"))
	}
	if int(s.Value("mwledger_alerts_delivered_total", "sink", "flaky")) != int(sink.sent.Load()) {
		t.Errorf("delivered counter %v, sink took %d", s.Value("mwledger_alerts_delivered_total"), sink.sent.Load())
	}
}

func TestHTTPRoutes(t *testing.T) {
	reg := metrics.NewRegistry()
	h := metrics.NewHTTP(reg)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/deals/{id}", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	srv := httptest.NewServer(h.Wrap(mux))
	defer srv.Close()
	for _, p := range []string{"/api/deals/a", "/api/deals/b", "/x"} {
		res, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	msrv, err := metrics.Serve("127.0.0.1:0", reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer msrv.Close()
	s, err := metrics.ScrapeURL(context.Background(), "http://"+msrv.Addr+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Value("mwledger_http_requests_total", "route", "GET /api/deals/{id}", "code", "404"); got != 2 {
		t.Errorf("requests by pattern = %v, want 2 (ids never become labels)", got)
	}
	if got := s.Series("mwledger_http_requests_total"); got != 2 {
		t.Errorf("%d series, want 2 (the pattern and other)", got)
	}
}
