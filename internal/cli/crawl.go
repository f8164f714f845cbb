package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/mwledger/mwledger/crawler"
	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/internal/statedb"
	"github.com/mwledger/mwledger/stream/kafka"
)

func runCrawl(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "crawl", "--sources FILE [--once] [--state FILE] [--metrics-addr HOST:PORT]")
	sources := fs.String("sources", envOr("MWLEDGER_SOURCES", ""), "sources file (YAML, see sources.example.yaml) (env MWLEDGER_SOURCES)")
	once := fs.Bool("once", false, "make one pass over the sources and exit")
	interval := fs.Duration("interval", 15*time.Minute, "time between passes over a source that sets no interval of its own (when not --once)")
	state := fs.String("state", envOr("MWLEDGER_CRAWL_STATE", ""), "seen-set file (SQLite) that survives restarts: what was published, with content hashes and validators (env MWLEDGER_CRAWL_STATE; default ~/.local/share/mwledger/crawl-state/<Kafka cluster id>.db, so that a new cluster starts from an empty seen-set)")
	progress := fs.Duration("progress", 5*time.Second, "with --once, print a progress line this often (0 = only at the end)")
	ua := fs.String("user-agent", envOr("MWLEDGER_USER_AGENT", ""), "User-Agent header (default mwledger/0.1 …)")
	timeout := fs.Duration("timeout", 30*time.Second, "timeout of one request")
	maxBody := fs.Int("max-body", 10<<20, "largest page, feed or sitemap in bytes, counted after decompression; larger ones are refused and counted, never truncated")
	attempts := fs.Int("max-attempts", 3, "fetches of one URL in a pass when the server answers 429 or 5xx (Retry-After honoured)")
	minText := fs.Int("min-text", 200, "least visible text of an article page in bytes; shorter pages are rejected as empty (a source's min_text_bytes overrides it)")
	var sf serviceFlags
	sf.register(fs, false)
	var mf metricsFlags
	mf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *sources == "" {
		fs.Usage()
		return usageError{"crawl: --sources is required"}
	}
	if !*once && *interval <= 0 {
		return usageError{"crawl: --interval must be positive"}
	}
	srcs, err := crawler.LoadSources(*sources)
	if err != nil {
		return err
	}
	cfg := sf.kafkaConfig()
	if err := ensureTopics(ctx, cfg); err != nil {
		return err
	}
	if *state == "" {
		if *state, err = defaultCrawlState(ctx, cfg.Brokers); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(*state), 0o755); err != nil {
		return fmt.Errorf("creating the directory of the crawl state: %w", err)
	}
	st, err := statedb.OpenCrawlState(*state, e.log)
	if err != nil {
		return err
	}
	defer st.Close()
	pub, err := kafka.NewPublisher(cfg)
	if err != nil {
		return err
	}
	defer pub.Close()
	metrics := crawler.NewMetrics()
	reg, stopMetrics, err := mf.start(e)
	if err != nil {
		return err
	}
	defer stopMetrics()
	reg.MustRegister(metrics)
	c := crawler.New(crawler.Config{UserAgent: *ua, Timeout: *timeout, MaxBodyBytes: *maxBody, MaxAttempts: *attempts, MinTextBytes: *minText, State: st, Metrics: metrics,
		Tickers: extractor.DefaultGazetteer().Tickers()}, pub, e.log)
	if !*once {
		e.log.Info("crawler started", "sources", len(srcs), "interval", *interval, "state", *state, "kafka", sf.kafka)
		err := c.Run(ctx, srcs, *interval)
		printCrawlStats(e.stderr, c.Stats(), 0)
		return err
	}
	start := time.Now()
	done := make(chan struct{})
	if *progress > 0 {
		go func() {
			t := time.NewTicker(*progress)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					printCrawlStats(e.stderr, c.Stats(), time.Since(start))
				}
			}
		}()
	}
	err = c.Crawl(ctx, srcs)
	close(done)
	printCrawlStats(e.stderr, c.Stats(), time.Since(start))
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// printCrawlStats writes the progress line of a crawl.
func printCrawlStats(w io.Writer, st crawler.Stats, elapsed time.Duration) {
	rate := ""
	if elapsed > 0 {
		rate = fmt.Sprintf(" in %s (%.1f pages/s)", elapsed.Round(time.Millisecond), float64(st.Fetched)/elapsed.Seconds())
	}
	fmt.Fprintf(w, "crawl: %d fetched (%.1f MB), %d published (%d new versions), %d retries; skipped %v; rejected %v; failed %v%s\n",
		st.Fetched, float64(st.Bytes)/1e6, st.Published, st.Updated, st.Retries, st.Skipped, st.Rejected, st.Failed, rate)
}

// defaultCrawlState names the seen-set after the Kafka cluster it describes: a
// new (or wiped) cluster has a new id and so starts from an empty seen-set
// instead of skipping articles its topic never held.
func defaultCrawlState(ctx context.Context, brokers []string) (string, error) {
	client := &kafkago.Client{Addr: kafkago.TCP(brokers...), Timeout: 10 * time.Second}
	md, err := client.Metadata(ctx, &kafkago.MetadataRequest{})
	if err != nil {
		return "", fmt.Errorf("reading the Kafka cluster id to name the crawl state (or give --state): %w", err)
	}
	id := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, md.ClusterID)
	if id == "" {
		id = "default"
	}
	dir, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory for the crawl state (give --state): %w", err)
	}
	return filepath.Join(dir, ".local", "share", "mwledger", "crawl-state", id+".db"), nil
}
