// Site: a generated news site for the crawler's tests and benchmarks (DealSite
// serves generated deals with it): feeds, a sitemap index with a news sitemap,
// a paginated listing, articles with ETags (and first-fetch times), and the
// pages that go wrong (the same story under three URLs, robots.txt disallow, a
// slow page, 429 with Retry-After, redirect loops, redirects off the site and
// to private addresses, a 50 MB page, windows-1252 and GBK pages, bot walls).
//
// The site answers to a host name (Host, default news.test) that only the
// site's own Dial resolves, to its loopback listener: a crawler configured with
// that dialer and AllowPrivate false reaches the site, while its guard still
// refuses private addresses, and no connection ever leaves 127.0.0.1 (Dial
// records and refuses every other address).

package testkit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Options shape a site.
type SiteOptions struct {
	// Host is the host name the site answers to. Default "news.test".
	Host string
	// Loopback, when true, names the site by its listener address (127.0.0.1:PORT)
	// instead of Host, for crawls that cannot inject a dialer (the command line,
	// with allow_private). Default false.
	Loopback bool
	// Prefix is prepended to every path (except robots.txt), so that a test can
	// tell its articles on a shared topic. Default "/t".
	Prefix string
	// Articles is the number of generated articles. Default 20.
	Articles int
	// Feeds spreads the generated articles over this many RSS feeds. Default 2.
	Feeds int
	// PerPage is the number of links per listing page. Default 10.
	PerPage int
	// Specials adds the pages that go wrong (see the package comment) to
	// specials.xml. Default false.
	Specials bool
	// SlowDelay is how long /slow takes to answer. Default 5s.
	SlowDelay time.Duration
	// RateLimited is how many 429s /ratelimited answers before the article. Default 1.
	RateLimited int
	// HugeBytes is the size of /huge, streamed without Content-Length. Default 50 MB.
	HugeBytes int
	// Page renders generated article i, whose canonical URL is canonical.
	// Default: a lease by "Test Operator i" (a correction appended per Change).
	Page func(canonical string, i int) []byte
}

// Site is a running test news site.
type Site struct {
	SiteOptions
	// Base is "http://HOST" with the prefix, e.g. http://news.test/t.
	Base string
	srv  *httptest.Server

	mu       sync.Mutex
	requests map[string]int    // by path
	versions map[int]int       // article → content version
	served   map[int]time.Time // article → first served
	refused  []string          // addresses Dial refused
}

// New starts a site; Close it when done.
func NewSite(o SiteOptions) *Site {
	if o.Host == "" {
		o.Host = "news.test"
	}
	if o.Prefix == "" {
		o.Prefix = "/t"
	}
	if o.Articles == 0 {
		o.Articles = 20
	}
	if o.Feeds == 0 {
		o.Feeds = 2
	}
	if o.PerPage == 0 {
		o.PerPage = 10
	}
	if o.SlowDelay == 0 {
		o.SlowDelay = 5 * time.Second
	}
	if o.RateLimited == 0 {
		o.RateLimited = 1
	}
	if o.HugeBytes == 0 {
		o.HugeBytes = 50 << 20
	}
	s := &Site{SiteOptions: o, requests: map[string]int{}, versions: map[int]int{}, served: map[int]time.Time{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	if o.Loopback {
		s.Host = s.srv.Listener.Addr().String()
	}
	s.Base = "http://" + s.Host + s.Prefix
	return s
}

// Close stops the site.
func (s *Site) Close() { s.srv.Close() }

// Dial connects HOST:80 to the site's loopback listener; every other address
// is recorded (Refused) and refused with an error naming it as private, the way
// a resolver answering with a private address would be.
func (s *Site) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if addr == s.Host+":80" {
		var d net.Dialer
		return d.DialContext(ctx, network, s.srv.Listener.Addr().String())
	}
	s.mu.Lock()
	s.refused = append(s.refused, addr)
	s.mu.Unlock()
	return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("testkit: %s resolves outside the test site: refused", addr)}
}

// Refused returns the addresses Dial refused.
func (s *Site) Refused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refused...)
}

// Requests returns how often a path (without the prefix) was requested.
func (s *Site) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[s.Prefix+path]
}

// ServedAt is when generated article i was first served (zero if never): the
// crawler's fetch, for latency measurements.
func (s *Site) ServedAt(i int) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served[i]
}

