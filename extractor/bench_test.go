package extractor_test

import (
	"fmt"
	"io/fs"
	"strings"
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

// BenchmarkRepeatedDealPage extracts a page that repeats one deal sentence to
// 1 MB and 9 MB (the hostile page of the safety target: time must stay linear,
// 9 MB under 5 s on one core) and a page of 1 MB of distinct deal sentences.
func BenchmarkRepeatedDealPage(b *testing.B) {
	x, err := extractor.New()
	if err != nil {
		b.Fatal(err)
	}
	const para = "<p>Quillon Data signed a twelve-year lease with Marlow Compute covering 75 MW of critical IT load, worth $1.4 billion.</p>\n"
	for _, size := range []int{1 << 20, 9 << 20} {
		page := "<html><body><article>" + strings.Repeat(para, size/len(para)) + "</article></body></html>"
		b.Run(fmt.Sprintf("repeated-%dMB", size>>20), func(b *testing.B) { benchPage(b, x, page) })
	}
	var sb strings.Builder
	sb.WriteString("<html><body><article>")
	for i := 0; sb.Len() < 1<<20; i++ {
		fmt.Fprintf(&sb, "<p>Quillon Data signed a %d-year lease with Marlow Compute %d covering %d MW, worth $%d million.</p>\n", 5+i%20, i, 10+i%300, 100+i)
	}
	sb.WriteString("</article></body></html>")
	b.Run("distinct-1MB", func(b *testing.B) { benchPage(b, x, sb.String()) })
}

func benchPage(b *testing.B, x *extractor.Extractor, page string) {
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		p, err := extractor.ReadHTML([]byte(page), "")
		if err != nil {
			b.Fatal(err)
		}
		x.FromPage(p, "")
	}
}
