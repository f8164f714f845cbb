package alert_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mwledger/mwledger/alert"
	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/ledger/sqlite"
	"github.com/mwledger/mwledger/schemas"
)

func TestRulesValidate(t *testing.T) {
	tests := []struct {
		name, yaml, errContains string
	}{
		{"default", "", ""},
		{"no hyperscalers", "rules: [{name: a, on: [new]}]", "hyperscalers"},
		{"bad change", "hyperscalers: [Google]\nrules: [{name: a, on: [renamed]}]", `"renamed" is not one of`},
		{"bad role", "hyperscalers: [Google]\nrules: [{name: a, on: [new], roles: [landlord]}]", "roles"},
		{"bad type", "hyperscalers: [Google]\nrules: [{name: a, on: [new], contract_types: [lease]}]", "contract_types"},
		{"unknown key", "hyperscalers: [Google]\nrules: [{name: a, on: [new], min_gw: 1}]", "min_gw"},
		{"duplicate name", "hyperscalers: [Google]\nrules: [{name: a, on: [new]}, {name: a, on: [upsize]}]", "used twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.yaml == "" {
				r := alert.DefaultRules()
				err = r.Validate()
			} else {
				_, err = alert.ParseRules([]byte(tt.yaml))
			}
			if tt.errContains == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.errContains)
			}
		})
	}
}

func f(v float64) *float64 { return &v }
func sp(v string) *string  { return &v }

func record(id, url string, cp *string, desc *string, mw, usd *float64) schemas.Contract {
	return schemas.Contract{SchemaVersion: 1, ID: id, Operator: schemas.Operator{Name: "Applied Digital"},
		Counterparty: schemas.Counterparty{Name: cp, Descriptor: desc}, ContractType: schemas.TypeColocation,
		CapacityMW: mw, TotalValueUSD: usd, TermYears: f(15), Terms: []string{}, Source: schemas.Source{URL: url},
		Evidence: []string{"e"}, Confidence: 0.9, ExtractorVersion: "t"}
}

// hook is a webhook receiver that is down until up is set.
type hook struct {
	srv *httptest.Server
	up  atomic.Bool
	mu  sync.Mutex
	got map[string]int
}

