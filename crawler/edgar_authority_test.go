package crawler_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/mwledger/mwledger/crawler"
	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/indexer"
	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/ledger/bolt"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

// TestEdgarFilingAuthority runs the exhibits of the local EDGAR-shaped site
// through the extractor and the indexer: the deal of the press release
// (EX-99.1) is in the ledger with the authority of a filing, which the
// indexer gives it because the page was fetched from sec.gov.
func TestEdgarFilingAuthority(t *testing.T) {
	site := testkit.NewEdgarSite()
	defer site.Close()
	srcs, err := crawler.ParseSources("edgar.yaml", []byte(`sources:
  - name: sec-filings
    kind: edgar
    edgar:
      user_agent: "Northwind Research Ltd ledger-tests@northwind.example"
      tickers: [IREN]
      forms: [8-K]
      requests_per_second: 10
      base_url: http://www.sec.gov
`))
	if err != nil {
		t.Fatal(err)
	}
	store, err := bolt.Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	x, err := extractor.New()
	if err != nil {
		t.Fatal(err)
	}
	mem := stream.NewMemory()
	ctx := context.Background()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer mem.CloseTopic(schemas.TopicArticles)
		return crawler.New(crawler.Config{Dial: site.Dial, Tickers: map[string]string{"IREN": "IREN"}}, mem, nil).Crawl(gctx, srcs)
	})
	g.Go(func() error {
		defer mem.CloseTopic(schemas.TopicContracts)
		_, err := x.RunStage(gctx, mem.Consumer(schemas.TopicArticles), mem, extractor.StageConfig{})
		return err
	})
	g.Go(func() error {
		_, err := indexer.RunStage(gctx, mem.Consumer(schemas.TopicContracts), store, mem, indexer.StageConfig{})
		return err
	})
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	res, err := store.Search(ctx, ledger.Query{Size: 50})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range res.Deals {
		for _, s := range d.Sources {
			if !strings.HasPrefix(s.URL, "http://www.sec.gov/") {
				t.Errorf("source %s is not the fetched filing", s.URL)
			}
			if s.Authority != ledger.AuthorityFiling {
				t.Errorf("%s: authority %d (%s), want a filing's", s.URL, s.Authority, s.AuthorityReason)
			}
			if strings.HasSuffix(s.URL, "/ex991.htm") && d.Operator.Name == "IREN" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no IREN deal from the EX-99.1 press release among %d deals: %+v", len(res.Deals), res.Deals)
	}
}
