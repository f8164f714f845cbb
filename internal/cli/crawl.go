package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/mwledger/mwledger/crawler"
	"github.com/mwledger/mwledger/internal/bus"
)

func runCrawl(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "crawl", "--sources FILE [--once]")
	sources := fs.String("sources", envOr("MWLEDGER_SOURCES", ""), "sources file (YAML, see sources.example.yaml) (env MWLEDGER_SOURCES)")
	once := fs.Bool("once", false, "make one pass over the sources and exit")
	interval := fs.Duration("interval", 15*time.Minute, "time between passes when not --once")
	ua := fs.String("user-agent", envOr("MWLEDGER_USER_AGENT", ""), "User-Agent header (default mwledger/0.1 …)")
	timeout := fs.Duration("timeout", 30*time.Second, "timeout of one request")
	maxBody := fs.Int("max-body", 10<<20, "largest page in bytes; larger pages are refused and counted, never truncated")
	var sf serviceFlags
	sf.register(fs, false)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *sources == "" {
		fs.Usage()
		return usageError{"crawl: --sources is required"}
	}
	srcs, err := crawler.LoadSources(*sources)
	if err != nil {
		return err
	}
	cfg := sf.kafkaConfig()
	if err := ensureTopics(ctx, cfg); err != nil {
		return err
	}
	pub, err := bus.NewKafkaPublisher(cfg)
	if err != nil {
		return err
	}
	defer pub.Close()
	c := crawler.New(crawler.Config{UserAgent: *ua, Timeout: *timeout, MaxBodyBytes: *maxBody}, pub, e.log)
	for {
		start := time.Now()
		err := c.Crawl(ctx, srcs)
		st := c.Stats()
		fmt.Fprintf(e.stderr, "crawl: %d fetched, %d published, skipped %v, failed %v in %s\n",
			st.Fetched, st.Published, st.Skipped, st.Failed, time.Since(start).Round(time.Millisecond))
		if err != nil && ctx.Err() == nil {
			return err
		}
		if *once || ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*interval):
		}
	}
}