// Change gives article i new content (a correction): its next fetch differs
// (the default Page only).
func (s *Site) Change(i int) {
	s.mu.Lock()
	s.versions[i]++
	s.mu.Unlock()
}

// ArticleURL is the canonical URL of generated article i.
func (s *Site) ArticleURL(i int) string { return fmt.Sprintf("%s/story/%d", s.Base, i) }

// Feed URLs, sitemap index and listing of the site.
func (s *Site) FeedURLs() []string {
	out := make([]string, s.Feeds)
	for i := range out {
		out[i] = fmt.Sprintf("%s/feed/%d.xml", s.Base, i)
	}
	return out
}

// SitemapIndexURL is the sitemap index (a sitemap per feed and a news sitemap).
func (s *Site) SitemapIndexURL() string { return s.Base + "/sitemap_index.xml" }

// ListingURL is the first page of the paginated listing (a.story, a.next).
func (s *Site) ListingURL() string { return s.Base + "/list/1" }

// SpecialsURL is the feed of the pages that go wrong.
func (s *Site) SpecialsURL() string { return s.Base + "/specials.xml" }

// Specials lists the special paths (after the prefix) in specials.xml, with
// what the crawler must make of them.
var Specials = []struct{ Path, Want string }{
	{"/story/dup?utm_source=feed&utm_medium=rss&fbclid=x", "the same story as /story/dup: published once"},
	{"/amp/story/dup", "AMP copy, rel=canonical /story/dup: published once"},
	{"/story/dup/amp", "AMP suffix: canonicalised to /story/dup"},
	{"/story/dup", "the canonical story"},
	{"/private/secret", "robots.txt disallow"},
	{"/slow", "timeout"},
	{"/ratelimited", "429 with Retry-After, then published"},
	{"/loop/a", "redirect loop"},
	{"/offsite", "redirect to a host outside the allowed domains"},
	{"/to-private", "redirect to a private IP literal"},
	{"/to-intranet", "redirect to a host name that resolves to a private address"},
	{"/huge", "50 MB page: too large"},
	{"/cp1252", "windows-1252 article: published as received"},
	{"/gbk", "GBK article: published as received"},
	{"/challenge", "503 JavaScript challenge: rejected"},
	{"/captcha", "captcha page: rejected"},
	{"/consent", "consent wall: rejected"},
	{"/empty", "near-empty page: rejected"},
	{"/report.pdf", "not HTML: rejected"},
	{"/moved", "permanent redirect to a generated story"},
}

