package crawler

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/stream"
)

// gzipBomb is a gzip stream of about inflated/1000 bytes that inflates to
// inflated zero bytes: one member of 1 MiB of zeros, repeated (a reader
// inflates every member of a multi-member stream).
func gzipBomb(t testing.TB, inflated int64) []byte {
	t.Helper()
	var member bytes.Buffer
	z, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	z.Write(make([]byte, 1<<20))
	z.Close()
	return bytes.Repeat(member.Bytes(), int(inflated>>20))
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	z.Write([]byte(s))
	z.Close()
	return b.Bytes()
}

// allocated runs f and returns the bytes the process allocated meanwhile: an
// upper bound of what f held at any time.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// bombSite serves 1 GiB decompression bombs as a gzip-encoded page, a
// gzip-encoded feed and a .xml.gz sitemap (no Content-Encoding), next to a
// gzip-encoded article and a .xml.gz sitemap that fit; robots serves robots.txt.
func bombSite(t *testing.T, bomb []byte, robots http.HandlerFunc) *httptest.Server {
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/robots.txt", robots)
	encoded := func(ct string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", ct)
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(body)
		}
	}
	mux.HandleFunc("/bomb.html", encoded("text/html", bomb))
	mux.HandleFunc("/bomb-feed.xml", encoded("application/rss+xml", bomb))
	mux.HandleFunc("/bomb-sitemap.xml.gz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-gzip")
		w.Write(bomb)
	})
	mux.HandleFunc("/ok-sitemap.xml.gz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-gzip")
		w.Write(gzipped(fmt.Sprintf(`<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>%[1]s/ok.html</loc></url><url><loc>%[1]s/bomb.html</loc></url></urlset>`, srv.URL)))
	})
	mux.HandleFunc("/ok.html", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gzipped(strings.Replace(articleHTML("ok"), `href="https://news.example/ok"`, `href="`+srv.URL+`/ok.html"`, 1)))
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestDecompressionBombs: 1 GiB bombs served as a gzip page, a gzip feed, a
// .xml.gz sitemap and robots.txt are refused after at most the configured
// limit was inflated: the crawl allocates less than 64 MiB in total and ends
// within 10 s, counts each by reason, and still publishes the gzip article
// that fits.
func TestDecompressionBombs(t *testing.T) {
	const gib = 1 << 30
	bomb := gzipBomb(t, gib)
	const allocCap = 64 << 20

	t.Run("pages feeds sitemaps", func(t *testing.T) {
		srv := bombSite(t, bomb, func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "User-agent: *\nAllow: /\n") })
		mem := stream.NewMemory()
		c := New(Config{MaxBodyBytes: 1 << 20}, mem, nil)
		src := Source{Name: "bombs", AllowPrivate: true, Delay: Duration{time.Millisecond}, Parallelism: 2,
			Feeds:    []string{srv.URL + "/bomb-feed.xml"},
			Sitemaps: []string{srv.URL + "/bomb-sitemap.xml.gz", srv.URL + "/ok-sitemap.xml.gz"}}
		start := time.Now()
		var err error
		n := allocated(func() { err = c.Crawl(context.Background(), []Source{src}) })
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("crawl took %s, want < 10s", d)
		}
		if n > allocCap {
			t.Errorf("crawl allocated %d MiB, want < %d MiB (the bombs inflate to 1 GiB each)", n>>20, allocCap>>20)
		}
		st := c.Stats()
		if got := st.Failed["too_large_decompressed"]; got != 3 {
			t.Errorf("failed %v; want too_large_decompressed 3 (page, feed, sitemap)", st.Failed)
		}
		if v := c.Metrics().Value(mFailed, "reason", "too_large_decompressed", "source", "bombs"); v != 3 {
			t.Errorf("metric %s{reason=too_large_decompressed} = %v, want 3", mFailed, v)
		}
		got := published(t, mem)
		if _, ok := got[srv.URL+"/ok.html"]; !ok || len(got) != 1 {
			t.Errorf("published %v; want only the gzip article that fits", keys(got))
		}
		if a := got[srv.URL+"/ok.html"]; a.URL != "" {
			body, _ := a.Body()
			if !bytes.Contains(body, []byte("<article>")) {
				t.Errorf("the gzip article was published undecoded: %.60q", body)
			}
		}
	})

	t.Run("robots.txt bomb", func(t *testing.T) {
		srv := bombSite(t, bomb, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb)
		})
		mem := stream.NewMemory()
		c := New(Config{MaxBodyBytes: 100000}, mem, nil)
		src := Source{Name: "robots", AllowPrivate: true, Delay: Duration{time.Millisecond}, URLs: []string{srv.URL + "/ok.html"}}
		start := time.Now()
		n := allocated(func() { _ = c.Crawl(context.Background(), []Source{src}) })
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("crawl took %s, want < 10s", d)
		}
		if n > allocCap {
			t.Errorf("crawl allocated %d MiB, want < %d MiB (robots.txt inflates to 1 GiB)", n>>20, allocCap>>20)
		}
		if st := c.Stats(); st.Failed["robots_txt_too_large"] != 1 || st.Fetched != 0 {
			t.Errorf("stats %+v; want robots_txt_too_large 1 and nothing fetched", st)
		}
		if got := published(t, mem); len(got) != 0 {
			t.Errorf("published %v without reading robots.txt", keys(got))
		}
	})

	t.Run("robots.txt that never ends", func(t *testing.T) {
		srv := bombSite(t, bomb, func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "User-agent: *\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done() // drips nothing more until the crawler hangs up
		})
		mem := stream.NewMemory()
		c := New(Config{RobotsTimeout: 300 * time.Millisecond}, mem, nil)
		src := Source{Name: "slow", AllowPrivate: true, Delay: Duration{time.Millisecond}, URLs: []string{srv.URL + "/ok.html"}}
		start := time.Now()
		_ = c.Crawl(context.Background(), []Source{src})
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("crawl took %s with a robots.txt timeout of 300ms, want < 3s", d)
		}
		if st := c.Stats(); st.Failed["robots_txt_timeout"] != 1 {
			t.Errorf("failed %v; want robots_txt_timeout 1", st.Failed)
		}
	})
}

