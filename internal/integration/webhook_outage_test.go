package integration

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mwledger/mwledger/alert"
	"github.com/mwledger/mwledger/indexer"
	"github.com/mwledger/mwledger/internal/app"
	"github.com/mwledger/mwledger/ledger/es"
	"github.com/mwledger/mwledger/stream/kafka"
)

// outageReceiver is a loopback webhook receiver whose port is held from the
// start: first bound without listening (connections are refused), then
// listening but answering 503, then up (2xx). Up, it counts the alerts it
// accepted by Idempotency-Key.
type outageReceiver struct {
	url  string
	fd   int
	srv  *http.Server
	up   atomic.Bool
	n503 atomic.Int64

	mu    sync.Mutex
	got   map[string]int
	first map[string]time.Time
	bad   []string
}

// newOutageReceiver binds a loopback port without listening on it.
func newOutageReceiver(t *testing.T) *outageReceiver {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	r := &outageReceiver{fd: fd, got: map[string]int{}, first: map[string]time.Time{},
		url: "http://127.0.0.1:" + strconv.Itoa(sa.(*syscall.SockaddrInet4).Port) + "/hook"}
	t.Cleanup(func() {
		if r.srv != nil {
			r.srv.Close()
		} else {
			syscall.Close(r.fd)
		}
	})
	return r
}

// listen starts accepting connections on the held port, answering 503 until setUp.
func (r *outageReceiver) listen(t *testing.T) {
	t.Helper()
	if err := syscall.Listen(r.fd, 128); err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(r.fd), "webhook-receiver")
	ln, err := net.FileListener(f) // a duplicate of the descriptor
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 5 * time.Second}
	go r.srv.Serve(ln)
}

