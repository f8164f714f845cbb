package cli

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/internal/metrics"
	"github.com/mwledger/mwledger/internal/web"
)

// TestServeMetrics runs `mwledger serve --metrics-addr 127.0.0.1:0`, answers a
// few requests and scrapes the metrics: requests by route pattern (never the
// raw path) and status, latency, and the Go runtime collectors.
func TestServeMetrics(t *testing.T) {
	ledger := sampleLedger(t, 5)
	tokens := filepath.Join(t.TempDir(), "tokens")
	if _, err := web.AddTokenToFile(tokens, "ana"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out, logs syncBuffer
	go func() {
		done <- Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--store", "embedded", "--ledger", ledger, "--tokens", tokens},
			strings.NewReader(""), &out, &logs)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	baseRe := regexp.MustCompile(`mwledger serve: (http://127\.0\.0\.1:\d+)/`)
	metricsRe := regexp.MustCompile(`msg="serving metrics" url=(http://127\.0\.0\.1:\d+/metrics)`)
	var base, murl string
	for i := 0; i < 200 && (base == "" || murl == ""); i++ {
		if m := baseRe.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
		if m := metricsRe.FindStringSubmatch(logs.String()); m != nil {
			murl = m[1]
		}
		time.Sleep(25 * time.Millisecond)
	}
	if base == "" || murl == "" {
		t.Fatalf("serve did not start (page %q, metrics %q):\n%s", base, murl, logs.String())
	}
	get := func(path string) {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	for range 3 {
		get("/api/deals?limit=1")
	}
	get("/api/deals/no-such-deal")
	get("/api/deals/another-missing-deal")
	get("/nothing-here")
	s, err := metrics.ScrapeURL(context.Background(), murl)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"mwledger_http_requests_total", []string{"route", "GET /api/deals", "code", "200"}, 3},
		{"mwledger_http_requests_total", []string{"route", "GET /api/deals/{id}", "code", "404"}, 2},
		{"mwledger_http_requests_total", []string{"route", "other", "code", "404"}, 1},
		{"mwledger_http_request_duration_seconds", []string{"route", "GET /api/deals"}, 3},
	} {
		if got := s.Value(tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	if !s.Has("go_goroutines") || !s.Has("process_resident_memory_bytes") {
		t.Error("no Go runtime or process collector")
	}
}
