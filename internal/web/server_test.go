package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"github.com/mwledger/mwledger/internal/testkit"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/ledger/sqlite"
	"github.com/mwledger/mwledger/schemas"
)

const (
	scriptTag = `<script>alert(1)</script>`
	attrBreak = `"><img src=x onerror=alert(1)>`
)

// testLedger is a bbolt ledger of generated deals plus one whose article
// carries script tags and attribute breakers in its title, evidence and names.
func testLedger(t *testing.T) (*sqlite.Store, string) {
	t.Helper()
	b, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	recs := testkit.SampleContracts("web", 80, 5)
	evil := recs[0]
	evil.ID = "web-evil"
	evil.Operator = schemas.Operator{Name: "Evil " + attrBreak}
	evil.Counterparty = schemas.Counterparty{Name: ptr(scriptTag), Hyperscaler: true}
	evil.Source = schemas.Source{URL: "javascript:alert(1)", Title: ptr("Deal " + scriptTag), Outlet: ptr(attrBreak)}
	evil.Evidence = []string{"Signed " + attrBreak + " and " + scriptTag}
	evil.Location = ptr(attrBreak)
	evil.Warnings = []string{scriptTag}
	recs = append(recs, evil)
	for _, err := range b.Upsert(context.Background(), recs) {
		if err != nil {
			t.Fatal(err)
		}
	}
	res, err := b.Search(context.Background(), ledger.Query{Text: "evil"})
	if err != nil || res.Total != 1 {
		t.Fatalf("evil deal: %v %d", err, res.Total)
	}
	return b, res.Deals[0].ID
}

func get(t *testing.T, srv *httptest.Server, path string) (*http.Response, string) {
	t.Helper()
	res, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func TestAPIAnswersAsTheStore(t *testing.T) {
	store, _ := testLedger(t)
	srv := httptest.NewServer(NewHandler(store, nil))
	defer srv.Close()
	ctx := context.Background()
	tests := []struct {
		name   string
		params string
		status int
	}{
		{"everything", "", 200},
		{"filters", "type=colocation&hyperscaler=true&sort=mw&order=asc", 200},
		{"ranges and dates", "min-mw=50&max-mw=800&min-value=1&since=2025-01&until=2026-06-30&limit=10&from=2", 200},
		{"text and location", "q=texas&location=Texas&operator=IREN", 200},
		{"bad number", "min-mw=lots", 400},
		{"bad type", "type=barn", 400},
		{"unknown parameter", "colour=red", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := get(t, srv, "/api/deals?"+tt.params)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.status, body)
			}
			if tt.status != 200 {
				return
			}
			v, _ := url.ParseQuery(tt.params)
			q, err := QueryFromValues(v)
			if err != nil {
				t.Fatal(err)
			}
			want, err := store.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			var got ledger.Result
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			wj, _ := json.Marshal(want)
			gj, _ := json.Marshal(got)
			if string(wj) != string(gj) {
				t.Errorf("API and store differ (%d vs %d deals)", got.Total, want.Total)
			}
		})
	}
	t.Run("one deal", func(t *testing.T) {
		all, _ := store.Search(ctx, ledger.Query{Size: 1})
		id := all.Deals[0].ID
		_, body := get(t, srv, "/api/deals/"+url.PathEscape(id))
		var got ledger.Deal
		if err := json.Unmarshal([]byte(body), &got); err != nil || got.ID != id {
			t.Fatalf("deal %s: %v %s", id, err, body)
		}
		if res, _ := get(t, srv, "/api/deals/nope"); res.StatusCode != 404 {
			t.Errorf("missing deal: status %d", res.StatusCode)
		}
	})
	for _, name := range ledger.Aggregations {
		t.Run("aggregation "+name, func(t *testing.T) {
			want, err := ledger.AggregateStore(ctx, store, name, ledger.Query{HyperscalerOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			_, body := get(t, srv, "/api/aggregations/"+name+"?hyperscaler=true")
			var got ledger.AggResult
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(want, got) {
				t.Errorf("API %+v\nstore %+v", got, want)
			}
		})
	}
	t.Run("export", func(t *testing.T) {
		res, body := get(t, srv, "/api/export.csv?type=bare_metal")
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("content type %q", ct)
		}
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		store.Scan(ctx, ledger.Query{ContractType: "bare_metal"}, func(ledger.Deal) error { n++; return nil })
		if len(rows)-1 != n || n == 0 {
			t.Errorf("%d rows, want %d", len(rows)-1, n)
		}
		_, body = get(t, srv, "/api/export.json?type=bare_metal")
		var all ledger.Result
		if err := json.Unmarshal([]byte(body), &all); err != nil || all.Total != n || len(all.Deals) != n {
			t.Errorf("export.json: %v, %d deals, want %d", err, all.Total, n)
		}
	})
}

// TestHostileArticleTextIsNeverMarkup: script tags and attribute breakers from
// an article never reach a response as markup.
func TestHostileArticleTextIsNeverMarkup(t *testing.T) {
	store, evilID := testLedger(t)
	srv := httptest.NewServer(NewHandler(store, nil))
	defer srv.Close()
	for _, path := range []string{"/", "/static/index.html", "/static/app.js", "/api/deals?q=evil", "/api/deals/" + url.PathEscape(evilID),
		"/api/aggregations/by-counterparty", "/api/aggregations/tiers", "/api/deals?operator=" + url.QueryEscape("Evil "+attrBreak)} {
		res, body := get(t, srv, path)
		if res.StatusCode != 200 {
			t.Fatalf("%s: status %d", path, res.StatusCode)
		}
		for _, bad := range []string{scriptTag, attrBreak, "<script>alert", "<img"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s serves %q unescaped", path, bad)
			}
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
		if strings.HasPrefix(path, "/api/deals?q") && !strings.Contains(body, `\u003cscript\u003e`) {
			t.Errorf("%s: the hostile text should be present, JSON-escaped", path)
		}
	}
	// The CSV carries the text as data: served as an attachment, never rendered.
	res, _ := get(t, srv, "/api/export.csv?q=evil")
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		t.Errorf("export disposition %q", cd)
	}
	// The page never turns data into markup.
	js, err := staticFiles.ReadFile("static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, sink := range []string{".innerHTML", ".outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
		if strings.Contains(string(js), sink) {
			t.Errorf("app.js uses %s", sink)
		}
	}
	html, _ := staticFiles.ReadFile("static/index.html")
	if strings.Contains(string(html), "<script>") || strings.Contains(string(html), "style=") || strings.Contains(string(html), "onclick=") {
		t.Error("index.html has inline script or style")
	}
}

func TestCSVRowEscapesFormulas(t *testing.T) {
	d := ledger.Deal{Contract: schemas.Contract{ID: "x", Operator: schemas.Operator{Name: "=HYPERLINK(\"http://evil\")"}}}
	row := CSVRow(d)
	if row[1] != `'=HYPERLINK("http://evil")` {
		t.Errorf("operator cell %q", row[1])
	}
}

func ptr(s string) *string { return &s }
