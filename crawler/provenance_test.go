package crawler

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/stream"
)

// storyHTML is an article whose rel=canonical is canonical.
func storyHTML(canonical, title, body string) string {
	return fmt.Sprintf(`<html><head><title>%s</title><link rel="canonical" href="%s"></head><body><nav>Home | Markets</nav><article><h1>%s</h1><p>%s</p></article><footer>© Site</footer></body></html>`,
		title, canonical, title, strings.Repeat(body+" ", 4))
}

const (
	storyA = "Hut 8 signed a fifteen year lease with Fluidstack for 245 MW at its River Bend campus worth seven billion dollars."
	storyB = "Cipher Mining agreed a ten year colocation contract with Amazon Web Services covering 300 MW in Texas for five point five billion."
)

// TestCanonicalIsAClaim: provenance comes from where a page was fetched. A
// page naming sec.gov as its canonical is published under its own URL; a
// page naming another story of the same site, or the home page, is
// published as itself (the deal used to be dropped as a duplicate, or every
// page collapsed into one); an AMP copy of the same text is still a
// duplicate; a host the source vouches for (canonical_hosts) is honoured.
// The fetched URL travels with every article.
func TestCanonicalIsAClaim(t *testing.T) {
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "User-agent: *\nAllow: /\n") })
	page := func(canonical func() string, title, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, storyHTML(canonical(), title, body))
		}
	}
	self := func(p string) func() string { return func() string { return srv.URL + p } }
	fixed := func(u string) func() string { return func() string { return u } }
	mux.HandleFunc("/story-a", page(self("/story-a"), "A", storyA))
	mux.HandleFunc("/amp/story-a", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `<html amp><head><link rel="canonical" href="%s/story-a"></head><body><article><h1>A</h1><p>%s</p></article></body></html>`, srv.URL, strings.Repeat(storyA+" ", 4))
	})
	mux.HandleFunc("/story-b", page(self("/story-a"), "B", storyB)) // names story A: another story
	mux.HandleFunc("/filing", page(fixed("https://www.sec.gov/Archives/edgar/data/1/x.htm"), "F", storyB+" Filed."))
	mux.HandleFunc("/one", page(self("/"), "One", storyA+" One."))
	mux.HandleFunc("/two", page(self("/"), "Two", storyB+" Two."))
	mux.HandleFunc("/syndicated", page(fixed("https://partner.example/original"), "S", storyB+" Syndicated."))
	srv = httptest.NewServer(mux)
	defer srv.Close()

	// crawl fetches the groups of paths one group after the other (within a
	// group the order is the scheduler's) with one crawler and seen-set.
	crawl := func(t *testing.T, src Source, groups ...[]string) (*Crawler, *stream.Memory) {
		t.Helper()
		mem := stream.NewMemory()
		c := New(Config{}, mem, nil)
		src.Name, src.AllowPrivate, src.Delay, src.Parallelism = "prov", true, Duration{time.Millisecond}, 1
		for _, g := range groups {
			s := src
			s.URLs = nil
			for _, u := range g {
				s.URLs = append(s.URLs, srv.URL+u)
			}
			if err := c.Crawl(context.Background(), []Source{s}); err != nil {
				t.Fatal(err)
			}
		}
		return c, mem
	}

	t.Run("claims outside the site or of other stories", func(t *testing.T) {
		c, mem := crawl(t, Source{}, []string{"/story-a"}, []string{"/story-b", "/filing", "/one", "/two", "/syndicated"})
		got := published(t, mem)
		for _, p := range []string{"/story-a", "/story-b", "/filing", "/one", "/two", "/syndicated"} {
			a, ok := got[srv.URL+p]
			if !ok {
				t.Errorf("%s not published under its own URL; published %v", p, keys(got))
				continue
			}
			if a.URL != srv.URL+p {
				t.Errorf("%s: fetched URL %q not kept on the article", p, a.URL)
			}
		}
		for k := range got {
			if strings.Contains(k, "sec.gov") || strings.Contains(k, "partner.example") || k == srv.URL+"/" {
				t.Errorf("published under a claimed URL %s", k)
			}
		}
		if n := c.Stats().Skipped["duplicate"]; n != 0 {
			t.Errorf("%d page(s) dropped as duplicates", n)
		}
	})

	t.Run("story named before it is fetched", func(t *testing.T) {
		// B names A and comes first: it is published (under A's URL, the only
		// one known then); A itself, another text, is published too.
		_, mem := crawl(t, Source{}, []string{"/story-b"}, []string{"/story-a"})
		if n := mem.Len("mwledger.articles"); n != 2 {
			t.Errorf("%d articles published, want 2 (neither story lost)", n)
		}
	})

	t.Run("an AMP copy is still a duplicate", func(t *testing.T) {
		c, mem := crawl(t, Source{}, []string{"/story-a"}, []string{"/amp/story-a"})
		got := published(t, mem)
		if len(got) != 1 || c.Stats().Skipped["duplicate"] != 1 {
			t.Errorf("published %v, skipped %v; want story A once and its AMP copy a duplicate", keys(got), c.Stats().Skipped)
		}
	})

	t.Run("a vouched-for host", func(t *testing.T) {
		_, mem := crawl(t, Source{CanonicalHosts: []string{"*.example"}}, []string{"/syndicated"})
		got := published(t, mem)
		if a, ok := got["https://partner.example/original"]; !ok || a.URL != srv.URL+"/syndicated" {
			t.Errorf("published %v; want the partner's canonical, with the fetched URL kept", keys(got))
		}
	})
}

func TestTrustedCanonical(t *testing.T) {
	for _, tc := range []struct {
		claimed, fetched, want string
	}{
		{"https://news.example/a", "http://news.example/a?utm_source=x", "https://news.example/a"},
		{"https://news.example/a", "https://www.news.example/amp/a", "https://news.example/a"},
		{"https://www.news.example/a", "https://m.news.example/a", "https://www.news.example/a"},
		{"https://news.example/a", "https://news.example:8443/b", "https://news.example:8443/b"},
		{"https://www.sec.gov/x", "https://news.example/b", "https://news.example/b"},
		{"https://evilnews.example/a", "https://news.example/b", "https://news.example/b"},
		{"https://news.example/", "https://news.example/b", "https://news.example/b"},
		{"", "https://news.example/b", "https://news.example/b"},
	} {
		if got, _ := (Source{}).trustedCanonical(tc.claimed, tc.fetched); got != tc.want {
			t.Errorf("trustedCanonical(%q, %q) = %q, want %q", tc.claimed, tc.fetched, got, tc.want)
		}
	}
	if !textSimilar(textSketch([]byte("Nav "+storyA+" footer")), textSketch([]byte(storyA))) || textSimilar(textSketch([]byte(storyA)), textSketch([]byte(storyB))) {
		t.Error("text sketches: want the same story similar and two stories not")
	}
}
