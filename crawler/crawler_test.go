package crawler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mwledger/mwledger/internal/bus"
	"github.com/mwledger/mwledger/schemas"
)

func articleHTML(title string) string {
	return fmt.Sprintf(`<html><head><title>%s</title><link rel="canonical" href="https://news.example/%s"></head><body><article><p>%s</p><p>%s</p></article></body></html>`,
		title, title, strings.Repeat("IREN signed a contract with Microsoft for 200 MW. ", 5), title)
}

// newsSite is a small local news site: a feed, a two-page listing, robots.txt,
// a disallowed page, an oversized page, a PDF and a redirect out of the site.
func newsSite(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
	})
	mux.HandleFunc("/feed.xml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss><channel>
<item><link>%[1]s/a/one?utm_source=feed</link></item>
<item><link>%[1]s/a/two</link></item>
<item><link>%[1]s/private/secret</link></item>
<item><link>%[1]s/a/huge</link></item>
<item><link>%[1]s/a/report.pdf</link></item>
<item><link>%[1]s/a/away</link></item>
</channel></rss>`, srv.URL)
	})
	mux.HandleFunc("/list/1", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `<html><body><a class="s" href="/a/one#top">one</a><a class="s" href="/a/three">three</a><a class="next" href="/list/2">next</a></body></html>`)
	})
	mux.HandleFunc("/list/2", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `<html><body><a class="s" href="/a/four">four</a></body></html>`)
	})
	mux.HandleFunc("/a/", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/a/")
		switch name {
		case "huge":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html><body>" + strings.Repeat("x", 300_000) + "</body></html>"))
		case "report.pdf":
			w.Header().Set("Content-Type", "application/pdf")
			w.Write([]byte("%PDF-1.4 " + strings.Repeat("y", 400)))
		case "away":
			http.Redirect(w, r, "http://elsewhere.example/stolen", http.StatusFound)
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, articleHTML(name))
		}
	})
	mux.HandleFunc("/private/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, articleHTML("secret"))
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func published(t *testing.T, mem *bus.Memory) map[string]schemas.Article {
	t.Helper()
	mem.CloseTopic(schemas.TopicArticles)
	c := mem.Consumer(schemas.TopicArticles)
	out := map[string]schemas.Article{}
	for {
		m, err := c.Fetch(context.Background())
		if errors.Is(err, bus.ErrClosed) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := schemas.Validate("article.schema.json", m.Value); err != nil {
			t.Errorf("published article does not match its schema: %v", err)
		}
		var a schemas.Article
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatal(err)
		}
		if string(m.Key) != a.CanonicalURL {
			t.Errorf("key %q is not the canonical URL %q", m.Key, a.CanonicalURL)
		}
		if _, dup := out[a.CanonicalURL]; dup {
			t.Errorf("%s published twice", a.CanonicalURL)
		}
		out[a.CanonicalURL] = a
	}
}

func TestCrawlFeedsAndListings(t *testing.T) {
	srv := newsSite(t)
	mem := bus.NewMemory()
	c := New(Config{MaxBodyBytes: 200_000}, mem, nil)
	src := Source{
		Name:         "local",
		Feeds:        []string{srv.URL + "/feed.xml"},
		Listings:     []Listing{{URL: srv.URL + "/list/1", LinkSelector: "a.s", NextSelector: "a.next"}},
		AllowPrivate: true,
		Delay:        Duration{time.Millisecond},
		Parallelism:  2,
	}
	if err := c.Crawl(context.Background(), []Source{src}); err != nil {
		t.Fatal(err)
	}
	got := published(t, mem)
	want := []string{"one", "two", "three", "four"}
	for _, w := range want {
		if _, ok := got["https://news.example/"+w]; !ok {
			t.Errorf("article %s not published; got %v", w, keys(got))
		}
	}
	if len(got) != len(want) {
		t.Errorf("published %d articles, want %d: %v", len(got), len(want), keys(got))
	}
	st := c.Stats()
	if st.Failed["too_large"] != 1 {
		t.Errorf("oversized page: failed = %v, want too_large 1", st.Failed)
	}
	if st.Skipped["not_html"] != 1 {
		t.Errorf("PDF: skipped = %v, want not_html 1", st.Skipped)
	}
	if st.Failed["robots_txt"] != 1 {
		t.Errorf("robots.txt: failed = %v, want robots_txt 1", st.Failed)
	}
	if st.Failed["redirect_refused"]+st.Failed["fetch_error"] == 0 {
		t.Errorf("redirect out of the allowed domains was not refused: %v", st.Failed)
	}
}

// recordingDialer refuses every connection and remembers where it was asked to go.
type recordingDialer struct {
	mu    sync.Mutex
	addrs []string
}

func (d *recordingDialer) dial(_ context.Context, _, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.addrs = append(d.addrs, addr)
	d.mu.Unlock()
	return nil, errors.New("recording dialer: connection refused by the test")
}

func TestCrawlRefusesPrivateAddresses(t *testing.T) {
	rec := &recordingDialer{}
	mem := bus.NewMemory()
	c := New(Config{Dial: rec.dial, Timeout: 2 * time.Second}, mem, nil)
	src := Source{
		Name: "no-private",
		// A private and a loopback address: refused before any dial.
		URLs:  []string{"http://10.1.2.3/a", "http://127.0.0.1:9/b", "http://192.168.0.7/c", "http://[fd00::1]/d", "http://203.0.113.9/e"},
		Delay: Duration{time.Millisecond},
	}
	if err := c.Crawl(context.Background(), []Source{src}); err != nil {
		t.Fatal(err)
	}
	if got := published(t, mem); len(got) != 0 {
		t.Errorf("published %v", keys(got))
	}
	for _, a := range rec.addrs {
		host, _, _ := net.SplitHostPort(a)
		if host != "203.0.113.9" {
			t.Errorf("the dialer was asked for %s, which the guard must refuse first", a)
		}
	}
	if st := c.Stats(); st.Failed["private_address"] < 4 {
		t.Errorf("failed = %v, want 4 private_address (robots.txt and page for each may count)", st.Failed)
	}
}

func keys(m map[string]schemas.Article) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"HTTPS://News.Example:443/a/b/?utm_source=x&id=3#frag", "https://news.example/a/b?id=3"},
		{"https://news.example/story/amp/", "https://news.example/story"},
		{"https://amp.news.example/story?fbclid=1&b=2&a=1", "https://news.example/story?a=1&b=2"},
		{"http://news.example:80/", "http://news.example/"},
	}
	for _, tt := range tests {
		got, err := Canonical(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSourceValidate(t *testing.T) {
	tests := []struct {
		name        string
		src         Source
		errContains string
	}{
		{"ok", Source{Name: "a", Feeds: []string{"https://x.example/feed"}}, ""},
		{"no name", Source{Feeds: []string{"https://x.example/feed"}}, "name is required"},
		{"nothing to crawl", Source{Name: "a"}, "at least one of feeds"},
		{"bad url", Source{Name: "a", URLs: []string{"ftp://x.example/"}}, "not an http(s) URL"},
		{"listing without selector", Source{Name: "a", Listings: []Listing{{URL: "https://x.example/"}}}, "no link_selector"},
		{"negative parallelism", Source{Name: "a", URLs: []string{"https://x.example/"}, Parallelism: -1}, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.src.Validate()
			if tt.errContains == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("error %v, want it to contain %q", err, tt.errContains)
			}
		})
	}
}
