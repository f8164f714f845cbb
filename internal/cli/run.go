package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mwledger/mwledger/crawler"
	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/fixtures"
	"github.com/mwledger/mwledger/internal/app"
	"github.com/mwledger/mwledger/internal/statedb"
	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/stream"
)

func runRun(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "run", "[--sources FILE [--state FILE]] [--ledger FILE]")
	sourcesFile := fs.String("sources", "", "sources file to crawl (default: the bundled fixture articles, served on a loopback address)")
	ledgerPath := fs.String("ledger", defaultLedger(), "embedded ledger file (env MWLEDGER_LEDGER)")
	state := fs.String("state", "", "crawl seen-set file with --sources: what was published, with validators for conditional GETs (default: <ledger>.crawl-state.db; the bundled fixtures are crawled without one)")
	limit := fs.Int("limit", 100, "deals to print")
	articleTimeout := fs.Duration("article-timeout", extractor.DefaultArticleTimeout, "longest extraction of one article; past it the article is a dead letter (reason timeout)")
	var af alertFlags
	af.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var sources []crawler.Source
	var crawlCfg crawler.Config
	if *sourcesFile != "" {
		s, err := crawler.LoadSources(*sourcesFile)
		if err != nil {
			return err
		}
		sources = s
	} else {
		site, err := testkit.StartFixtureSite(fixtures.FS(), fixtures.Cases())
		if err != nil {
			return err
		}
		defer site.Close()
		// Each article is fetched from the outlet its rel=canonical names (the
		// site answers to those names through its own dialer, on loopback), so
		// the crawler's provenance rules see what they would on the web.
		sources = []crawler.Source{{
			Name:           "bundled-fixtures",
			Feeds:          []string{site.HostedFeedURL()},
			AllowedDomains: site.Hosts(),
			Delay:          crawler.Duration{Duration: time.Millisecond},
			Parallelism:    4,
		}}
		crawlCfg.Dial = site.Dial
		fmt.Fprintf(e.stderr, "serving %d bundled fixture articles at %s\n", len(fixtures.Cases()), site.URL)
	}
	if *state == "" && *sourcesFile != "" {
		*state = *ledgerPath + ".crawl-state.db"
	}
	if *state != "" {
		// A run over a sources file remembers what it published, as `mwledger
		// crawl` does: the next run fetches with conditional GETs and
		// publishes only new and changed articles.
		if err := os.MkdirAll(filepath.Dir(*state), 0o755); err != nil {
			return fmt.Errorf("creating the directory of the crawl state: %w", err)
		}
		st, err := statedb.OpenCrawlState(*state, e.log)
		if err != nil {
			return err
		}
		defer st.Close()
		crawlCfg.State = st
	}
	if err := os.MkdirAll(filepath.Dir(*ledgerPath), 0o755); err != nil {
		return fmt.Errorf("creating ledger directory: %w", err)
	}
	store, err := app.OpenLedger(*ledgerPath)
	if err != nil {
		return err
	}
	defer store.Close()
	policy, disp, err := af.setup(e, store)
	if err != nil {
		return err
	}
	x, err := extractor.New()
	if err != nil {
		return err
	}

	// The same three stages as in production, joined by an in-process bus.
	start := time.Now()
	var cst crawler.Stats
	// With a crawl state, an article counts as published (and is recorded)
	// only once it is in the ledger: a killed run loses nothing it recorded.
	var ack *app.IndexedBus
	if crawlCfg.State != nil {
		ack = app.NewIndexedBus()
		crawlCfg.PublishTimeout = 10 * time.Minute
	}
	st, err := app.Embedded{Store: store, Extractor: x, Extract: extractor.StageConfig{ArticleTimeout: *articleTimeout},
		Policy: policy, Dispatcher: disp, Drain: af.drainOrNone(), AckBus: ack, Log: e.log}.Run(ctx, func(ctx context.Context, pub stream.Publisher) error {
		c := crawler.New(crawlCfg, pub, e.log)
		err := c.Crawl(ctx, sources)
		cst = c.Stats()
		return err
	})
	if err != nil {
		return err
	}
	xst, ist := st.Extract, st.Index
	fmt.Fprintf(e.stderr, "crawled %d page(s), published %d article(s); extracted %d contract record(s); indexed %d; dead letters %d; %s\n",
		cst.Fetched, cst.Published, xst.Contracts, ist.Indexed, xst.DeadLetters+ist.DeadLetters, time.Since(start).Round(time.Millisecond))
	if n := len(cst.Failed); n > 0 {
		fmt.Fprintf(e.stderr, "fetch failures by reason: %v\n", cst.Failed)
	}
	fmt.Fprintf(e.stderr, "ledger: %s (search it with `mwledger search --ledger %s`)\n\n", *ledgerPath, *ledgerPath)
	res, err := store.Search(ctx, ledger.Query{Size: *limit})
	if err != nil {
		return err
	}
	printTable(e.stdout, res)
	return nil
}