// TestBodyLimitExact: a body of exactly the limit passes, one byte more is
// refused, whether it came compressed or not.
func TestBodyLimitExact(t *testing.T) {
	const limit = 1000
	for _, tc := range []struct {
		name    string
		n       int
		gzip    bool
		wantErr string
	}{
		{"plain at the limit", limit, false, ""},
		{"plain over", limit + 1, false, "too_large"},
		{"gzip at the limit", limit, true, ""},
		{"gzip over", limit + 1, true, "too_large_decompressed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(strings.Repeat("a", tc.n))
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tc.gzip {
					w.Header().Set("Content-Encoding", "gzip")
					w.Write(gzipped(string(body)))
					return
				}
				w.Write(body)
			}))
			defer srv.Close()
			tr := &limitTransport{base: &http.Transport{DisableCompression: true}, maxBody: limit, maxRobots: limit, robotsTimeout: time.Second}
			resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/x")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got bytes.Buffer
			_, err = got.ReadFrom(resp.Body)
			switch {
			case tc.wantErr == "" && (err != nil || got.Len() != tc.n):
				t.Errorf("read %d bytes, err %v; want %d, no error", got.Len(), err, tc.n)
			case tc.wantErr != "" && limitReason(err) != tc.wantErr:
				t.Errorf("err %v (reason %q); want reason %s", err, limitReason(err), tc.wantErr)
			case got.Len() > limit:
				t.Errorf("delivered %d bytes over a limit of %d", got.Len(), limit)
			}
		})
	}
}
