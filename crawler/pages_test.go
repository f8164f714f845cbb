package crawler

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mwledger/mwledger/stream"
)

// missedSite serves the pages a crawler used to miss: a page that only
// refreshes to the article, a story over three pages, a short brief, and
// rel=canonical values that are relative or unquoted.
func missedSite(t *testing.T) (*httptest.Server, *[]string) {
	var (
		srv  *httptest.Server
		mu   sync.Mutex
		hits []string
	)
	page := func(head, body string) string {
		return "<html><head><title>t</title>" + head + "</head><body><nav>Home | Markets | Energy</nav><article>" + body + "</article><footer>Example outlet</footer></body></html>"
	}
	long := func(s string) string { return "<p>" + strings.Repeat(s+" ", 6) + "</p>" }
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "User-agent: *\nAllow: /\n") })
	mux.HandleFunc("/feed.xml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0"?><rss><channel>`)
		for _, p := range []string{"moved", "split", "brief", "relcanon", "unquoted", "refresh-away"} {
			fmt.Fprintf(w, "<item><link>%s/a/%s</link></item>", srv.URL, p)
		}
		fmt.Fprint(w, `</channel></rss>`)
	})
	mux.HandleFunc("/a/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits = append(hits, r.URL.RequestURI())
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		name := strings.TrimPrefix(r.URL.Path, "/a/")
		switch {
		case name == "moved":
			fmt.Fprint(w, `<html><head><meta http-equiv="refresh" content="0; url=/a/target"></head><body>Redirecting…</body></html>`)
		case name == "refresh-away":
			fmt.Fprint(w, `<html><head><meta http-equiv=refresh content="1;URL='http://169.254.169.254/latest/meta-data/'"></head><body></body></html>`)
		case name == "target":
			fmt.Fprint(w, page("", long("Keel Infrastructure agreed a lease with a hyperscaler for 90 MW at its Sharon campus.")))
		case name == "split" && r.URL.Query().Get("page") == "":
			fmt.Fprint(w, page(`<link rel="next" href="/a/split?page=2">`,
				long("Soluna signed a colocation contract with an AI cloud provider for 120 MW at its Texas site.")+`<a rel="next" href="/a/split?page=2">Page 2</a>`))
		case name == "split" && r.URL.Query().Get("page") == "2":
			fmt.Fprint(w, page(`<link rel="prev" href="/a/split"><link rel="next" href="/a/split?page=3">`,
				"<p>The contract runs for ten years and is worth 1.8 billion dollars over its term.</p>"))
		case name == "split" && r.URL.Query().Get("page") == "3":
			fmt.Fprint(w, page(`<link rel="prev" href="/a/split?page=2"><link rel="next" href="/section/energy">`,
				"<p>Energisation of the first hall is planned for the third quarter.</p>"))
		case name == "brief":
			fmt.Fprint(w, page("", "<p>WhiteFiber adds 40 MW for a neocloud tenant.</p>"))
		case name == "relcanon":
			fmt.Fprint(w, page(`<link rel="canonical" href="/a/relcanon-original">`, long("Bit Digital leased 30 MW of HPC capacity to a GPU cloud operator.")))
		case name == "unquoted":
			fmt.Fprintf(w, page(`<link rel=canonical href=%s/a/unquoted-original>`, long("Galaxy Digital extended its lease with CoreWeave by 160 MW at Helios.")), srv.URL)
		default:
			http.NotFound(w, r)
		}
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &hits
}

// loopbackOnly dials addr only when it is the test server's, and records
// and refuses anything else.
type loopbackOnly struct {
	addr    string
	mu      sync.Mutex
	refused []string
}

func (d *loopbackOnly) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if addr == d.addr {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	d.mu.Lock()
	d.refused = append(d.refused, addr)
	d.mu.Unlock()
	return nil, fmt.Errorf("test dialer: %s refused", addr)
}

func TestPagesTheCrawlerMissed(t *testing.T) {
	srv, hits := missedSite(t)
	dial := &loopbackOnly{addr: strings.TrimPrefix(srv.URL, "http://")}
	src := Source{Name: "missed", Feeds: []string{srv.URL + "/feed.xml"}, AllowPrivate: true, Delay: Duration{time.Millisecond}, Parallelism: 2}

	mem := stream.NewMemory()
	c := New(Config{Dial: dial.dial}, mem, nil)
	if err := c.Crawl(context.Background(), []Source{src}); err != nil {
		t.Fatal(err)
	}
	got := published(t, mem)
	u := func(p string) string { return srv.URL + "/a/" + p }
	for _, want := range []string{u("target"), u("split"), u("relcanon-original"), u("unquoted-original")} {
		if _, ok := got[want]; !ok {
			t.Errorf("%s not published (published: %v; stats %+v)", want, keys(got), c.Stats())
		}
	}
	for _, not := range []string{u("moved"), u("split?page=2"), u("split?page=3"), u("relcanon"), u("unquoted"), u("brief")} {
		if _, ok := got[not]; ok {
			t.Errorf("%s published", not)
		}
	}
	if a, ok := got[u("split")]; ok {
		body, _ := a.Body()
		for _, part := range []string{"120 MW", "ten years and is worth 1.8 billion", "third quarter"} {
			if !strings.Contains(string(body), part) {
				t.Errorf("the split story lacks %q", part)
			}
		}
		if a.URL != u("split") {
			t.Errorf("split story published from %s", a.URL)
		}
	}
	st := c.Stats()
	if st.Skipped["meta_refresh"] != 2 || st.Rejected["empty"] != 1 || st.Failed["redirect_offsite"] != 1 {
		t.Errorf("stats %+v", st)
	}
	if len(dial.refused) > 0 {
		t.Errorf("dialled %v", dial.refused)
	}
	for _, h := range *hits {
		if strings.HasPrefix(h, "/section/") {
			t.Errorf("followed rel=next out of the story: %s", h)
		}
	}

	// A source that accepts briefs publishes the short page.
	src.Name, src.MinTextBytes = "briefs", 40
	mem2 := stream.NewMemory()
	c2 := New(Config{Dial: dial.dial}, mem2, nil)
	if err := c2.Crawl(context.Background(), []Source{src}); err != nil {
		t.Fatal(err)
	}
	if _, ok := published(t, mem2)[u("brief")]; !ok {
		t.Errorf("brief not published with min_text_bytes 40: %+v", c2.Stats())
	}
}

func TestRefreshURL(t *testing.T) {
	for in, want := range map[string]string{
		"0; url=/next": "/next", "5;URL='https://a.example/x'": "https://a.example/x", `3, url="/y"`: "/y",
		"30": "", "0;/plain": "/plain", "": "",
	} {
		if got := refreshURL(in); got != want {
			t.Errorf("refreshURL(%q) = %q, want %q", in, got, want)
		}
	}
}
