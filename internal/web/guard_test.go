package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/ledger"
)

// do sends a request to srv with the given Host and headers (loopback only:
// the connection always goes to srv's listener).
func do(t *testing.T, srv *httptest.Server, method, path, host string, hdr map[string]string, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range hdr {
		if k == "Origin" && v == "<empty>" {
			req.Header["Origin"] = []string{""}
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

// TestReviewsNeedAReviewer: without credentials, with a wrong token or another
// reviewer's name in the body, a review is refused and the deal unchanged;
// with the token the review is recorded under the token's reviewer, whatever
// the form said before; basic auth works the same way; a server without
// credentials takes no reviews at all.
func TestReviewsNeedAReviewer(t *testing.T) {
	store, _ := testLedger(t)
	r := reviewersForTest()
	r.AddBasic("ben", "a long enough password")
	srv := httptest.NewServer(New(store, Options{Reviewers: r}))
	defer srv.Close()
	res, err := store.Search(t.Context(), ledger.Query{NeedsReview: true, Size: 1})
	if err != nil || len(res.Deals) == 0 {
		t.Fatal(err)
	}
	id := res.Deals[0].ID
	path := "/api/deals/" + id + "/review"
	accept := `{"action":"accept","note":"n"}`
	base := map[string]string{"Content-Type": "application/json", "Origin": srv.URL}
	with := func(k, v string) map[string]string {
		h := map[string]string{}
		for a, b := range base {
			h[a] = b
		}
		h[k] = v
		return h
	}
	for _, tc := range []struct {
		name   string
		hdr    map[string]string
		body   string
		status int
	}{
		{"no credentials", base, accept, http.StatusUnauthorized},
		{"wrong token", with("Authorization", "Bearer not-the-token"), accept, http.StatusUnauthorized},
		{"token as basic password", with("Authorization", "Basic YW5hOnRlc3QtdG9rZW4tb2YtYW5h"), accept, http.StatusUnauthorized},
		{"wrong password", with("Authorization", "Basic YmVuOndyb25n"), accept, http.StatusUnauthorized},
		{"claims another name", with("Authorization", "Bearer "+testToken), `{"action":"accept","by":"mallory"}`, http.StatusForbidden},
	} {
		status, body, h := do(t, srv, http.MethodPost, path, "", tc.hdr, tc.body)
		if status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, status, body, tc.status)
		}
		if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", tc.name)
		}
	}
	if d, _ := store.Get(t.Context(), id); d.Review != nil {
		t.Fatalf("a refused review changed the deal: %+v", d.Review)
	}
	for _, tc := range []struct{ auth, who string }{
		{"Bearer " + testToken, "ana"},
		{"Basic YmVuOmEgbG9uZyBlbm91Z2ggcGFzc3dvcmQ=", "ben"}, // ben:a long enough password
	} {
		status, body, _ := do(t, srv, http.MethodPost, path, "", with("Authorization", tc.auth), accept)
		var d ledger.Deal
		if status != http.StatusOK || json.Unmarshal([]byte(body), &d) != nil || d.Review == nil || d.Review.By != tc.who {
			t.Errorf("%s: %d %.200s; want the review recorded by %s", tc.who, status, body, tc.who)
		}
	}

	ro := httptest.NewServer(NewHandler(store, nil))
	defer ro.Close()
	if status, body, _ := do(t, ro, http.MethodPost, path, "", map[string]string{"Content-Type": "application/json", "Origin": ro.URL, "Authorization": "Bearer " + testToken}, accept); status != http.StatusForbidden {
		t.Errorf("a server without credentials: %d %s, want 403", status, body)
	}
}

