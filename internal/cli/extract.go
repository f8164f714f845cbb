package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/internal/app"
	"github.com/mwledger/mwledger/internal/metrics"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
	"github.com/mwledger/mwledger/stream/kafka"
)

func runExtract(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "extract", "FILE... | --consume")
	consume := fs.Bool("consume", false, "run the extractor stage: read mwledger.articles from Kafka, publish to mwledger.contracts")
	group := fs.String("group", "mwledger-extractor", "Kafka consumer group (with --consume)")
	var stage extractor.StageConfig
	fs.IntVar(&stage.BatchSize, "batch", 64, "with --consume: most articles extracted, published and committed together")
	fs.IntVar(&stage.Workers, "workers", 0, "with --consume: articles extracted in parallel (default: the number of CPUs)")
	fs.DurationVar(&stage.ArticleTimeout, "article-timeout", extractor.DefaultArticleTimeout, "with --consume: longest extraction of one article; past it the article is a dead letter (reason timeout)")
	var sf serviceFlags
	sf.register(fs, false)
	var mf metricsFlags
	mf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	x, err := extractor.New()
	if err != nil {
		return err
	}
	if *consume {
		if fs.NArg() > 0 {
			return usageError{"extract: give files or --consume, not both"}
		}
		return consumeArticles(ctx, e, x, sf, mf, *group, stage)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return usageError{"extract: no files given"}
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	failed := 0
	for _, path := range fs.Args() {
		cs, err := extractFile(ctx, x, path)
		if err != nil {
			fmt.Fprintf(e.stderr, "mwledger extract: %s: %v\n", path, err)
			failed++
			continue
		}
		for _, c := range cs {
			if err := enc.Encode(c); err != nil {
				return err
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d file(s) could not be read", failed, fs.NArg())
	}
	return nil
}

// extractFile reads a saved page. Its URL is the page's rel=canonical, else the file path.
func extractFile(ctx context.Context, x *extractor.Extractor, path string) ([]schemas.Contract, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	page, err := extractor.ReadHTML(body, "")
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	url := page.Canonical
	if url == "" {
		abs, _ := filepath.Abs(path)
		url = "file://" + abs
	}
	return x.FromPage(page, url), nil
}

func consumeArticles(ctx context.Context, e *env, x *extractor.Extractor, sf serviceFlags, mf metricsFlags, group string, stage extractor.StageConfig) error {
	reg, stopMetrics, err := mf.start(e)
	if err != nil {
		return err
	}
	defer stopMetrics()
	sm := metrics.NewStage(reg)
	sm.Init("extract")
	ctx = stream.WithObserver(ctx, sm)
	e.log.Info("extractor stage started", "kafka", sf.kafka, "group", group, "topic", schemas.TopicArticles)
	stage.IdleExit, stage.Log = sf.idleExit, e.log
	st, err := app.Extract(ctx, sf.kafkaConfig(), x, group, stage)
	e.log.Info("extractor stage stopped", "articles", st.Articles, "contracts", st.Contracts, "dead_letters", st.DeadLetters)
	return err
}

// ensureTopics is app.EnsureTopics.
func ensureTopics(ctx context.Context, cfg kafka.Config) error { return app.EnsureTopics(ctx, cfg) }
