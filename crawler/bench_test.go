package crawler

import (
	"context"
	"testing"
	"time"

	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/stream"
)

// BenchmarkCrawl crawls a generated loopback site of 1,000 articles over 10
// feeds into the in-process bus with politeness off (1ns delay, 16 requests at
// once) and a fresh seen-set each time; it reports pages/s.
//
//	go test -run '^$' -bench Crawl -benchtime 5x ./crawler/
func BenchmarkCrawl(b *testing.B) {
	const articles = 1000
	site := testkit.NewSite(testkit.SiteOptions{Articles: articles, Feeds: 10})
	defer site.Close()
	src := Source{Name: "bench", Feeds: site.FeedURLs(), Delay: Duration{time.Nanosecond}, Parallelism: 16}
	pages := 0
	start := time.Now()
	for b.Loop() {
		mem := stream.NewMemory()
		c := New(Config{Dial: site.Dial}, mem, nil)
		if err := c.Crawl(context.Background(), []Source{src}); err != nil {
			b.Fatal(err)
		}
		st := c.Stats()
		if st.Published != articles {
			b.Fatalf("published %d, want %d (%+v)", st.Published, articles, st)
		}
		pages += st.Fetched
	}
	b.ReportMetric(float64(pages)/time.Since(start).Seconds(), "pages/s")
}
