package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/internal/app"
	"github.com/mwledger/mwledger/internal/warc/warctest"
	"github.com/mwledger/mwledger/ledger"
)

// dealParagraphs are deal announcements of our own invention over the
// companies of the entities file.
func dealParagraph(i int) (string, string) {
	ops := []string{"IREN", "Hut 8", "Cipher Mining", "TeraWulf", "Applied Digital", "Bitdeer"}
	custs := []string{"Microsoft", "Fluidstack", "CoreWeave", "Nebius", "Anthropic", "Oracle"}
	op, cust := ops[i%len(ops)], custs[(i/len(ops))%len(custs)]
	mw := 50 + 10*i
	years := 5 + i%6
	value := float64(mw) * float64(years) * 1.5 / 1000
	return op, fmt.Sprintf(`<p>%s said on Monday it has signed a %d-year colocation agreement with %s for %d MW of critical IT load at its campus in West Texas. The contract is worth about $%.2f billion over its term, the company said.</p>
<p>Construction of the first hall is under way and the remaining capacity is expected to be delivered in phases next year.</p>`, op, years, cust, mw, value)
}

// writeDealWARCs writes files WARC files of pages, dealsPer of them deals in
// each, and returns the number of deals.
func writeDealWARCs(t *testing.T, dir string, files, pages, dealsPer, size int) int {
	rng := rand.New(rand.NewPCG(5, 6))
	day := time.Date(2025, 2, 10, 14, 0, 0, 0, time.UTC)
	n := 0
	for fi := range files {
		f := &warctest.File{}
		f.Add(warctest.Warcinfo(day))
		for p := range pages {
			u := fmt.Sprintf("https://wire%d.example/news/%d-%d", fi, fi, p)
			var body []byte
			if p < dealsPer {
				_, para := dealParagraph(n)
				body = warctest.Page(rng, "Capacity agreement", para, size)
				n++
			} else {
				body = warctest.Page(rng, "Around town", "<p>The library extends its opening hours.</p>", size)
			}
			f.Add(warctest.Request(u, day), warctest.Response(u, day, "text/html; charset=utf-8", body), warctest.Metadata(u, day))
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("news-%02d.warc.gz", fi)), f.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// TestBackfillEmbedded backfills generated WARC files through the extractor
// and indexer into an embedded ledger, then again (nothing new).
func TestBackfillEmbedded(t *testing.T) {
	dir := t.TempDir()
	deals := writeDealWARCs(t, dir, 2, 30, 4, 3000)
	ledgerPath := filepath.Join(t.TempDir(), "ledger.db")
	var out, errb bytes.Buffer
	err := Run(context.Background(), []string{"backfill", "--embedded", "--ledger", ledgerPath, filepath.Join(dir, "*.warc.gz")}, strings.NewReader(""), &out, &errb)
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	t.Log(errb.String())
	if !strings.Contains(errb.String(), fmt.Sprintf("%d match(es), %d published", deals, deals)) {
		t.Errorf("stats:\n%s", errb.String())
	}
	store, err := app.OpenLedger(ledgerPath)
	if err != nil {
		t.Fatal(err)
	}
	res, err := store.Search(context.Background(), ledger.Query{Size: 100})
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res.Total < deals*3/4 {
		b, _ := json.MarshalIndent(res, "", " ")
		t.Errorf("%d deals in the ledger from %d deal pages:\n%.3000s", res.Total, deals, b)
	}
	for _, d := range res.Deals {
		if !strings.HasPrefix(d.Source.URL, "https://wire") {
			t.Errorf("deal source %q is not a WARC target URI", d.Source.URL)
		}
	}
	errb.Reset()
	if err := Run(context.Background(), []string{"backfill", "--embedded", "--ledger", ledgerPath, dir}, strings.NewReader(""), &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errb.String(), "2/2 file(s) (2 already read)") || !strings.Contains(errb.String(), "0 published") {
		t.Errorf("second run:\n%s", errb.String())
	}
}

func TestBackfillUsage(t *testing.T) {
	for _, tt := range []struct {
		args        []string
		errContains string
	}{
		{[]string{"backfill"}, "give WARC files"},
		{[]string{"backfill", "--embedded", "/nonexistent/x.warc.gz"}, "no WARC file"},
		{[]string{"backfill", "--embedded", "--keywords", "/nonexistent/kw.txt", "."}, "directory . holds no"},
	} {
		_, err := runCLI(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.errContains) {
			t.Errorf("%v: err %v, want %q", tt.args, err, tt.errContains)
		}
	}
}

// BenchmarkBackfillEmbedded backfills 2×300 generated pages of about 20 KB,
// 100 of them deals per file, through the extractor and indexer into an embedded ledger, and
// reports the deal pages extracted per second:
//
//	go test ./internal/cli -run '^$' -bench BackfillEmbedded -benchtime 1x
func BenchmarkBackfillEmbedded(b *testing.B) {
	t := &testing.T{}
	dir := b.TempDir()
	deals := writeDealWARCs(t, dir, 2, 300, 100, 20000)
	for i := 0; b.Loop(); i++ {
		ledgerPath := filepath.Join(b.TempDir(), fmt.Sprintf("ledger-%d.db", i))
		var out, errb bytes.Buffer
		start := time.Now()
		if err := Run(context.Background(), []string{"backfill", "--embedded", "--ledger", ledgerPath, dir}, strings.NewReader(""), &out, &errb); err != nil {
			b.Fatalf("%v\n%s", err, errb.String())
		}
		d := time.Since(start)
		b.ReportMetric(float64(deals)/d.Seconds(), "deal-pages/s")
		b.Logf("%d deal pages in %s, end to end:\n%s", deals, d.Round(time.Millisecond), errb.String())
	}
}