func (r *outageReceiver) serve(w http.ResponseWriter, req *http.Request) {
	if !r.up.Load() {
		r.n503.Add(1)
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	key := req.Header.Get("Idempotency-Key")
	var m alert.Message
	b, _ := io.ReadAll(req.Body)
	if err := json.Unmarshal(b, &m); err != nil || m.Text == "" || key == "" || m.AlertID != key {
		r.mu.Lock()
		r.bad = append(r.bad, key)
		r.mu.Unlock()
		http.Error(w, "bad alert", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.got[key]++
	if _, ok := r.first[key]; !ok {
		r.first[key] = time.Now()
	}
	r.mu.Unlock()
}

func (r *outageReceiver) snapshot() (got map[string]int, first map[string]time.Time, bad []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	got, first = map[string]int{}, map[string]time.Time{}
	for k, v := range r.got {
		got[k] = v
	}
	for k, v := range r.first {
		first[k] = v
	}
	return got, first, append([]string(nil), r.bad...)
}

// lineCounter counts log lines that contain all of the given words, and keeps
// the first of them.
type lineCounter struct {
	words []string
	mu    sync.Mutex
	n     int
	first string
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, line := range strings.Split(string(p), "\n") {
		match := line != ""
		for _, w := range c.words {
			match = match && strings.Contains(line, w)
		}
		if match {
			c.n++
			if c.first == "" {
				c.first = line
			}
		}
	}
	return len(p), nil
}

// TestWebhookDownForAMinute: the webhook receiver is unreachable for 60 s (30 s
// refusing connections, then 30 s answering 503; with -short 24 s, 12 s each)
// while hyperscaler deals are indexed in three waves; the indexer goes on, the Kafka sink delivers at once,
// and the webhook alerts wait in the outbox. When the receiver comes back every
// alert reaches it exactly once (counted by Idempotency-Key), within one capped
// dispatcher backoff. The dispatcher runs with the defaults `mwledger index`
// uses (poll interval, backoff bounds, webhook timeout).
func TestWebhookDownForAMinute(t *testing.T) {
	isolated(t)
	const waves, perWave = 3, 10
	outage := sized(t, "outage", 60*time.Second, 24*time.Second)
	refuseFor := outage / 2
	// The waves start at 0 s, 25 s and 50 s (-short: 0, 7 and 14 s), the last
	// 7 s before the check that every deal waits for the webhook.
	waveEvery := (outage - 10*time.Second) / (waves - 1)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e := newLedgerEnv(t, ctx)
	failed := &lineCounter{words: []string{"alert delivery failed", "sink=webhook"}}
	log := slog.New(slog.NewTextHandler(failed, &slog.HandlerOptions{Level: slog.LevelWarn}))
	recv := newOutageReceiver(t)

	store, err := es.New(es.Config{Addresses: []string{e.es}, Alias: e.alias, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureIndex(ctx); err != nil {
		t.Fatal(err)
	}
	hook, err := alert.NewWebhookSink(alert.WebhookConfig{URL: recv.url})
	if err != nil {
		t.Fatal(err)
	}
	// As internal/cli (alertFlags.setup) builds it: the log, Kafka and the webhook, default timings.
	disp, err := alert.NewDispatcher(alert.DispatcherConfig{Outbox: store, Log: log,
		Sinks: []alert.Sink{alert.LogSink{Log: log}, alert.KafkaSink{Pub: e.pub, Topic: e.alerts}, hook}})
	if err != nil {
		t.Fatal(err)
	}
	policy, err := alert.NewPolicy(alert.DefaultRules(), disp.SinkNames())
	if err != nil {
		t.Fatal(err)
	}
	in, err := kafka.NewConsumer(e.kcfg, e.topic+"-outage", e.topic)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	rctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	var stageErr error
	go func() {
		defer wg.Done()
		_, stageErr = app.Indexer{Store: store, Policy: policy, Dispatcher: disp, Stage: indexer.StageConfig{Log: log}}.Run(rctx, in, e.pub)
	}()
	defer func() { stop(); wg.Wait() }()

	recs := synthetic(runID("hookdown"), waves*perWave)
	want := map[string]bool{}
	dealIDs := make([]string, len(recs))
	for i, c := range recs {
		want[c.ID+"/new"] = true
		dealIDs[i] = c.ID
	}
	start := time.Now()
	at := func(d time.Duration) {
		if rest := time.Until(start.Add(d)); rest > 0 {
			if err := sleepCtx(ctx, rest); err != nil {
				t.Fatal(err)
			}
		}
	}
	for w := range waves {
		at(time.Duration(w) * waveEvery)
		e.publish(t, ctx, recs[w*perWave:(w+1)*perWave]...)
		if w == 1 {
			at(refuseFor)
			recv.listen(t) // from now on: 503
		}
	}

	// Before the receiver comes back: every deal is indexed with its alert,
	// which the Kafka sink delivered and the webhook still waits for. Checked
	// from 3 s before the planned end of the outage; on a busy machine the
	// last wave's alerts may take longer to reach Kafka, and the outage then
	// lasts until they have (at most a minute longer).
	at(outage - 3*time.Second)
	waiting, kafkaDone := 0, 0
	for {
		pend, err := store.PendingAlerts(ctx, dealIDs, 0)
		if err != nil {
			t.Fatal(err)
		}
		waiting, kafkaDone = 0, 0
		for _, p := range pend {
			if contains(p.Alert.Pending, "webhook") {
				waiting++
			}
			if !contains(p.Alert.Pending, "kafka") {
				kafkaDone++
			}
		}
		if waiting == len(recs) && kafkaDone == len(recs) || time.Since(start) > outage+time.Minute {
			break
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if got, _, _ := recv.snapshot(); len(got) != 0 {
		t.Fatalf("the receiver was down but accepted %d alerts", len(got))
	}
	if waiting != len(recs) || kafkaDone != len(recs) {
		t.Fatalf("before the receiver came back: %d of %d alerts wait for the webhook, %d were delivered to Kafka; want all", waiting, len(recs), kafkaDone)
	}

	at(outage)
	recv.up.Store(true)
	upAt := time.Now()
	t.Logf("receiver up again %s after the first wave", upAt.Sub(start).Round(time.Millisecond))
	if !waitFor(ctx, 20*time.Millisecond, func() bool {
		got, _, _ := recv.snapshot()
		return len(got) >= len(want) || time.Since(upAt) > 45*time.Second
	}) {
		t.Fatal(ctx.Err())
	}
	got, first, _ := recv.snapshot()
	if len(got) < len(want) {
		t.Fatalf("45 s after the receiver came back it has %d of %d alerts (%d webhook delivery failures logged; first: %s)", len(got), len(want), failed.n, failed.first)
	}
	var firstAt, lastAt time.Time
	for _, ts := range first {
		if firstAt.IsZero() || ts.Before(firstAt) {
			firstAt = ts
		}
		if ts.After(lastAt) {
			lastAt = ts
		}
	}
	// Two more sweeps: nothing may come twice.
	if err := sleepCtx(ctx, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	got, _, bad := recv.snapshot()
	for id := range want {
		if got[id] != 1 {
			t.Errorf("alert %s received %d times, want 1", id, got[id])
		}
	}
	for id, n := range got {
		if !want[id] {
			t.Errorf("unexpected alert %s (%d times)", id, n)
		}
	}
	if len(bad) > 0 {
		t.Errorf("%d posts without a matching Idempotency-Key and alert id: %q", len(bad), bad)
	}
	if pend, err := store.PendingAlerts(ctx, dealIDs, 0); err != nil {
		t.Fatal(err)
	} else if len(pend) != 0 {
		t.Errorf("%d alerts still pending after delivery: %+v", len(pend), pend[0].Alert.Pending)
	}
	delay := lastAt.Sub(upAt)
	// The receiver's return is noticed at the next retry: at most the capped
	// backoff after the last failure, plus a poll interval (and 5 s of slack
	// for a loaded machine). How long the 30 deliveries then take depends on
	// the machine's load, so it is reported, not bounded.
	if bound, first := alert.DefaultMaxBackoff+alert.DefaultPollInterval+5*time.Second, firstAt.Sub(upAt); first > bound {
		t.Errorf("first alert delivered %s after the receiver came back; want within %s (backoff cap %s + poll %s + 5 s)",
			first.Round(time.Millisecond), bound, alert.DefaultMaxBackoff, alert.DefaultPollInterval)
	}
	stop()
	wg.Wait()
	if stageErr != nil && !errors.Is(stageErr, context.Canceled) {
		t.Errorf("indexer stage: %v", stageErr)
	}
	t.Logf("webhook down %s (%s refusing connections, then 503 ×%d); %d webhook delivery failures logged; %d alerts, each received once; receiver up → first delivery %s, → last delivery %s; test took %s",
		outage, refuseFor, recv.n503.Load(), failed.n, len(want), firstAt.Sub(upAt).Round(time.Millisecond),
		delay.Round(time.Millisecond), time.Since(start).Round(time.Second))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
