package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestRunSourcesKeepsCrawlState: `mwledger run --sources` twice over a local
// site publishes its articles once; the second run fetches them with
// conditional GETs.
func TestRunSourcesKeepsCrawlState(t *testing.T) {
	var mu sync.Mutex
	conditional := 0
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "User-agent: *\nAllow: /\n") })
	mux.HandleFunc("/feed.xml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss><channel><item><link>%[1]s/a/one</link></item><item><link>%[1]s/a/two</link></item></channel></rss>`, srv.URL)
	})
	mux.HandleFunc("/a/", func(w http.ResponseWriter, r *http.Request) {
		etag := `"` + r.URL.Path + `-v1"`
		if r.Header.Get("If-None-Match") == etag {
			mu.Lock()
			conditional++
			mu.Unlock()
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<html><head><title>%s</title></head><body><article><p>%s</p></article></body></html>", r.URL.Path,
			strings.Repeat("Cipher Mining signed a ten-year lease with a hyperscaler for 200 MW at its Barber Lake site in Texas. ", 3))
	})
	srv = httptest.NewServer(mux)
	defer srv.Close()
	dir := t.TempDir()
	sources := filepath.Join(dir, "sources.yaml")
	os.WriteFile(sources, []byte("sources:\n  - name: local\n    feeds: [\""+srv.URL+"/feed.xml\"]\n    allow_private: true\n    delay: 1ms\n"), 0o644)
	ledger := filepath.Join(dir, "ledger.db")
	run := func() string {
		var out, errb bytes.Buffer
		if err := Run(context.Background(), []string{"run", "--sources", sources, "--ledger", ledger}, strings.NewReader(""), &out, &errb); err != nil {
			t.Fatalf("%v\n%s", err, errb.String())
		}
		return errb.String()
	}
	if first := run(); !strings.Contains(first, "published 2 article(s)") {
		t.Fatalf("first run:\n%s", first)
	}
	if second := run(); !strings.Contains(second, "published 0 article(s)") {
		t.Errorf("second run:\n%s", second)
	}
	if conditional != 2 {
		t.Errorf("%d conditional GETs answered 304 in the second run, want 2", conditional)
	}
	if _, err := os.Stat(ledger + ".crawl-state.db"); err != nil {
		t.Errorf("no crawl state beside the ledger: %v", err)
	}
}