// TestWritesComeFromOurPage: a write needs an Origin that is exactly the
// server's own (scheme and Host), or Sec-Fetch-Site: same-origin; no Origin,
// an empty or "null" one, an https:// Origin for an http server, and a
// cross-site Sec-Fetch-Site are refused, credentials or not.
func TestWritesComeFromOurPage(t *testing.T) {
	store, _ := testLedger(t)
	srv := httptest.NewServer(New(store, Options{Reviewers: reviewersForTest()}))
	defer srv.Close()
	res, _ := store.Search(t.Context(), ledger.Query{Size: 1})
	path := "/api/deals/" + res.Deals[0].ID + "/review"
	httpsSelf := "https://" + strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct {
		name, origin, sfs string
		status            int
	}{
		{"neither", "", "", http.StatusForbidden},
		{"empty Origin", "<empty>", "", http.StatusForbidden},
		{"null Origin", "null", "", http.StatusForbidden},
		{"https Origin for the http server", httpsSelf, "", http.StatusForbidden},
		{"another site", "http://evil.example", "", http.StatusForbidden},
		{"cross-site fetch with our Origin", srv.URL, "cross-site", http.StatusForbidden},
		{"same-site fetch", srv.URL, "same-site", http.StatusForbidden},
		{"our Origin", srv.URL, "", http.StatusOK},
		{"same-origin fetch without Origin", "", "same-origin", http.StatusOK},
	} {
		hdr := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + testToken}
		if tc.origin != "" {
			hdr["Origin"] = tc.origin
		}
		if tc.sfs != "" {
			hdr["Sec-Fetch-Site"] = tc.sfs
		}
		if status, body, _ := do(t, srv, http.MethodPost, path, "", hdr, `{"action":"accept"}`); status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, status, body, tc.status)
		}
	}
}

// TestDNSRebinding: a page on a rebinding name reaches the loopback port with
// its own name in Host (and in Origin, which then matches Host): every
// request, read or write, is refused with 421 unless the name is allowed.
func TestDNSRebinding(t *testing.T) {
	store, _ := testLedger(t)
	srv := httptest.NewServer(New(store, Options{Reviewers: reviewersForTest(), Hosts: []string{"ledger.internal"}}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	res, _ := store.Search(t.Context(), ledger.Query{Size: 1})
	id := res.Deals[0].ID
	evil := "rebind.attacker.example" + port
	for _, path := range []string{"/", "/api/deals", "/api/export.csv", "/api/deals/" + id} {
		if status, body, _ := do(t, srv, http.MethodGet, path, evil, nil, ""); status != http.StatusMisdirectedRequest || strings.Contains(body, id) {
			t.Errorf("GET %s as %s: %d %.100s, want 421 and no data", path, evil, status, body)
		}
	}
	hdr := map[string]string{"Content-Type": "application/json", "Origin": "http://" + evil, "Authorization": "Bearer " + testToken}
	if status, _, _ := do(t, srv, http.MethodPost, "/api/deals/"+id+"/review", evil, hdr, `{"action":"accept"}`); status != http.StatusMisdirectedRequest {
		t.Errorf("POST as %s: %d, want 421", evil, status)
	}
	if d, _ := store.Get(t.Context(), id); d.Review != nil {
		t.Fatal("the rebinding page wrote a review")
	}
	for _, host := range []string{"127.0.0.1" + port, "localhost" + port, "[::1]" + port, "ledger.internal" + port, "LEDGER.internal"} {
		if status, _, _ := do(t, srv, http.MethodGet, "/api/deals?limit=1", host, nil, ""); status != http.StatusOK {
			t.Errorf("GET as allowed host %s: %d", host, status)
		}
	}
}

// TestTokenFile: tokens are stored as digests in a file only its owner can
// read; a token file that is a symlink or readable by others is refused.
func TestTokenFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens")
	tok, err := AddTokenToFile(path, "ana")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	st, _ := os.Stat(path)
	if strings.Contains(string(b), tok) || st.Mode().Perm() != 0o600 {
		t.Errorf("token file %q mode %v: want only a digest, mode 0600", b, st.Mode().Perm())
	}
	var r Reviewers
	if err := LoadTokens(path, &r); err != nil {
		t.Fatal(err)
	}
	if who, ok := r.Identify(&http.Request{Header: http.Header{"Authorization": {"Bearer " + tok}}}); !ok || who != "ana" {
		t.Errorf("Identify = %q %v", who, ok)
	}
	link := filepath.Join(dir, "link")
	os.Symlink(path, link)
	if err := LoadTokens(link, &Reviewers{}); err == nil {
		t.Error("a symlinked token file was read")
	}
	target := filepath.Join(dir, "elsewhere")
	os.Symlink(target, filepath.Join(dir, "dangling"))
	if _, err := AddTokenToFile(filepath.Join(dir, "dangling"), "ben"); err == nil {
		t.Error("AddTokenToFile followed a dangling symlink")
	}
	if _, err := os.Lstat(target); err == nil {
		t.Error("the symlink's target was created")
	}
	os.Chmod(path, 0o644)
	if err := LoadTokens(path, &Reviewers{}); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Errorf("a world-readable token file: %v", err)
	}
}
