package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/ledger"
)

func post(t *testing.T, srv *httptest.Server, path, contentType, origin, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// testToken is reviewer ana's token in reviewersForTest.
const testToken = "test-token-of-ana"

func reviewersForTest() *Reviewers {
	r := &Reviewers{}
	r.AddToken("ana", testToken)
	return r
}

func TestReviewThroughTheAPI(t *testing.T) {
	store, _ := testLedger(t)
	srv := httptest.NewServer(New(store, Options{Reviewers: reviewersForTest()}))
	defer srv.Close()

	// The queue is a search filter.
	_, body := get(t, srv, "/api/deals?needs-review=true&limit=500")
	var queue ledger.Result
	if err := json.Unmarshal([]byte(body), &queue); err != nil || queue.Total == 0 {
		t.Fatalf("review queue: %v, %d deals; the sample ledger has low-confidence deals", err, queue.Total)
	}
	for _, d := range queue.Deals {
		if len(d.ReviewReasons) == 0 {
			t.Errorf("deal %s is queued without a reason", d.ID)
		}
	}
	id := queue.Deals[0].ID
	path := "/api/deals/" + id + "/review"

	refused := []struct {
		name, ctype, origin, body string
		status                    int
	}{
		{"a form post", "application/x-www-form-urlencoded", srv.URL, "action=accept", http.StatusUnsupportedMediaType},
		{"another site", "application/json", "https://evil.example", `{"action":"accept"}`, http.StatusForbidden},
		{"no origin", "application/json", "", `{"action":"accept"}`, http.StatusForbidden},
		{"another reviewer's name", "application/json", srv.URL, `{"action":"accept","by":"x"}`, http.StatusForbidden},
		{"unknown action", "application/json", srv.URL, `{"action":"approve"}`, http.StatusBadRequest},
		{"bad value", "application/json", srv.URL, `{"action":"correct","corrections":[{"field":"capacity_mw","value":"lots"}]}`, http.StatusBadRequest},
		{"unknown field", "application/json", srv.URL, `{"action":"correct","corrections":[{"field":"id","value":"y"}]}`, http.StatusBadRequest},
		{"unknown key", "application/json", srv.URL, `{"action":"accept","admin":true}`, http.StatusBadRequest},
		{"not JSON", "application/json", srv.URL, `{"action":`, http.StatusBadRequest},
	}
	for _, tt := range refused {
		if status, body := post(t, srv, path, tt.ctype, tt.origin, tt.body); status != tt.status {
			t.Errorf("%s: status %d (%s), want %d", tt.name, status, body, tt.status)
		}
	}
	if status, _ := post(t, srv, "/api/deals/no-such-deal/review", "application/json", srv.URL, `{"action":"accept"}`); status != http.StatusNotFound {
		t.Errorf("missing deal: status %d, want 404", status)
	}
	if d, _ := store.Get(t.Context(), id); d.Review != nil {
		t.Fatal("a refused request changed the deal")
	}

	// A correction from the page's own origin: names canonicalised, flag added.
	status, body := post(t, srv, path, "application/json", srv.URL,
		`{"action":"correct","by":"ana","note":"per the filing","corrections":[{"field":"counterparty","value":"microsoft"},{"field":"capacity_mw","value":"123"}]}`)
	if status != http.StatusOK {
		t.Fatalf("correct: %d %s", status, body)
	}
	var d ledger.Deal
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	if d.Counterparty.Name == nil || *d.Counterparty.Name != "Microsoft" || !d.Counterparty.Hyperscaler || *d.CapacityMW != 123 {
		t.Errorf("corrected deal: counterparty %+v, MW %v", d.Counterparty, *d.CapacityMW)
	}
	if d.Review == nil || d.Review.By != "ana" || d.Review.Note != "per the filing" || len(d.ReviewReasons) != 0 {
		t.Errorf("review %+v, reasons %v", d.Review, d.ReviewReasons)
	}
	_, body = get(t, srv, "/api/deals?needs-review=true&limit=500")
	var after ledger.Result
	if err := json.Unmarshal([]byte(body), &after); err != nil || after.Total != queue.Total-1 {
		t.Errorf("queue after the review: %d deals, want %d", after.Total, queue.Total-1)
	}
	// The CSV export says who reviewed.
	_, csvBody := get(t, srv, "/api/export.csv?operator="+url.QueryEscape(d.Operator.Name))
	if !strings.Contains(csvBody, ",corrected,ana,") {
		t.Errorf("the export does not show the review:\n%s", csvBody)
	}
}
