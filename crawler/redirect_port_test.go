package crawler

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mwledger/mwledger/stream"
)

// TestRedirectToAnotherPortRefused: allowed domains are host names, so a site
// could redirect (or link) the crawler to the same host on another port, where
// an "internal admin page" was published as an article. A page redirect, a
// feed link and a robots.txt redirect to another port are refused and
// counted; the other port never sees a request.
func TestRedirectToAnotherPortRefused(t *testing.T) {
	var adminHits atomic.Int64
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		adminHits.Add(1)
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, articleHTML("internal-admin"))
	}))
	defer admin.Close()
	adminURL := admin.URL // the same host (127.0.0.1), another port

	mux := http.NewServeMux()
	var site *httptest.Server
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "User-agent: *\nAllow: /\n") })
	mux.HandleFunc("/feed.xml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss><channel>
<item><link>%[1]s/a/ok</link></item>
<item><link>%[1]s/a/jump</link></item>
<item><link>%[2]s/admin/linked</link></item>
</channel></rss>`, site.URL, adminURL)
	})
	mux.HandleFunc("/a/jump", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, adminURL+"/admin/redirected", http.StatusFound)
	})
	mux.HandleFunc("/a/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, strings.Replace(articleHTML("ok"), `href="https://news.example/ok"`, `href="`+site.URL+`/a/ok"`, 1))
	})
	site = httptest.NewServer(mux)
	defer site.Close()

	mem := stream.NewMemory()
	c := New(Config{}, mem, nil)
	src := Source{Name: "ports", AllowPrivate: true, Delay: Duration{time.Millisecond}, Feeds: []string{site.URL + "/feed.xml"}}
	if err := c.Crawl(context.Background(), []Source{src}); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.Failed["redirect_port"] != 1 || st.Failed["forbidden_port"] != 1 {
		t.Errorf("failed %v; want redirect_port 1 and forbidden_port 1", st.Failed)
	}
	got := published(t, mem)
	if _, ok := got[site.URL+"/a/ok"]; !ok || len(got) != 1 {
		t.Errorf("published %v; want only the article on the site's own port", keys(got))
	}
	if n := adminHits.Load(); n != 0 {
		t.Errorf("the other port got %d request(s)", n)
	}

	// robots.txt redirected to another port: refused, the page not fetched.
	robotsJump := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.Redirect(w, r, adminURL+"/robots.txt", http.StatusFound)
			return
		}
		fmt.Fprint(w, articleHTML("x"))
	}))
	defer robotsJump.Close()
	c2 := New(Config{}, stream.NewMemory(), nil)
	c2.Crawl(context.Background(), []Source{{Name: "robots", AllowPrivate: true, URLs: []string{robotsJump.URL + "/a/x"}}})
	if st := c2.Stats(); st.Failed["redirect_port"] != 1 || st.Fetched != 0 {
		t.Errorf("robots.txt redirect: stats %+v; want redirect_port 1, nothing fetched", st)
	}
	if n := adminHits.Load(); n != 0 {
		t.Errorf("the other port got %d request(s)", n)
	}
}
