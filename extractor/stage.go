package extractor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

// StageConfig configures the extractor stage.
type StageConfig struct {
	// IdleExit, when positive, ends the stage once no article arrived for that
	// long (batch runs and tests). Default 0: run until the context ends.
	IdleExit time.Duration
	// BatchSize is the most articles read, extracted, published and committed
	// together. Default 64.
	BatchSize int
	// Linger bounds how long a partial batch waits for more articles. Default 10ms.
	Linger time.Duration
	// Workers extract the articles of a batch in parallel. Default GOMAXPROCS.
	Workers int
	// ArticleTimeout bounds the extraction of one article: past it the article
	// goes to the dead-letter topic with the reason "timeout" and the stage
	// moves on (a hostile page must not hold the partition). Default 30s.
	ArticleTimeout time.Duration
	// Extract replaces the Extractor's own Extract (tests put a slow one here).
	// Default: the Extractor's.
	Extract func(ctx context.Context, a schemas.Article) ([]schemas.Contract, error)
	// Log receives the stage's logs. Default: discard.
	Log *slog.Logger
}

func (c StageConfig) withDefaults() StageConfig {
	if c.BatchSize <= 0 {
		c.BatchSize = 64
	}
	if c.Linger <= 0 {
		c.Linger = 10 * time.Millisecond
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.ArticleTimeout <= 0 {
		c.ArticleTimeout = DefaultArticleTimeout
	}
	return c
}

// DefaultArticleTimeout is StageConfig.ArticleTimeout's default.
const DefaultArticleTimeout = 30 * time.Second

// StageStats counts what the stage did.
type StageStats struct {
	Articles, Contracts, DeadLetters int
}

// RunStage consumes articles and publishes their contracts, a batch at a time
// through stream.Run: the articles of a batch are extracted in parallel, their
// contracts and dead letters published in one call, and the articles committed
// only after the bus acknowledged everything they produced. A batch is one
// article when they arrive one by one (it waits only Linger for more).
func (x *Extractor) RunStage(ctx context.Context, in stream.Consumer, out stream.Publisher, cfg StageConfig) (StageStats, error) {
	cfg = cfg.withDefaults()
	if cfg.Extract == nil {
		cfg.Extract = x.Extract
	}
	// At most 2×Workers extractions run at once, counting those abandoned at
	// their deadline that have not returned yet: an extractor that ignores its
	// context slows the stage down rather than piling up work.
	running := make(chan struct{}, 2*cfg.Workers)
	rs, err := stream.Run(ctx, in, out, stream.RunnerConfig{Stage: "extract", BatchSize: cfg.BatchSize, Linger: cfg.Linger,
		IdleExit: cfg.IdleExit, Log: cfg.Log}, func(ctx context.Context, batch []stream.Message) ([]stream.Message, []error, error) {
		return extractBatch(ctx, batch, cfg, running)
	})
	st := StageStats{Articles: rs.Messages, Contracts: rs.Published, DeadLetters: rs.DeadLetters}
	if err != nil && ctx.Err() != nil {
		return st, nil // stopping: the batch is not committed and comes again
	}
	return st, err
}

// extractBatch extracts the articles of a batch on cfg.Workers goroutines. An
// article that cannot be extracted gets a permanent error (it is dead-lettered).
func extractBatch(ctx context.Context, batch []stream.Message, cfg StageConfig, running chan struct{}) ([]stream.Message, []error, error) {
	type result struct {
		contracts []schemas.Contract
		err       error
	}
	results := make([]result, len(batch))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(cfg.Workers, len(batch)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(batch); i = int(next.Add(1) - 1) {
				results[i].contracts, results[i].err = processMessage(ctx, batch[i], cfg, running)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		// Stopping (SIGTERM): what was cut short is not the articles' fault;
		// nothing is dead-lettered or committed.
		return nil, nil, err
	}
	var msgs []stream.Message
	errs := make([]error, len(batch))
	for i, r := range results {
		if r.err != nil {
			var se *stream.StageError
			if !errors.As(r.err, &se) {
				r.err = stream.Permanent("extract", "error", r.err)
			}
			errs[i] = r.err
			continue
		}
		for _, c := range r.contracts {
			v, err := json.Marshal(c)
			if err != nil {
				return nil, nil, fmt.Errorf("encoding contract %s: %w", c.ID, err)
			}
			msgs = append(msgs, stream.Message{Topic: schemas.TopicContracts, Key: []byte(c.ID), Value: v,
				Headers: map[string]string{schemas.FieldExtractorVersion: Version}})
		}
	}
	return msgs, errs, nil
}

// processMessage decodes, checks and extracts one article message.
func processMessage(ctx context.Context, msg stream.Message, cfg StageConfig, running chan struct{}) ([]schemas.Contract, error) {
	a, err := stream.Decode[schemas.Article]("extract", schemas.ArticleSchema, msg.Value)
	if err != nil {
		return nil, err
	}
	cs, err := extractWithin(ctx, a, cfg, running)
	if err == nil && (strings.HasPrefix(a.URL, "http://") || strings.HasPrefix(a.URL, "https://")) {
		// Where the page really came from: the record's url may be the
		// canonical the page named; authority comes from this one.
		for i := range cs {
			cs[i].Source.FetchedURL = a.URL
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, errArticleTimeout) {
			return nil, stream.Permanent("extract", "timeout", err)
		}
		if errors.Is(err, errExtractPanic) {
			cfg.Log.Error("extractor panicked; the article goes to the dead-letter topic", "url", a.CanonicalURL, "err", err)
			return nil, stream.Permanent("extract", "extractor_panic", err)
		}
		reason := "unreadable_html"
		switch {
		case errors.Is(err, ErrTooLarge):
			reason = "too_large"
		case errors.Is(err, ErrNotHTML):
			reason = "not_html"
		case errors.Is(err, ErrEmpty):
			reason = "empty"
		}
		return nil, stream.Permanent("extract", reason, err)
	}
	return cs, nil
}

var errArticleTimeout = errors.New("extraction took longer than the article deadline")

var errExtractPanic = errors.New("the extractor panicked on this article")

// panicSite is the few innermost frames of a recovered panic's stack below
// the runtime's own: enough to find the bug, not the whole stack.
func panicSite() string {
	lines := strings.Split(string(debug.Stack()), "\n")
	var out []string
	for i := 0; i+1 < len(lines) && len(out) < 12; i++ {
		if strings.HasPrefix(lines[i], "runtime/") || strings.HasPrefix(lines[i], "panic(") || strings.Contains(lines[i], "debug.Stack") ||
			strings.Contains(lines[i], "extractor.panicSite") || strings.HasPrefix(lines[i], "goroutine ") {
			i++ // the function line and its file line
			continue
		}
		out = append(out, strings.TrimSpace(lines[i]))
	}
	return strings.Join(out, "\n")
}

// extractWithin runs cfg.Extract under the article deadline. The extractor
// checks its context; should it not, the stage stops waiting at the deadline
// anyway, and the extraction's slot in running is given back only when it
// returns.
func extractWithin(ctx context.Context, a schemas.Article, cfg StageConfig, running chan struct{}) ([]schemas.Contract, error) {
	select {
	case running <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	actx, cancel := context.WithTimeout(ctx, cfg.ArticleTimeout)
	type answer struct {
		cs  []schemas.Contract
		err error
	}
	done := make(chan answer, 1)
	start := time.Now()
	go func() {
		defer func() { <-running }()
		defer cancel()
		defer func() {
			// A bug the article's text triggers must not take the stage down
			// (and, uncommitted, again after every restart): the article is a
			// dead letter with the panic and where it happened.
			if p := recover(); p != nil {
				done <- answer{nil, fmt.Errorf("%w: %v\n%s", errExtractPanic, p, panicSite())}
			}
		}()
		cs, err := cfg.Extract(actx, a)
		done <- answer{cs, err}
		if d := time.Since(start); d > cfg.ArticleTimeout {
			cfg.Log.Warn("extraction returned after its deadline", "url", a.CanonicalURL, "took", d.Round(time.Millisecond), "deadline", cfg.ArticleTimeout)
		}
	}()
	answered := func(r answer) ([]schemas.Contract, error) {
		if r.err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w (%s): %s", errArticleTimeout, cfg.ArticleTimeout, a.CanonicalURL)
		}
		return r.cs, r.err
	}
	select {
	case r := <-done:
		return answered(r)
	case <-actx.Done():
		// The extraction's own end cancels actx too, after it has answered:
		// both cases can be ready at once, and select picks either. An
		// answer that is there wins; only a silent extraction timed out.
		select {
		case r := <-done:
			return answered(r)
		default:
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w (%s): %s", errArticleTimeout, cfg.ArticleTimeout, a.CanonicalURL)
	}
}
