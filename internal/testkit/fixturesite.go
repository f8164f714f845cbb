// FixtureSite: saved articles served as a small news site on a loopback
// address: an RSS feed, a paginated listing, robots.txt and one page per
// article. `mwledger run` crawls it to show the pipeline with no network;
// tests crawl it too.

package testkit

import (
	"context"
	"fmt"
	"html"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// Site is a running fixture site.
type FixtureSite struct {
	URL    string // http://127.0.0.1:PORT
	server *http.Server
	ln     net.Listener
	cases  []string
	// hosted maps "host/path" of a case's rel=canonical to the case: the site
	// also answers as each article's own outlet (see Dial), so that a crawl
	// fetches each page from the site its canonical names.
	hosted map[string]string
	home   map[string]string // case → http://host/path it is hosted at
}

// FixtureFeedHost is the host name of the hosted feed (HostedFeedURL).
const FixtureFeedHost = "fixtures.example"

var canonicalRe = regexp.MustCompile(`(?i)<link[^>]+rel=["']canonical["'][^>]*href=["'](https?://[^"']+)["']|<link[^>]+href=["'](https?://[^"']+)["'][^>]*rel=["']canonical["']`)

// FixturePerPage is the number of links on one listing page.
const FixturePerPage = 10

// Start serves the named cases (file <case>.html in fsys) on 127.0.0.1.
func StartFixtureSite(fsys fs.FS, cases []string) (*FixtureSite, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting fixture site: %w", err)
	}
	s := &FixtureSite{URL: "http://" + ln.Addr().String(), ln: ln, cases: cases, hosted: map[string]string{}, home: map[string]string{}}
	for _, c := range cases {
		key := FixtureFeedHost + "/articles/" + c // a case without a usable canonical
		if b, err := fs.ReadFile(fsys, c+".html"); err == nil {
			if m := canonicalRe.FindSubmatch(b); m != nil {
				u, err := url.Parse(html.UnescapeString(string(m[1]) + string(m[2])))
				if err == nil && u.Hostname() != "" && u.Port() == "" && net.ParseIP(u.Hostname()) == nil && u.RawQuery == "" {
					if k := strings.ToLower(u.Hostname()) + u.EscapedPath(); s.hosted[k] == "" {
						key = k
					}
				}
			}
		}
		s.hosted[key] = c
		s.home[c] = "http://" + key
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
	})
	mux.HandleFunc("/feed.xml", s.feed)
	mux.HandleFunc("/news/", s.listing)
	mux.HandleFunc("/articles/", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/articles/")
		if strings.Contains(name, "/") || !s.has(name) {
			http.NotFound(w, r)
			return
		}
		b, err := fs.ReadFile(fsys, name+".html")
		if err != nil {
			http.NotFound(w, r)
			return
		}
		// Pages carry their charset in a meta tag; send no charset of our own.
		w.Header().Set("Content-Type", "text/html")
		w.Write(b)
	})
	serveCase := func(w http.ResponseWriter, name string) {
		b, err := fs.ReadFile(fsys, name+".html")
		if err != nil {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.Write(b)
	}
	s.server = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := strings.ToLower(r.Host)
		if host == ln.Addr().String() || r.URL.Path == "/robots.txt" {
			mux.ServeHTTP(w, r)
			return
		}
		if host == FixtureFeedHost && r.URL.Path == "/feed.xml" {
			s.hostedFeed(w)
			return
		}
		if name, ok := s.hosted[host+r.URL.EscapedPath()]; ok {
			serveCase(w, name)
			return
		}
		http.NotFound(w, r)
	})}
	go s.server.Serve(ln)
	return s, nil
}

// Hosts are the host names the site answers to through Dial: FixtureFeedHost and
// every outlet a case's canonical names.
func (s *FixtureSite) Hosts() []string {
	seen := map[string]bool{FixtureFeedHost: true}
	out := []string{FixtureFeedHost} // first, then the outlets in order
	for key := range s.hosted {
		h, _, _ := strings.Cut(key, "/")
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	sort.Strings(out[1:])
	return out
}

// HostedFeedURL is an RSS feed of every case at the URL its canonical names
// (http, on the outlet's host), or on FixtureFeedHost for a case without one.
func (s *FixtureSite) HostedFeedURL() string { return "http://" + FixtureFeedHost + "/feed.xml" }

func (s *FixtureSite) hostedFeed(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/rss+xml")
	fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>fixtures</title>`)
	for _, c := range s.cases {
		u := s.home[c]
		fmt.Fprintf(w, "<item><title>%s</title><link>%s</link></item>", html.EscapeString(c), html.EscapeString(u))
	}
	fmt.Fprint(w, "</channel></rss>")
}

// Dial connects the site's host names (Hosts) on port 80 to its loopback
// listener and refuses every other address: a crawler given it as
// crawler.Config.Dial fetches each article from its own outlet's host, and
// never leaves 127.0.0.1.
func (s *FixtureSite) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err == nil && port == "80" {
		h := strings.ToLower(host)
		if h == FixtureFeedHost {
			return (&net.Dialer{}).DialContext(ctx, network, s.ln.Addr().String())
		}
		for key := range s.hosted {
			if strings.HasPrefix(key, h+"/") { // FixtureFeedHost included
				return (&net.Dialer{}).DialContext(ctx, network, s.ln.Addr().String())
			}
		}
	}
	return nil, fmt.Errorf("fixture site: %s is not one of its hosts: refused", addr)
}

func (s *FixtureSite) has(name string) bool {
	for _, c := range s.cases {
		if c == name {
			return true
		}
	}
	return false
}

// ArticleURL is the address of one case.
func (s *FixtureSite) ArticleURL(name string) string { return s.URL + "/articles/" + name }

// Close stops the server.
func (s *FixtureSite) Close() error { return s.server.Close() }

func (s *FixtureSite) feed(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/rss+xml")
	fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>fixtures</title>`)
	for _, c := range s.cases {
		fmt.Fprintf(w, "<item><title>%s</title><link>%s</link></item>", html.EscapeString(c), html.EscapeString(s.ArticleURL(c)))
	}
	fmt.Fprint(w, "</channel></rss>")
}

func (s *FixtureSite) listing(w http.ResponseWriter, r *http.Request) {
	page := 1
	fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/news/"), "%d", &page)
	if page < 1 {
		page = 1
	}
	from := (page - 1) * FixturePerPage
	if from >= len(s.cases) && page > 1 {
		http.NotFound(w, r)
		return
	}
	to := min(from+FixturePerPage, len(s.cases))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, "<html><body><ul>")
	for _, c := range s.cases[from:to] {
		fmt.Fprintf(w, `<li><a class="story" href="/articles/%s">%s</a></li>`, html.EscapeString(c), html.EscapeString(c))
	}
	fmt.Fprint(w, "</ul>")
	if to < len(s.cases) {
		fmt.Fprintf(w, `<a class="next" href="/news/%d">next</a>`, page+1)
	}
	fmt.Fprint(w, "</body></html>")
}
