// Package fixturesite serves saved articles as a small news site on a loopback
// address: an RSS feed, a paginated listing, robots.txt and one page per article.
// `mwledger run` crawls it to show the pipeline with no network; tests crawl it too.
package fixturesite

import (
	"fmt"
	"html"
	"io/fs"
	"net"
	"net/http"
	"strings"
)

// Site is a running fixture site.
type Site struct {
	URL    string // http://127.0.0.1:PORT
	server *http.Server
	ln     net.Listener
	cases  []string
}

// PerPage is the number of links on one listing page.
const PerPage = 10

// Start serves the named cases (file <case>.html in fsys) on 127.0.0.1.
func Start(fsys fs.FS, cases []string) (*Site, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting fixture site: %w", err)
	}
	s := &Site{URL: "http://" + ln.Addr().String(), ln: ln, cases: cases}
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
	s.server = &http.Server{Handler: mux}
	go s.server.Serve(ln)
	return s, nil
}

func (s *Site) has(name string) bool {
	for _, c := range s.cases {
		if c == name {
			return true
		}
	}
	return false
}

// ArticleURL is the address of one case.
func (s *Site) ArticleURL(name string) string { return s.URL + "/articles/" + name }

// Close stops the server.
func (s *Site) Close() error { return s.server.Close() }

func (s *Site) feed(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/rss+xml")
	fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>fixtures</title>`)
	for _, c := range s.cases {
		fmt.Fprintf(w, "<item><title>%s</title><link>%s</link></item>", html.EscapeString(c), html.EscapeString(s.ArticleURL(c)))
	}
	fmt.Fprint(w, "</channel></rss>")
}

func (s *Site) listing(w http.ResponseWriter, r *http.Request) {
	page := 1
	fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/news/"), "%d", &page)
	if page < 1 {
		page = 1
	}
	from := (page - 1) * PerPage
	if from >= len(s.cases) && page > 1 {
		http.NotFound(w, r)
		return
	}
	to := min(from+PerPage, len(s.cases))
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
