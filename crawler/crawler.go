package crawler

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/mwledger/mwledger/stream"
)

// Stats counts what a crawler did since New, over all sources.
type Stats struct {
	// Fetched counts responses received (feeds, sitemaps, listings and articles).
	Fetched int
	// Published counts articles published: first versions and new versions.
	Published int
	// Updated counts the new versions of known articles among Published.
	Updated int
	// Retries counts fetches repeated after 429 or 5xx.
	Retries int
	// Skipped counts known pages and links by reason (unchanged, not_modified,
	// duplicate, alias, fresh, too_old, no_keyword, no_content, redirect_duplicate).
	Skipped map[string]int
	// Rejected counts article pages that are not articles by reason (challenge,
	// captcha, consent_wall, empty, not_html, http_202): never published, not
	// recorded as seen, fetched again next pass.
	Rejected map[string]int
	// Failed counts failed fetches by reason (http_NNN, timeout, robots_txt,
	// too_large, too_large_decompressed, robots_txt_too_large,
	// robots_txt_timeout, robots_txt_error, content_encoding, private_address,
	// forbidden_port, redirect_loop, redirect_offsite, redirect_port,
	// redirect_private, too_many_redirects, rate_limited, publish, …).
	Failed map[string]int
	// Bytes counts response body bytes.
	Bytes int64
}

// Crawler fetches sources and publishes articles once per content: a seen-set
// (Config.State) keyed by canonical URL remembers what was published.
type Crawler struct {
	cfg    Config
	cfgErr error
	pub    stream.Publisher
	log    *slog.Logger

	mu    sync.Mutex
	stats Stats

	// keyLocks serialise the check-publish-record of one canonical URL, so that
	// the same story fetched under two URLs at once is published once.
	keyLocks [256]sync.Mutex

	// edgarPace spaces the requests of every EDGAR source (source_edgar.go).
	edgarMu   sync.Mutex
	edgarPace *serialPacer
}

// New returns a crawler that publishes to pub. A bad cfg is reported by Crawl and Run.
func New(cfg Config, pub stream.Publisher, log *slog.Logger) *Crawler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Crawler{cfg: cfg.withDefaults(), cfgErr: cfg.Validate(), pub: pub, log: log,
		stats: Stats{Skipped: map[string]int{}, Rejected: map[string]int{}, Failed: map[string]int{}}}
}

// Metrics returns the crawler's metrics (Config.Metrics or its own).
func (c *Crawler) Metrics() *Metrics { return c.cfg.Metrics }

// Stats returns a copy of the counters.
func (c *Crawler) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Skipped, s.Rejected, s.Failed = copyMap(c.stats.Skipped), copyMap(c.stats.Rejected), copyMap(c.stats.Failed)
	return s
}

func copyMap(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Event categories.
const (
	evSkipped  = "skipped"
	evRejected = "rejected"
	evFailed   = "failed"
)

// event counts one skipped, rejected or failed page of a source.
func (c *Crawler) event(source, category, reason string) {
	c.mu.Lock()
	switch category {
	case evSkipped:
		c.stats.Skipped[reason]++
	case evRejected:
		c.stats.Rejected[reason]++
	case evFailed:
		c.stats.Failed[reason]++
	}
	c.mu.Unlock()
	name := map[string]string{evSkipped: mSkipped, evRejected: mRejected, evFailed: mFailed}[category]
	c.cfg.Metrics.add(name, 1, "reason", reason, "source", source)
}

func (c *Crawler) fetched(source string, bytes int) {
	c.mu.Lock()
	c.stats.Fetched++
	c.stats.Bytes += int64(bytes)
	c.mu.Unlock()
	c.cfg.Metrics.add(mFetched, 1, "source", source)
	c.cfg.Metrics.add(mBytes, float64(bytes), "source", source)
}

func (c *Crawler) published(source string, updated bool, latency time.Duration) {
	c.mu.Lock()
	c.stats.Published++
	if updated {
		c.stats.Updated++
	}
	c.mu.Unlock()
	c.cfg.Metrics.add(mPublished, 1, "source", source)
	c.cfg.Metrics.observe(mPublishLat, latency)
}

func (c *Crawler) retried(source string) {
	c.mu.Lock()
	c.stats.Retries++
	c.mu.Unlock()
	c.cfg.Metrics.add(mRetries, 1, "source", source)
}

func (c *Crawler) lockKey(key string) func() {
	h := fnv.New32a()
	h.Write([]byte(key))
	m := &c.keyLocks[h.Sum32()%uint32(len(c.keyLocks))]
	m.Lock()
	return m.Unlock
}

// Crawl makes one pass over the sources (Config.SourceParallelism at a time) and
// returns when every page was fetched and every article published, or ctx
// ended. Pages already fetched when ctx ends are still published. A publish
// that fails after retries is an error: that source's pass stops rather than
// lose the article, which is not recorded and comes again next pass.
func (c *Crawler) Crawl(ctx context.Context, sources []Source) error {
	if c.cfgErr != nil {
		return c.cfgErr
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, c.cfg.SourceParallelism)
	)
	for _, s := range sources {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			if err := c.crawlSource(ctx, s); err != nil && ctx.Err() == nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("source %s: %w", s.Name, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// Run crawls every source again and again, each after its own Interval
// (default: defaultInterval), until ctx ends. A failed pass is logged and
// retried at the next interval. It returns nil when ctx ends.
func (c *Crawler) Run(ctx context.Context, sources []Source, defaultInterval time.Duration) error {
	if c.cfgErr != nil {
		return c.cfgErr
	}
	if defaultInterval <= 0 {
		return fmt.Errorf("crawler: interval must be positive, got %s", defaultInterval)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, c.cfg.SourceParallelism)
	for _, s := range sources {
		every := s.Interval.Duration
		if every == 0 {
			every = defaultInterval
		}
		wg.Go(func() {
			for {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return
				}
				err := c.crawlSource(ctx, s)
				<-sem
				if err != nil && ctx.Err() == nil {
					c.log.Error("pass failed, retrying at the next interval", "source", s.Name, "err", err, "interval", every)
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(every):
				}
			}
		})
	}
	wg.Wait()
	return nil
}
