package backfill

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mwledger/mwledger/internal/warc/warctest"
	"github.com/mwledger/mwledger/stream"
)

// benchFile writes a CC-NEWS-like WARC file: per page a request, a response
// and a metadata record, one gzip member each; pages of 20–80 KB of prose,
// one in fifty about a deal.
func benchFile(b *testing.B, pages int) (string, int) {
	path := filepath.Join(b.TempDir(), "bench.warc.gz")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(21, 22))
	deals := 0
	f.Write(warctest.Member(warctest.Warcinfo(day)))
	for p := range pages {
		u := fmt.Sprintf("https://outlet%d.example/story/%d", p%40, p)
		size := 20000 + rng.IntN(60000)
		body := warctest.Page(rng, u, "<p>Local news of the week.</p>", size)
		if p%50 == 0 {
			body = warctest.Page(rng, u, dealText, size)
			deals++
		}
		for _, r := range [][]byte{warctest.Request(u, day), warctest.Response(u, day, "text/html; charset=utf-8", body), warctest.Metadata(u, day)} {
			f.Write(warctest.Member(r))
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path, deals
}

type discard struct{}

func (discard) Publish(context.Context, ...stream.Message) error { return nil }

// BenchmarkBackfillVsGzip reads one generated file with a plain multistream
// gzip reader to io.Discard, then backfills it (to a publisher that drops
// the articles), in the same run, and reports both in MB/s of compressed
// input. Run it on one core:
//
//	go test ./internal/backfill -run '^$' -bench BackfillVsGzip -cpu 1 -benchtime 3x
func BenchmarkBackfillVsGzip(b *testing.B) {
	path, deals := benchFile(b, 1500)
	st, _ := os.Stat(path)
	size := float64(st.Size())
	// The machine is shared: the best of the runs of each is the figure.
	gzipTime, backfillTime := time.Duration(1<<62), time.Duration(1<<62)
	var published int64
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		f, _ := os.Open(path)
		zr, err := gzip.NewReader(f)
		if err != nil {
			b.Fatal(err)
		}
		inflated, err := io.Copy(io.Discard, zr)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
		gzipTime = min(gzipTime, time.Since(start))
		if i == 0 {
			b.Logf("file: %.1f MB compressed, %.1f MB inflated, %d deals", size/1e6, float64(inflated)/1e6, deals)
		}

		state, err := OpenState(filepath.Join(b.TempDir(), fmt.Sprintf("state-%d.db", i)), nil)
		if err != nil {
			b.Fatal(err)
		}
		bf, _ := New(Config{State: state}, discard{})
		start = time.Now()
		if err := bf.Run(context.Background(), []string{path}); err != nil {
			b.Fatal(err)
		}
		backfillTime = min(backfillTime, time.Since(start))
		published = bf.Stats().Published
		state.Close()
	}
	gz := size / gzipTime.Seconds() / 1e6
	bf := size / backfillTime.Seconds() / 1e6
	b.ReportMetric(gz, "gzip-MB/s")
	b.ReportMetric(bf, "backfill-MB/s")
	b.ReportMetric(bf/gz, "ratio")
	b.Logf("best of %d: backfill %.1f MB/s beside raw gzip %.1f MB/s of the same file (%.2f of it); %d of %d deals published", b.N, bf, gz, bf/gz, published, deals)
	if published != int64(deals) {
		b.Errorf("published %d, want %d", published, deals)
	}
}
