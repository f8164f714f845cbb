package extractor_test

import (
	"io/fs"
	"testing"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/fixtures"
)

// BenchmarkExtractFixtures reads and extracts every fixture page once per
// iteration: run with -cpu 1 for the per-core figure (make bench).
func BenchmarkExtractFixtures(b *testing.B) {
	b.Run("all", func(b *testing.B) { benchExtract(b, 0) })
	// The full pages with navigation, ads and teasers (25–40 KB): the "typical
	// 30 KB page" of the target.
	b.Run("pages>=20KB", func(b *testing.B) { benchExtract(b, 20<<10) })
}

func benchExtract(b *testing.B, minSize int) {
	x, err := extractor.New()
	if err != nil {
		b.Fatal(err)
	}
	var pages [][]byte
	total := 0
	for _, name := range fixtures.Cases() {
		body, err := fs.ReadFile(fixtures.FS(), name+".html")
		if err != nil {
			b.Fatal(err)
		}
		if len(body) < minSize {
			continue
		}
		pages = append(pages, body)
		total += len(body)
	}
	// Warm the models outside the timer.
	if p, err := extractor.ReadHTML(pages[0], ""); err == nil {
		x.FromPage(p, "")
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, body := range pages {
			p, err := extractor.ReadHTML(body, "")
			if err != nil {
				b.Fatal(err)
			}
			x.FromPage(p, "")
		}
	}
	b.ReportMetric(float64(len(pages)*b.N)/b.Elapsed().Seconds(), "articles/s")
	b.ReportMetric(float64(total)/float64(len(pages)), "bytes/article")
}