func (s *Site) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests[r.URL.Path]++
	n := s.requests[r.URL.Path]
	s.mu.Unlock()
	if r.URL.Path == "/robots.txt" {
		fmt.Fprintf(w, "User-agent: *\nDisallow: %s/private/\n", s.Prefix)
		return
	}
	p, ok := strings.CutPrefix(r.URL.Path, s.Prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch {
	case strings.HasPrefix(p, "/feed/"):
		i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(p, "/feed/"), ".xml"))
		if err != nil || i < 0 || i >= s.Feeds {
			http.NotFound(w, r)
			return
		}
		s.conditional(w, r, "application/rss+xml", []byte(s.feed(i)))
	case p == "/specials.xml":
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>specials</title>`)
		for _, sp := range Specials {
			fmt.Fprintf(&b, "<item><link>%s</link></item>", html.EscapeString(s.Base+sp.Path))
		}
		b.WriteString("</channel></rss>")
		s.conditional(w, r, "application/rss+xml", []byte(b.String()))
	case p == "/sitemap_index.xml":
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
		for i := range s.Feeds {
			fmt.Fprintf(&b, "<sitemap><loc>%s/sitemap/%d.xml</loc><lastmod>2026-01-0%dT00:00:00Z</lastmod></sitemap>", s.Base, i, 1+i%9)
		}
		fmt.Fprintf(&b, "<sitemap><loc>%s/news-sitemap.xml</loc></sitemap></sitemapindex>", s.Base)
		s.conditional(w, r, "application/xml", []byte(b.String()))
	case strings.HasPrefix(p, "/sitemap/"):
		i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(p, "/sitemap/"), ".xml"))
		if err != nil || i < 0 || i >= s.Feeds {
			http.NotFound(w, r)
			return
		}
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
		for a := i; a < s.Articles; a += s.Feeds {
			fmt.Fprintf(&b, "<url><loc>%s</loc><lastmod>2026-01-02</lastmod></url>", s.ArticleURL(a))
		}
		b.WriteString("</urlset>")
		s.conditional(w, r, "application/xml", []byte(b.String()))
	case p == "/news-sitemap.xml":
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">`)
		for a := 0; a < min(s.Articles, 10); a++ {
			fmt.Fprintf(&b, "<url><loc>%s</loc><news:news><news:publication><news:name>Test News</news:name><news:language>en</news:language></news:publication><news:publication_date>2026-01-03T10:00:00Z</news:publication_date><news:title>Story %d</news:title></news:news></url>", s.ArticleURL(a), a)
		}
		b.WriteString("</urlset>")
		s.conditional(w, r, "application/xml", []byte(b.String()))
	case strings.HasPrefix(p, "/list/"):
		page, err := strconv.Atoi(strings.TrimPrefix(p, "/list/"))
		if err != nil || page < 1 || (page-1)*s.PerPage >= s.Articles {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<html><body><ul>")
		from := (page - 1) * s.PerPage
		for a := from; a < min(from+s.PerPage, s.Articles); a++ {
			fmt.Fprintf(w, `<li><a class="story" href="%s/story/%d">Story %d</a></li>`, s.Prefix, a, a)
		}
		fmt.Fprint(w, "</ul>")
		if from+s.PerPage < s.Articles {
			fmt.Fprintf(w, `<a class="next" href="%s/list/%d">next</a>`, s.Prefix, page+1)
		}
		fmt.Fprint(w, "</body></html>")
	case strings.HasPrefix(p, "/story/"):
		name := strings.TrimPrefix(p, "/story/")
		if name == "dup" || name == "dup/amp" {
			s.conditional(w, r, "text/html; charset=utf-8", []byte(page(s.Base+"/story/dup", "Hut 8 and Fluidstack sign a 245 MW lease", 0, "")))
			return
		}
		i, err := strconv.Atoi(name)
		if err != nil || i < 0 || i >= s.Articles {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		v := s.versions[i]
		if _, ok := s.served[i]; !ok {
			s.served[i] = time.Now()
		}
		s.mu.Unlock()
		var body []byte
		if s.Page != nil {
			body = s.Page(s.ArticleURL(i), i)
		} else {
			body = []byte(page(s.ArticleURL(i), fmt.Sprintf("Story %d", i), i, strings.Repeat(" Correction.", v)))
		}
		s.conditional(w, r, "text/html; charset=utf-8", body)
	case p == "/amp/story/dup":
		// The same story in AMP markup: no navigation or footer, its own head.
		full := page(s.Base+"/story/dup", "Hut 8 and Fluidstack sign a 245 MW lease", 0, "")
		body := full[strings.Index(full, "<article>"):strings.Index(full, "</article>")]
		s.conditional(w, r, "text/html; charset=utf-8", []byte(`<!doctype html><html amp><head><title>AMP</title><link rel="canonical" href="`+s.Base+`/story/dup"></head><body>`+
			body+`</article><p>Read the full site.</p></body></html>`))
	case p == "/private/secret":
		w.Write([]byte(page(s.Base+p, "Secret", 0, "")))
	case p == "/slow":
		select {
		case <-r.Context().Done():
		case <-time.After(s.SlowDelay):
			w.Write([]byte(page(s.Base+p, "Slow", 0, "")))
		}
	case p == "/ratelimited":
		if n <= s.RateLimited {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(page(s.Base+p, "After the rate limit", 0, "")))
	case p == "/loop/a":
		http.Redirect(w, r, s.Prefix+"/loop/b", http.StatusFound)
	case p == "/loop/b":
		http.Redirect(w, r, s.Prefix+"/loop/a", http.StatusFound)
	case p == "/offsite":
		http.Redirect(w, r, "http://elsewhere.example/stolen", http.StatusFound)
	case p == "/to-private":
		http.Redirect(w, r, "http://10.0.0.5/admin", http.StatusFound)
	case p == "/to-intranet":
		http.Redirect(w, r, "http://intranet.test/admin", http.StatusFound)
	case p == "/moved":
		http.Redirect(w, r, s.Prefix+"/story/0", http.StatusMovedPermanently)
	case p == "/huge":
		// Streamed, no Content-Length: the crawler must stop reading at its limit.
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body><p>"))
		chunk := []byte(strings.Repeat("megawatt ", 64<<10/9))
		for sent := 0; sent < s.HugeBytes; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	case p == "/cp1252":
		body, _ := charmap.Windows1252.NewEncoder().String(strings.Replace(page(s.Base+p, "Cipher’s “300 MW” lease – €5.5 billion", 0,
			" The lessee’s “take-or-pay” clause costs €1 million per MW."), `charset="utf-8"`, `charset="windows-1252"`, 1))
		w.Header().Set("Content-Type", "text/html; charset=windows-1252")
		w.Write([]byte(body))
	case p == "/gbk":
		body, _ := simplifiedchinese.GBK.NewEncoder().String(`<html><head><meta charset="gbk"><title>数据中心租约</title><link rel="canonical" href="` + s.Base + `/gbk"></head><body><article>` +
			strings.Repeat("<p>矿企与超大规模云服务商签署了为期十年的二百兆瓦数据中心托管租约，合同总价值约五十五亿美元。</p>", 6) + `</article></body></html>`)
		w.Header().Set("Content-Type", "text/html; charset=gbk")
		w.Write([]byte(body))
	case p == "/challenge":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><div id="challenge-body">Checking your browser before accessing the site.</div><script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1?ray=1"></script><form id="challenge-form" action="/?__cf_chl_f_tk=abc"></form></body></html>`)
	case p == "/captcha":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><head><title>Security check</title></head><body><p>Please verify you are human to continue reading our coverage of data center leases and megawatt deals.</p><div class="g-recaptcha" data-sitekey="x"></div>`+strings.Repeat("<p>Why am I seeing this page? Our systems detected unusual traffic from your network. Please complete the check.</p>", 3)+`</body></html>`)
	case p == "/consent":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><head><title>Before you continue</title></head><body><h1>Before you continue</h1><p>We value your privacy. We and our partners use cookies and data to deliver and maintain services, measure audience engagement and show personalised ads.</p><button>Accept all cookies</button><button>Reject all</button><p>Select More options to see additional information, including details about managing your privacy settings.</p></body></html>`)
	case p == "/empty":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><head><title>Loading</title><script>`+strings.Repeat("var x=1;", 200)+`</script></head><body><div id="root"></div></body></html>`)
	case p == "/report.pdf":
		w.Header().Set("Content-Type", "application/pdf")
		w.Write([]byte("%PDF-1.4 " + strings.Repeat("y", 4000)))
	default:
		http.NotFound(w, r)
	}
}

// conditional serves body with an ETag and answers a matching If-None-Match with 304.
func (s *Site) conditional(w http.ResponseWriter, r *http.Request, contentType string, body []byte) {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Write(body)
}

func (s *Site) feed(i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>feed %d</title>`, i)
	for a := i; a < s.Articles; a += s.Feeds {
		fmt.Fprintf(&b, "<item><title>Story %d</title><link>%s?utm_source=rss&amp;utm_campaign=f%d</link><pubDate>Fri, 02 Jan 2026 10:00:00 +0000</pubDate></item>", a, s.ArticleURL(a), i)
	}
	b.WriteString("</channel></rss>")
	return b.String()
}

