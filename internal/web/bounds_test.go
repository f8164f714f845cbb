package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/ledger"
)

// TestAPIRefusesHostileQueries: paging past the window by overflow (this
// panicked in the old indexer/bolt_search.go), non-finite numbers and an oversized
// q are 400s answered at once with a JSON error; the server keeps serving.
func TestAPIRefusesHostileQueries(t *testing.T) {
	store, _ := testLedger(t)
	srv := httptest.NewServer(NewHandler(store, nil))
	defer srv.Close()
	for _, tc := range []struct{ name, params, errContains string }{
		{"overflowing limit", "limit=9223372036854775807&from=1", "must not exceed"},
		{"overflowing from", "from=9223372036854775807", "must not exceed"},
		{"NaN", "min-mw=NaN", "min_mw"},
		{"Inf", "max-value=Inf", "max_value"},
		{"1e309", "max-usd-per-mw-year=1e309", "max-usd-per-mw-year"},
		{"50 KB q", "q=" + url.QueryEscape(strings.Repeat("iren ", 10000)), "free text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/api/deals", "/api/aggregations/by-type", "/api/export.csv"} {
				start := time.Now()
				res, body := get(t, srv, path+"?"+tc.params)
				if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.errContains) {
					t.Errorf("%s: %d %.200s; want 400 mentioning %q", path, res.StatusCode, body, tc.errContains)
				}
				if d := time.Since(start); d > time.Second {
					t.Errorf("%s: refused after %s, want < 1s", path, d)
				}
			}
		})
	}
	if res, _ := get(t, srv, "/api/deals?limit=5&from=9995"); res.StatusCode != 200 {
		t.Errorf("the last page of the window: %d", res.StatusCode)
	}
}

// nanLedger answers with a deal JSON cannot encode.
type nanLedger struct{ Ledger }

func (nanLedger) Search(context.Context, ledger.Query) (ledger.Result, error) {
	nan := math.NaN()
	d := ledger.Deal{}
	d.CapacityMW = &nan
	return ledger.Result{Total: 1, Deals: []ledger.Deal{d}}, nil
}

// TestAPIUnencodableAnswerIs500: a value JSON cannot write is a 500 with a
// JSON error, never a 200 with an empty body.
func TestAPIUnencodableAnswerIs500(t *testing.T) {
	srv := httptest.NewServer(NewHandler(nanLedger{}, nil))
	defer srv.Close()
	res, body := get(t, srv, "/api/deals")
	var e apiError
	if res.StatusCode != http.StatusInternalServerError || json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
		t.Errorf("got %d %q; want 500 with a JSON error", res.StatusCode, body)
	}
}

// failingLedger fails the way an unreachable Elasticsearch does.
type failingLedger struct{ Ledger }

func (failingLedger) Search(context.Context, ledger.Query) (ledger.Result, error) {
	return ledger.Result{}, errors.New(`Get "http://elastic:pw-in-url@10.9.8.7:9200/mwledger-contracts/_search": dial tcp 10.9.8.7:9200: connect: connection refused`)
}

// TestStoreErrorsStayInTheLog: a 502 tells the client the ledger could not
// answer without the store's address or credentials; the log keeps the
// address, with the credentials redacted.
func TestStoreErrorsStayInTheLog(t *testing.T) {
	var logged bytes.Buffer
	srv := httptest.NewServer(New(failingLedger{}, Options{Log: slog.New(slog.NewTextHandler(&logged, nil))}))
	defer srv.Close()
	res, body := get(t, srv, "/api/deals")
	if res.StatusCode != http.StatusBadGateway || strings.Contains(body, "10.9.8.7") || strings.Contains(body, "pw-in-url") {
		t.Errorf("502 body %q: leaks the store's address", body)
	}
	if l := logged.String(); !strings.Contains(l, "10.9.8.7") || strings.Contains(l, "pw-in-url") {
		t.Errorf("log %q: want the address, not the password", l)
	}
}