func newHook(t *testing.T) *hook {
	h := &hook{got: map[string]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.up.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		var m alert.Message
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil || m.Text == "" {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.got[m.AlertID+" "+m.Kind]++
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) snapshot() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for k, v := range h.got {
		out[k] = v
	}
	return out
}

// open is one "process": the embedded store with the policy and a dispatcher.
func open(t *testing.T, path string, h *hook) (*sqlite.Store, *alert.Dispatcher) {
	t.Helper()
	return openWith(t, path, h, alert.DispatcherConfig{PollInterval: 50 * time.Millisecond, MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
}

// openWith opens the ledger with a dispatcher of cfg's timings delivering to h.
func openWith(t *testing.T, path string, h *hook, cfg alert.DispatcherConfig) (*sqlite.Store, *alert.Dispatcher) {
	t.Helper()
	store, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := alert.NewWebhookSink(alert.WebhookConfig{URL: h.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Outbox, cfg.Sinks = store, []alert.Sink{w}
	d, err := alert.NewDispatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := alert.NewPolicy(alert.DefaultRules(), d.SinkNames())
	if err != nil {
		t.Fatal(err)
	}
	store.SetAlerts(p, d.Notify)
	return store, d
}

// TestBoltAlertsOnceAcrossReplayAndRestart runs the embedded store through an
// undisclosed hyperscaler deal, its repeat by another outlet, the disclosure of
// the customer and an upsize, with the webhook down, then restarts and replays
// everything with the webhook up: each alert arrives once.
func TestBoltAlertsOnceAcrossReplayAndRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	h := newHook(t)
	up := record("deal-up", "https://c.example/up", sp("Microsoft"), nil, f(200), nil)
	up.Event = &schemas.Event{Type: schemas.EventUpsize, AddedMW: f(150)}
	recs := []schemas.Contract{
		record("deal-1", "https://a.example/1", nil, sp("investment-grade hyperscaler"), f(200), f(5e9)),
		record("deal-1", "https://b.example/2", nil, sp("investment-grade hyperscaler"), f(200), f(5e9)),
		record("deal-2", "https://d.example/named", sp("Microsoft"), nil, f(200), f(5e9)),
		up,
	}
	store, disp := open(t, path, h)
	for _, r := range recs { // one record per batch, as they would trickle in
		for _, err := range store.Upsert(ctx, []schemas.Contract{r}) {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	disp.Drain(dctx) // the webhook is down: nothing goes out, nothing is lost
	cancel()
	if n := len(h.snapshot()); n != 0 {
		t.Fatalf("webhook down but got %d", n)
	}
	store.Close()

	h.up.Store(true)
	store, disp = open(t, path, h) // restart
	defer store.Close()
	for _, err := range store.Upsert(ctx, recs) { // replay
		if err != nil {
			t.Fatal(err)
		}
	}
	dctx, cancel = context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := disp.Drain(dctx); err != nil {
		t.Fatal(err)
	}
	got := h.snapshot()
	kinds := map[string]int{}
	for k, n := range got {
		if n != 1 {
			t.Errorf("alert %s delivered %d times", k, n)
		}
		kinds[k[strings.LastIndex(k, " ")+1:]]++
	}
	if kinds["new"] != 1 || kinds["counterparty_disclosed"] != 1 || kinds["upsize"] != 1 || len(got) != 3 {
		t.Errorf("alerts %v; want new, counterparty_disclosed and upsize once each", got)
	}
	n, err := store.Count()
	if err != nil || n != 1 {
		t.Errorf("deals %d (%v), want 1", n, err)
	}
	pending, err := store.PendingAlerts(ctx, nil, 0)
	if err != nil || len(pending) != 0 {
		t.Errorf("still pending: %v %v", pending, err)
	}
}

func TestPolicyThresholdsAndRoles(t *testing.T) {
	p, err := alert.NewPolicy(alert.DefaultRules(), []string{"log"})
	if err != nil {
		t.Fatal(err)
	}
	small := ledger.Deal{Contract: record("deal-s", "u", sp("Microsoft"), nil, f(5), f(5e7))}
	if as := p.Evaluate(nil, &small, time.Now()); len(as) != 0 {
		t.Errorf("a 5 MW / $50M deal alerted: %v", as)
	}
	guaranteed := ledger.Deal{Contract: record("deal-g", "u", sp("Fluidstack"), nil, f(168), nil)}
	guaranteed.Guarantor = &schemas.Party{Name: "Google"}
	as := p.Evaluate(nil, &guaranteed, time.Now())
	if len(as) != 1 || as[0].Key != "new" {
		t.Fatalf("a Google-guaranteed deal: %v", as)
	}
	var m alert.Message
	if err := json.Unmarshal(as[0].Payload, &m); err != nil || !strings.Contains(m.Text, "guaranteed by Google") || m.CapacityMW == nil {
		t.Errorf("message %+v (%v)", m, err)
	}
}

// TestRetryDoesNotWaitForThePoll: a webhook that fails once is tried again when
// its backoff ends, not at the next sweep of the whole outbox (a minute here).
func TestRetryDoesNotWaitForThePoll(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := newHook(t)
	store, d := openWith(t, filepath.Join(t.TempDir(), "ledger.db"), h,
		alert.DispatcherConfig{PollInterval: time.Minute, MinBackoff: 100 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	defer store.Close()
	go d.Run(ctx)
	for _, err := range store.Upsert(ctx, []schemas.Contract{record("deal-r", "https://a.example/r", sp("Microsoft"), nil, f(200), f(5e9))}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond) // the first attempt fails: the hook is down
	if len(h.snapshot()) != 0 {
		t.Fatal("delivered while down")
	}
	h.up.Store(true)
	start := time.Now()
	for len(h.snapshot()) == 0 {
		if ctx.Err() != nil {
			t.Fatal("not retried within 10 s: the retry waited for the next poll")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("delivered %v after the webhook came back", time.Since(start).Round(time.Millisecond))
}
