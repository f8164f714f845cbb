package crawler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

const edgarUA = "Northwind Research Ltd ledger-tests@northwind.example"

func edgarSources(t *testing.T, extra string) []Source {
	t.Helper()
	srcs, err := ParseSources("edgar.yaml", []byte(`sources:
  - name: sec-filings
    kind: edgar
    edgar:
      user_agent: "`+edgarUA+`"
      tickers: [IREN]
      ciks: ["9990002"]
      forms: [8-K, 6-K]
      requests_per_second: 10
      base_url: http://www.sec.gov
`+extra))
	if err != nil {
		t.Fatal(err)
	}
	return srcs
}

// drain returns the articles published to mem, closing the topic.
func drain(t *testing.T, mem *stream.Memory) []schemas.Article {
	t.Helper()
	mem.CloseTopic(schemas.TopicArticles)
	c := mem.Consumer(schemas.TopicArticles)
	var out []schemas.Article
	for {
		m, err := c.Fetch(context.Background())
		if errors.Is(err, stream.ErrClosed) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := schemas.Validate("article.schema.json", m.Value); err != nil {
			t.Errorf("%s: %v", m.Key, err)
		}
		var a schemas.Article
		if err := json.Unmarshal(m.Value, &a); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
}

// TestEdgarSource crawls a local EDGAR-shaped site: the feeds of a company
// named by ticker and one by CIK, their filing indexes, the main documents
// and the EX-99 exhibits (not the other exhibits, graphics or forms), each
// published once with its filing, every request with the configured
// User-Agent and at most 10 in any second; a second pass fetches only the
// feeds.
func TestEdgarSource(t *testing.T) {
	site := testkit.NewEdgarSite()
	defer site.Close()
	st := NewMemoryState()
	mem := stream.NewMemory()
	cfg := Config{Dial: site.Dial, State: st, Tickers: map[string]string{"IREN": "IREN"}}
	c := New(cfg, mem, nil)
	srcs := edgarSources(t, "")
	if err := c.Crawl(context.Background(), srcs); err != nil {
		t.Fatal(err)
	}
	arts := drain(t, mem)
	type doc struct{ url, form, date, acc, typ, cik string }
	var got []doc
	for _, a := range arts {
		if a.Filing == nil {
			t.Errorf("%s: no filing", a.URL)
			continue
		}
		got = append(got, doc{a.URL, a.Filing.FormType, a.Filing.FilingDate, a.Filing.AccessionNumber, a.Filing.DocumentType, a.Filing.CIK})
	}
	sort.Slice(got, func(i, j int) bool { return got[i].url < got[j].url })
	base := "http://www.sec.gov/Archives/edgar/data/"
	want := []doc{
		{base + "9990001/000999000125000041/ex991.htm", "8-K", "2025-11-03", "0009990001-25-000041", "EX-99.1", "0009990001"},
		{base + "9990001/000999000125000041/ex992.htm", "8-K", "2025-11-03", "0009990001-25-000041", "EX-99.2", "0009990001"},
		{base + "9990001/000999000125000041/iren-20251103.htm", "8-K", "2025-11-03", "0009990001-25-000041", "8-K", "0009990001"},
		{base + "9990001/000999000125000043/ex991a.htm", "8-K/A", "2025-11-10", "0009990001-25-000043", "EX-99.1", "0009990001"},
		{base + "9990001/000999000125000043/iren-8ka.htm", "8-K/A", "2025-11-10", "0009990001-25-000043", "8-K/A", "0009990001"},
		{base + "9990002/000999000225000007/nw-ex991.htm", "6-K", "2025-09-15", "0009990002-25-000007", "EX-99.1", "0009990002"},
		{base + "9990002/000999000225000007/nw6k.htm", "6-K", "2025-09-15", "0009990002-25-000007", "6-K", "0009990002"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("published:\n%v\nwant:\n%v\nstats %+v", strings.ReplaceAll(fmt.Sprint(got), "} {", "}\n{"), strings.ReplaceAll(fmt.Sprint(want), "} {", "}\n{"), c.Stats())
	}
	reqs := site.Requests()
	for _, r := range reqs {
		if r.UserAgent != edgarUA {
			t.Errorf("%s sent User-Agent %q", r.Path, r.UserAgent)
		}
		if strings.Contains(r.Path, "ex101") || strings.Contains(r.Path, "logo.jpg") || strings.Contains(r.Path, "sc13g") || strings.Contains(r.Path, "000039-index") {
			t.Errorf("fetched %s, which is not wanted", r.Path)
		}
	}
	checkRate(t, reqs, 10)
	if r := site.Refused(); len(r) > 0 {
		t.Errorf("dialled %v", r)
	}
	if c.Stats().Skipped["other_form"] == 0 {
		t.Errorf("the SC 13G of the feed was not skipped: %v", c.Stats().Skipped)
	}

	// Filings do not change: the second pass reads the feeds and nothing else.
	before := len(reqs)
	mem2 := stream.NewMemory()
	c2 := New(cfg, mem2, nil)
	if err := c2.Crawl(context.Background(), srcs); err != nil {
		t.Fatal(err)
	}
	if again := drain(t, mem2); len(again) != 0 {
		t.Errorf("second pass published %d articles", len(again))
	}
	for _, r := range site.Requests()[before:] {
		if !strings.HasPrefix(r.Path, "/cgi-bin/browse-edgar?") && r.Path != "/robots.txt" {
			t.Errorf("second pass fetched %s", r.Path)
		}
	}
}

// checkRate: no window of one second holds more than rps request starts.
func checkRate(t *testing.T, reqs []testkit.EdgarRequest, rps int) {
	t.Helper()
	at := make([]time.Time, len(reqs))
	for i, r := range reqs {
		at[i] = r.At
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	for i := 0; i+rps < len(at); i++ {
		// Arrivals jitter around the paced starts (spaced 5% wider than
		// 1/rps); on a loaded machine by a few dozen milliseconds.
		if d := at[i+rps].Sub(at[i]); d < time.Second-40*time.Millisecond {
			t.Errorf("%d requests within %s (requests %d to %d)", rps+1, d, i, i+rps)
		}
	}
	t.Logf("%d requests in %s", len(at), at[len(at)-1].Sub(at[0]).Round(time.Millisecond))
}

// TestEdgarTwoSourcesShareTheLimit: two EDGAR sources crawled at once stay
// within one limit together.
func TestEdgarTwoSourcesShareTheLimit(t *testing.T) {
	site := testkit.NewEdgarSite()
	defer site.Close()
	srcs := edgarSources(t, `  - name: sec-filings-2
    kind: edgar
    edgar:
      user_agent: "`+edgarUA+`"
      ciks: ["9990001"]
      forms: [8-K]
      requests_per_second: 10
      base_url: http://www.sec.gov
`)
	c := New(Config{Dial: site.Dial, Tickers: map[string]string{"IREN": "IREN"}}, stream.NewMemory(), nil)
	if err := c.Crawl(context.Background(), srcs); err != nil {
		t.Fatal(err)
	}
	checkRate(t, site.Requests(), 10)
}

func TestEdgarSourceValidation(t *testing.T) {
	src := func(edgar string) string {
		return "sources:\n  - name: sec\n    kind: edgar\n    edgar:\n" + edgar
	}
	tests := []struct {
		name, yaml, errContains string
	}{
		{"no user agent", src("      ciks: [\"1\"]\n"), "user_agent: required"},
		{"no address", src("      user_agent: Northwind Research\n      ciks: [\"1\"]\n"), "no contact e-mail"},
		{"address only", src("      user_agent: research@northwind.example\n      ciks: [\"1\"]\n"), "names no organisation"},
		{"no company", src("      user_agent: \"" + edgarUA + "\"\n"), "ciks or tickers"},
		{"bad cik", src("      user_agent: \"" + edgarUA + "\"\n      ciks: [\"12ab\"]\n"), "1 to 10 digits"},
		{"too fast", src("      user_agent: \"" + edgarUA + "\"\n      ciks: [\"1\"]\n      requests_per_second: 11\n"), "fair-access"},
		{"bad exhibit", src("      user_agent: \"" + edgarUA + "\"\n      ciks: [\"1\"]\n      exhibits: [\"99\"]\n"), "start with EX-"},
		{"feeds too", "sources:\n  - name: sec\n    kind: edgar\n    feeds: [\"https://www.sec.gov/x\"]\n    edgar:\n      user_agent: \"" + edgarUA + "\"\n      ciks: [\"1\"]\n", "takes no feeds"},
		{"no block", "sources:\n  - name: sec\n    kind: edgar\n", "needs an edgar block"},
		{"block without kind", "sources:\n  - name: sec\n    urls: [\"https://a.example/\"]\n    edgar:\n      ciks: [\"1\"]\n", "needs kind: edgar"},
		{"unknown kind", "sources:\n  - name: sec\n    kind: forum\n    urls: [\"https://a.example/\"]\n", "not a kind of source"},
		{"bad base", src("      user_agent: \"" + edgarUA + "\"\n      ciks: [\"1\"]\n      base_url: https://www.sec.gov/cgi-bin\n"), "scheme and host"},
		{"ok", src("      user_agent: \"" + edgarUA + "\"\n      tickers: [HUT, IREN]\n"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSources("s.yaml", []byte(tt.yaml))
			if tt.errContains == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("err %v, want %q", err, tt.errContains)
			}
		})
	}
	// A ticker outside the entities file is refused when the crawl starts.
	site := testkit.NewEdgarSite()
	defer site.Close()
	srcs := edgarSources(t, "")
	srcs[0].Edgar.Tickers = []string{"ZZZZ"}
	err := New(Config{Dial: site.Dial, Tickers: map[string]string{"IREN": "IREN"}}, stream.NewMemory(), nil).Crawl(context.Background(), srcs)
	if err == nil || !strings.Contains(err.Error(), "not in the entities file") {
		t.Fatalf("unknown ticker: %v", err)
	}
	if n := len(site.Requests()); n != 0 {
		t.Errorf("%d requests made for a refused source", n)
	}
}

// TestSourcesExampleEdgar: the commented EDGAR examples of
// sources.example.yaml are valid once uncommented, and name only tickers of
// the entities file.
func TestSourcesExampleEdgar(t *testing.T) {
	b, err := os.ReadFile("../sources.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(b), "# --- edgar example ---\n")
	block, _, ok2 := strings.Cut(block, "  # --- end ---")
	if !ok || !ok2 {
		t.Fatal("no edgar example block in sources.example.yaml")
	}
	var lines []string
	for _, l := range strings.Split(block, "\n") {
		l = strings.Replace(l, "  # ", "  ", 1)
		if strings.TrimSpace(l) == "#" {
			l = ""
		}
		lines = append(lines, l)
	}
	srcs, err := ParseSources("sources.example.yaml", []byte("sources:\n"+strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 2 {
		t.Fatalf("%d sources", len(srcs))
	}
	known := extractor.DefaultGazetteer().Tickers()
	for _, s := range srcs {
		if err := s.checkTickers(known); err != nil {
			t.Error(err)
		}
	}
}
