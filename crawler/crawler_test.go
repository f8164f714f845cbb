package crawler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
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

func published(t *testing.T, mem *stream.Memory) map[string]schemas.Article {
	t.Helper()
	mem.CloseTopic(schemas.TopicArticles)
	c := mem.Consumer(schemas.TopicArticles)
	out := map[string]schemas.Article{}
	for {
		m, err := c.Fetch(context.Background())
		if errors.Is(err, stream.ErrClosed) {
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
	mem := stream.NewMemory()
	c := New(Config{MaxBodyBytes: 200_000}, mem, nil)
	src := Source{
		Name:           "local",
		Feeds:          []string{srv.URL + "/feed.xml"},
		Listings:       []Listing{{URL: srv.URL + "/list/1", LinkSelector: "a.s", NextSelector: "a.next"}},
		CanonicalHosts: []string{"news.example"}, // the pages name their syndicated original there
		AllowPrivate:   true,
		Delay:          Duration{time.Millisecond},
		Parallelism:    2,
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
	if st.Rejected["not_html"] != 1 {
		t.Errorf("PDF: rejected = %v, want not_html 1", st.Rejected)
	}
	if st.Failed["robots_txt"] != 1 {
		t.Errorf("robots.txt: failed = %v, want robots_txt 1", st.Failed)
	}
	if st.Failed["redirect_offsite"] != 1 {
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
	mem := stream.NewMemory()
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
		{"nothing to crawl", Source{Name: "a"}, "at least one of feeds, sitemaps"},
		{"negative interval", Source{Name: "a", URLs: []string{"https://x.example/"}, Interval: Duration{-time.Second}}, "interval must not be negative"},
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

// siteSource is a source over a testkit.Site reached through its dialer, with
// politeness off and private addresses refused.
func siteSource(site *testkit.Site) Source {
	return Source{
		Name:     "test-site",
		Feeds:    append(site.FeedURLs(), site.SpecialsURL()),
		Sitemaps: []string{site.SitemapIndexURL()},
		Listings: []Listing{{URL: site.ListingURL(), LinkSelector: "a.story", NextSelector: "a.next"}},
		// intranet.test is allowed, but resolves to a private address (siteDialer).
		AllowedDomains: []string{site.Host, "intranet.test"},
		Delay:          Duration{time.Microsecond},
		Parallelism:    8,
	}
}

// siteDialer reaches the site through its loopback listener and plays a
// resolver that answers 10.0.0.7 for intranet.test: the guard's refusal, with
// the address recorded. Nothing outside 127.0.0.1 is ever dialled.
type siteDialer struct {
	site    *testkit.Site
	mu      sync.Mutex
	refused []string
}

func (d *siteDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if host, _, _ := net.SplitHostPort(addr); host == "intranet.test" {
		d.mu.Lock()
		d.refused = append(d.refused, addr)
		d.mu.Unlock()
		return nil, ErrPrivateAddress{addr + " (10.0.0.7)"}
	}
	return d.site.Dial(ctx, network, addr)
}

func siteConfig(site *testkit.Site) Config {
	// 2.5 s per request: /slow (5 s) still times out, while a 1 MB page or a
	// redirect chain on a machine under load does not
	return Config{Dial: (&siteDialer{site: site}).dial, Timeout: 2500 * time.Millisecond, MaxBodyBytes: 1 << 20, RetryBackoff: 10 * time.Millisecond}
}

// publishedAll reads every message of the articles topic, duplicates included.
func publishedAll(t *testing.T, mem *stream.Memory) []schemas.Article {
	t.Helper()
	mem.CloseTopic(schemas.TopicArticles)
	c := mem.Consumer(schemas.TopicArticles)
	var out []schemas.Article
	for {
		m, err := c.Fetch(context.Background())
		if errors.Is(err, stream.ErrClosed) {
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
		out = append(out, a)
	}
}

// TestCrawlTestSite crawls every start point of the test site, with its pages
// that go wrong, three times: first pass, an unchanged second pass, and a pass
// after one article was corrected.
func TestCrawlTestSite(t *testing.T) {
	site := testkit.NewSite(testkit.SiteOptions{Articles: 20, Feeds: 2, Specials: true})
	defer site.Close()
	src := siteSource(site)
	state := NewMemoryState()
	cfg := siteConfig(site)
	dialer := &siteDialer{site: site}
	cfg.Dial = dialer.dial
	cfg.State = state

	mem := stream.NewMemory()
	c := New(cfg, mem, nil)
	if err := c.Crawl(context.Background(), []Source{src}); err != nil {
		t.Fatal(err)
	}
	got := published(t, mem)
	want := []string{site.Base + "/story/dup", site.Base + "/ratelimited", site.Base + "/cp1252", site.Base + "/gbk"}
	for i := range 20 {
		want = append(want, site.ArticleURL(i))
	}
	for _, w := range want {
		a, ok := got[w]
		if !ok {
			t.Errorf("%s not published", w)
			continue
		}
		if a.Version != 1 {
			t.Errorf("%s: version %d, want 1", w, a.Version)
		}
	}
	if len(got) != len(want) {
		t.Errorf("published %d articles, want %d: %v", len(got), len(want), keys(got))
	}
	if a := got[site.Base+"/cp1252"]; !a.HTMLBase64 || a.Headers["Content-Type"] != "text/html; charset=windows-1252" {
		t.Errorf("windows-1252 page not carried as received: base64 %v, headers %v", a.HTMLBase64, a.Headers)
	} else if b, _ := a.Body(); !bytes.Contains(b, []byte{0x93, '3', '0', '0', ' ', 'M', 'W', 0x94}) {
		t.Errorf("windows-1252 bytes were transcoded")
	}
	if a := got[site.Base+"/gbk"]; !a.HTMLBase64 {
		t.Errorf("GBK page not carried as received (html_base64 false)")
	}
	st := c.Stats()
	for reason, n := range map[string]int{"robots_txt": 1, "timeout": 1, "redirect_loop": 1, "redirect_offsite": 1, "redirect_private": 1,
		"private_address": 1, "too_large": 1} {
		if st.Failed[reason] != n {
			t.Errorf("failed[%s] = %d, want %d (all: %v)", reason, st.Failed[reason], n, st.Failed)
		}
	}
	for _, reason := range []string{"challenge", "captcha", "consent_wall", "empty", "not_html"} {
		if st.Rejected[reason] != 1 {
			t.Errorf("rejected[%s] = %d, want 1 (all: %v)", reason, st.Rejected[reason], st.Rejected)
		}
	}
	if st.Retries != 1 {
		t.Errorf("retries = %d, want 1 (429 with Retry-After)", st.Retries)
	}
	if r := site.Refused(); len(r) != 0 {
		t.Errorf("the site's dialer was asked for %v (10.0.0.5 must be refused before any dial)", r)
	}
	if len(dialer.refused) == 0 || dialer.refused[0] != "intranet.test:80" {
		t.Errorf("the resolver refused %v, want intranet.test:80", dialer.refused)
	}

	// Second pass, nothing changed: feeds and articles answer 304, nothing is published.
	mem2 := stream.NewMemory()
	c2 := New(cfg, mem2, nil)
	if err := c2.Crawl(context.Background(), []Source{src}); err != nil {
		t.Fatal(err)
	}
	if n := mem2.Len(schemas.TopicArticles); n != 0 {
		t.Errorf("unchanged second pass published %d articles", n)
	}
	if st := c2.Stats(); st.Skipped["not_modified"] < 20 {
		t.Errorf("second pass: skipped %v, want at least 20 not_modified", st.Skipped)
	}
	// The challenge page is not remembered: it is fetched again.
	if n := site.Requests("/challenge"); n != 2 {
		t.Errorf("challenge page fetched %d times in two passes, want 2", n)
	}

	// A correction: one new version.
	site.Change(3)
	mem3 := stream.NewMemory()
	c3 := New(cfg, mem3, nil)
	if err := c3.Crawl(context.Background(), []Source{src}); err != nil {
		t.Fatal(err)
	}
	all := publishedAll(t, mem3)
	if len(all) != 1 || all[0].CanonicalURL != site.ArticleURL(3) || all[0].Version != 2 {
		var got []string
		for _, a := range all {
			got = append(got, fmt.Sprintf("%s v%d", a.CanonicalURL, a.Version))
		}
		t.Errorf("after a correction published %v, want %s v2", got, site.ArticleURL(3))
	}
	if st := c3.Stats(); st.Updated != 1 {
		t.Errorf("updated = %d, want 1", st.Updated)
	}
}

// TestCrawlRestartPublishesOnce stops a crawl halfway and starts it again on
// the same seen-set: every article is published exactly once.
func TestCrawlRestartPublishesOnce(t *testing.T) {
	const articles = 300
	site := testkit.NewSite(testkit.SiteOptions{Articles: articles, Feeds: 5})
	defer site.Close()
	// Paced (a request every 2.5 ms) so that the cancel lands mid-crawl.
	src := Source{Name: "restart", Feeds: site.FeedURLs(), Delay: Duration{10 * time.Millisecond}, Parallelism: 4}
	// The seen-set outlives the crawler as a file would (internal/statedb
	// tests the file: TestCrawlStateSurvivesReopen).
	st := NewMemoryState()
	mem := stream.NewMemory()

	run := func(stopAfter int64) Stats {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		pub := &testkit.CancelAfter{Publisher: mem, N: stopAfter, Cancel: cancel}
		cfg := siteConfig(site)
		cfg.State = st
		c := New(cfg, pub, nil)
		err := c.Crawl(ctx, []Source{src})
		if stopAfter < articles && !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted crawl: %v, want context.Canceled", err)
		}
		if stopAfter >= articles && err != nil {
			t.Fatal(err)
		}
		return c.Stats()
	}
	first := run(articles / 2)
	if first.Published < articles/2 || first.Published >= articles {
		t.Fatalf("the first crawl published %d articles; want it stopped halfway", first.Published)
	}
	second := run(1 << 30)
	counts := map[string]int{}
	for _, a := range publishedAll(t, mem) {
		counts[a.CanonicalURL]++
	}
	for i := range articles {
		if n := counts[site.ArticleURL(i)]; n != 1 {
			t.Errorf("%s published %d times", site.ArticleURL(i), n)
		}
	}
	if len(counts) != articles {
		t.Errorf("%d distinct articles published, want %d", len(counts), articles)
	}
	t.Logf("first run published %d, second %d (skipped %v)", first.Published, second.Published, second.Skipped)
}

// TestRunRepollsOnInterval runs the scheduler: a source with a short interval
// is crawled again and again until the context ends.
func TestRunRepollsOnInterval(t *testing.T) {
	site := testkit.NewSite(testkit.SiteOptions{Articles: 3, Feeds: 1})
	defer site.Close()
	src := Source{Name: "poll", Feeds: site.FeedURLs(), Delay: Duration{time.Microsecond}, Interval: Duration{100 * time.Millisecond}}
	mem := stream.NewMemory()
	c := New(siteConfig(site), mem, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	if err := c.Run(ctx, []Source{src}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := site.Requests("/feed/0.xml"); n < 3 {
		t.Errorf("feed polled %d times in 600ms at a 100ms interval, want at least 3", n)
	}
	if n := mem.Len(schemas.TopicArticles); n != 3 {
		t.Errorf("published %d articles over several passes, want 3", n)
	}
	if v := c.Metrics().Value(mLastSuccess, "source", "poll"); v == 0 {
		t.Errorf("no last-success timestamp")
	}
	rec := httptest.NewRecorder()
	c.Metrics().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("metrics content type %q", ct)
	}
	for _, want := range []string{`mwledger_crawler_pages_published_total{source="poll"} 3`, `mwledger_crawler_passes_total{result="ok",source="poll"}`,
		`mwledger_crawler_pages_skipped_total{reason="not_modified",source="poll"}`, "mwledger_crawler_publish_duration_seconds_count 3"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, rec.Body.String())
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"5", 5 * time.Second, true},
		{"-3", 0, true},
		{"Fri, 02 Jan 2026 10:00:30 GMT", 30 * time.Second, true},
		{"Fri, 02 Jan 2026 09:00:00 GMT", 0, true},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRejectReason(t *testing.T) {
	article := "<html><body><article>" + strings.Repeat("<p>IREN signed a 200 MW contract with Microsoft.</p>", 10) + "</article></body></html>"
	long := "<html><body>" + strings.Repeat("<p>IREN signed a 200 MW contract with Microsoft for AI cloud capacity in Texas.</p>", 40)
	tests := []struct {
		name   string
		status int
		ct     string
		body   string
		want   string
	}{
		{"article", 200, "text/html; charset=utf-8", article, ""},
		{"article without content type", 200, "", article, ""},
		{"pdf", 200, "application/pdf", "%PDF-1.4 " + article, rejectNotHTML},
		{"json", 200, "application/json", `{"a":1}`, rejectNotHTML},
		{"octet-stream html", 200, "application/octet-stream", article, ""},
		{"cloudflare challenge", 503, "text/html", `<html><title>Just a moment...</title><body>Checking your browser</body></html>`, rejectChallenge},
		{"challenge 403", 403, "text/html", `<html><body><script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page"></script></body></html>`, rejectChallenge},
		{"captcha", 200, "text/html", `<html><body><div class="h-captcha"></div>` + strings.Repeat("<p>Please prove you are a person.</p>", 8) + `</body></html>`, rejectCaptcha},
		{"consent wall", 200, "text/html", `<html><body><h1>Before you continue</h1>` + strings.Repeat("<p>We use cookies and data to deliver our services.</p>", 5) + `</body></html>`, rejectConsent},
		{"long article with a cookie banner", 200, "text/html", long + `<div class="onetrust">Accept all cookies</div></body></html>`, ""},
		{"long article with the analytics script", 200, "text/html", long + `<script src="/cdn-cgi/challenge-platform/scripts/jsd/main.js"></script></body></html>`, ""},
		{"spa shell", 200, "text/html", `<html><head><script>` + strings.Repeat("x();", 500) + `</script></head><body><div id=app></div></body></html>`, rejectEmpty},
		{"202", 202, "text/html", article, rejectAccepted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := visibleText([]byte(tt.body))
			if got := rejectReason(tt.status, tt.ct, []byte(tt.body), text, 200); got != tt.want {
				t.Errorf("rejectReason = %q, want %q (text %d bytes)", got, tt.want, len(text))
			}
		})
	}
}

func TestSitemapLinks(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		want        []Link
		errContains string
	}{
		{"urlset", `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc> https://n.example/a </loc><lastmod>2026-01-02</lastmod></url><url><loc>https://n.example/b</loc></url></urlset>`,
			[]Link{{URL: "https://n.example/a", Kind: kindArticle, Date: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}, {URL: "https://n.example/b", Kind: kindArticle}}, ""},
		{"news sitemap", `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>https://n.example/c</loc><news:news><news:publication_date>2026-01-03T10:00:00Z</news:publication_date></news:news></url></urlset>`,
			[]Link{{URL: "https://n.example/c", Kind: kindArticle, Date: time.Date(2026, 1, 3, 10, 0, 0, 0, time.UTC)}}, ""},
		{"index", `<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>https://n.example/s1.xml.gz</loc></sitemap></sitemapindex>`,
			[]Link{{URL: "https://n.example/s1.xml.gz", Kind: kindSitemap}}, ""},
		{"rss is not a sitemap", `<rss><channel></channel></rss>`, nil, "not a sitemap"},
		{"garbage", `not xml at all`, nil, "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sitemapLinks([]byte(tt.body))
			if tt.errContains != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errContains) {
					t.Fatalf("error %v, want it to contain %q", err, tt.errContains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i].URL != tt.want[i].URL || got[i].Kind != tt.want[i].Kind || !got[i].Date.Equal(tt.want[i].Date) {
					t.Errorf("link %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestMaxAgeSkipsOldEntries(t *testing.T) {
	now := time.Now()
	if !tooOld(Link{Date: now.Add(-48 * time.Hour)}, 24*time.Hour, now) {
		t.Error("a two-day-old entry is not too old for max_age 24h")
	}
	if tooOld(Link{}, 24*time.Hour, now) || tooOld(Link{Date: now.Add(-48 * time.Hour)}, 0, now) {
		t.Error("undated entries and max_age 0 must be kept")
	}
}

func TestMentionsAny(t *testing.T) {
	tests := []struct {
		text string
		kw   []string
		want bool
	}{
		{"IREN signs AI cloud deal", []string{"AI cloud"}, true},
		{"the company said nothing", []string{"AI"}, false},
		{"a 200 MW lease", []string{"mw"}, true},
		{"200MW lease", []string{"MW"}, false},
		{"Colocation, hyperscaler.", []string{"hyperscaler"}, true},
	}
	for _, tt := range tests {
		if got := mentionsAny(tt.text, tt.kw); got != tt.want {
			t.Errorf("mentionsAny(%q, %v) = %v, want %v", tt.text, tt.kw, got, tt.want)
		}
	}
}

func TestParseSources(t *testing.T) {
	tests := []struct {
		name        string
		yaml        string
		errContains string
	}{
		{"ok", "sources:\n  - name: a\n    sitemaps: [https://x.example/sitemap.xml]\n    interval: 5m\n    max_age: 72h\n", ""},
		{"zero delay", "sources:\n  - name: a\n    urls: [https://x.example/]\n    delay: 0s\n", "must be positive"},
		{"bad duration", "sources:\n  - name: a\n    urls: [https://x.example/]\n    interval: often\n", "not a duration"},
		{"unknown field", "sources:\n  - name: a\n    urls: [https://x.example/]\n    delai: 1s\n", "delai"},
		{"duplicate names", "sources:\n  - name: a\n    urls: [https://x.example/]\n  - name: a\n    urls: [https://y.example/]\n", "used twice"},
		{"bad sitemap", "sources:\n  - name: a\n    sitemaps: [x.example/sitemap.xml]\n", "sitemap"},
		{"bad selector", "sources:\n  - name: a\n    urls: [https://x.example/]\n    content_selector: 'div[['\n", "content_selector"},
		{"bad domain", "sources:\n  - name: a\n    urls: [https://x.example/]\n    allowed_domains: ['https://x.example']\n", "allowed_domains"},
		{"empty", "sources: []\n", "no sources"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSources("test.yaml", []byte(tt.yaml))
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

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name        string
		cfg         Config
		errContains string
	}{
		{"zero", Config{}, ""},
		{"negative attempts", Config{MaxAttempts: -1}, "MaxAttempts"},
		{"negative timeout", Config{Timeout: -time.Second}, "Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != (tt.errContains == "") || (err != nil && !strings.Contains(err.Error(), tt.errContains)) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.errContains)
			}
		})
	}
}

func TestMetricsText(t *testing.T) {
	m := NewMetrics()
	m.add(mFetched, 2, "source", "a")
	m.add(mFailed, 1, "reason", "http_429", "source", `we"ird`)
	m.set(mLastSuccess, 1767348000, "source", "a")
	m.observe(mPublishLat, 3*time.Millisecond)
	var b strings.Builder
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"# TYPE mwledger_crawler_pages_fetched_total counter\nmwledger_crawler_pages_fetched_total{source=\"a\"} 2\n",
		`mwledger_crawler_pages_failed_total{reason="http_429",source="we\"ird"} 1`,
		"# TYPE mwledger_crawler_last_success_timestamp_seconds gauge\nmwledger_crawler_last_success_timestamp_seconds{source=\"a\"} 1.767348e+09\n",
		`mwledger_crawler_publish_duration_seconds_bucket{le="0.0025"} 0`,
		`mwledger_crawler_publish_duration_seconds_bucket{le="0.005"} 1`,
		`mwledger_crawler_publish_duration_seconds_bucket{le="+Inf"} 1`,
		"mwledger_crawler_publish_duration_seconds_count 1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q:\n%s", want, out)
		}
	}
}

// timedPublisher records when each article was published.
type timedPublisher struct {
	stream.Publisher
	mu sync.Mutex
	at map[string]time.Time
}

func (p *timedPublisher) Publish(ctx context.Context, msgs ...stream.Message) error {
	p.mu.Lock()
	for _, m := range msgs {
		p.at[string(m.Key)] = time.Now()
	}
	p.mu.Unlock()
	return p.Publisher.Publish(ctx, msgs...)
}

// TestDelayPacesRequestsNotPublishing: the politeness delay spaces the
// requests, but a fetched article is published at once (colly's own delay
// would hold every page back by it: a second of alert latency by default).
func TestDelayPacesRequestsNotPublishing(t *testing.T) {
	const delay = 600 * time.Millisecond
	site := testkit.NewSite(testkit.SiteOptions{Articles: 3, Feeds: 1})
	defer site.Close()
	pub := &timedPublisher{Publisher: stream.NewMemory(), at: map[string]time.Time{}}
	c := New(siteConfig(site), pub, nil)
	if err := c.Crawl(context.Background(), []Source{{Name: "paced", Feeds: site.FeedURLs(), Delay: Duration{delay}, Parallelism: 1}}); err != nil {
		t.Fatal(err)
	}
	var served []time.Time
	for i := range 3 {
		at, ok := pub.at[site.ArticleURL(i)]
		if !ok {
			t.Fatalf("article %d not published", i)
		}
		s := site.ServedAt(i)
		if lag := at.Sub(s); lag > delay/2 {
			t.Errorf("article %d published %v after it was served: held back by the delay", i, lag)
		}
		served = append(served, s)
	}
	slices.SortFunc(served, func(a, b time.Time) int { return a.Compare(b) })
	// The site sees when a request arrives, not when the crawler sent it: on
	// a loaded machine an earlier request can arrive late and shorten the
	// gap after it. Unpaced requests arrive milliseconds apart; paced ones
	// at least half the delay apart however busy the machine is.
	for i := 1; i < len(served); i++ {
		if gap := served[i].Sub(served[i-1]); gap < delay/2 {
			t.Errorf("requests %v apart, want about the delay %v (at least half of it)", gap, delay)
		}
	}
}