// page renders an article of our own words about a (real, public) kind of deal.
func page(canonical, title string, i int, extra string) string {
	mw := 50 + i%400
	var b strings.Builder
	fmt.Fprintf(&b, `<!doctype html><html><head><meta charset="utf-8"><title>%s</title><link rel="canonical" href="%s"><meta property="og:title" content="%s"></head><body><header><nav>Home | Mining | AI</nav></header><article><h1>%s</h1>`,
		html.EscapeString(title), html.EscapeString(canonical), html.EscapeString(title), html.EscapeString(title))
	fmt.Fprintf(&b, "<p>Test Operator %d said on Monday it had signed a %d MW colocation lease with a hyperscaler for its campus in Texas.</p>", i, mw)
	fmt.Fprintf(&b, "<p>The ten-year agreement is worth about $%d million, the company said, or roughly $1.5 million per MW per year.</p>", mw*15)
	b.WriteString("<p>Bitcoin miners have been converting their sites to high-performance computing as AI cloud demand grows and hashprice falls.</p>")
	b.WriteString("<p>The lessee will pay for power and maintenance under a triple-net structure, according to the filing.</p>")
	if extra != "" {
		fmt.Fprintf(&b, "<p>%s</p>", html.EscapeString(extra))
	}
	b.WriteString(`</article><footer>© Test News</footer></body></html>`)
	return b.String()
}
