package crawler

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gocolly/colly/v2"
	"golang.org/x/net/html/charset"

	"github.com/mwledger/mwledger/internal/bus"
	"github.com/mwledger/mwledger/internal/pipeline"
	"github.com/mwledger/mwledger/schemas"
)

// Stats counts what a crawl did.
type Stats struct {
	Fetched   int
	Published int
	Skipped   map[string]int // by reason
	Failed    map[string]int // by reason
	Bytes     int64
}

func (s *Stats) skip(reason string) { s.Skipped[reason]++ }
func (s *Stats) fail(reason string) { s.Failed[reason]++ }

// Crawler fetches sources and publishes articles.
type Crawler struct {
	cfg Config
	pub bus.Publisher
	log *slog.Logger

	mu    sync.Mutex
	stats Stats
}

// New returns a crawler that publishes to pub.
func New(cfg Config, pub bus.Publisher, log *slog.Logger) *Crawler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Crawler{cfg: cfg.withDefaults(), pub: pub, log: log,
		stats: Stats{Skipped: map[string]int{}, Failed: map[string]int{}}}
}

// Stats returns a copy of the counters.
func (c *Crawler) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Skipped, s.Failed = map[string]int{}, map[string]int{}
	for k, v := range c.stats.Skipped {
		s.Skipped[k] = v
	}
	for k, v := range c.stats.Failed {
		s.Failed[k] = v
	}
	return s
}

func (c *Crawler) count(f func(*Stats)) {
	c.mu.Lock()
	f(&c.stats)
	c.mu.Unlock()
}

// Crawl makes one pass over the sources and returns when every page was fetched
// and every article published, or ctx ended. A publish that fails after retries
// is an error: the crawl stops rather than lose the article.
func (c *Crawler) Crawl(ctx context.Context, sources []Source) error {
	var errs []error
	for _, s := range sources {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := c.crawlSource(ctx, s); err != nil {
			errs = append(errs, fmt.Errorf("source %s: %w", s.Name, err))
		}
	}
	return errors.Join(errs...)
}

const (
	kindFeed    = "feed"
	kindListing = "listing"
	kindArticle = "article"
)

func (c *Crawler) crawlSource(ctx context.Context, s Source) error {
	if err := s.Validate(); err != nil {
		return err
	}
	col := colly.NewCollector(
		colly.AllowedDomains(s.domains()...),
		colly.UserAgent(c.cfg.UserAgent),
		// One byte over the limit tells a truncated body from one that fits exactly.
		colly.MaxBodySize(c.cfg.MaxBodyBytes+1),
		colly.Async(true),
		colly.StdlibContext(ctx),
		colly.ParseHTTPErrorResponse(),
	)
	col.IgnoreRobotsTxt = false // colly's default ignores robots.txt
	col.WithTransport(&http.Transport{
		DialContext:           guardedDialer(c.cfg.Dial, s.AllowPrivate),
		ResponseHeaderTimeout: c.cfg.Timeout,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConnsPerHost:   4,
	})
	col.SetRequestTimeout(c.cfg.Timeout)
	delay := s.Delay.Duration
	if delay == 0 {
		delay = time.Second
	}
	par := s.Parallelism
	if par == 0 {
		par = 2
	}
	if err := col.Limit(&colly.LimitRule{DomainGlob: "*", Parallelism: par, Delay: delay}); err != nil {
		return fmt.Errorf("limit rule: %w", err)
	}

	var (
		pubErr  error
		pubOnce sync.Once
	)
	// visit queues a link found on a page with its own request context.
	visit := func(from *colly.Request, link, kind string) {
		abs := from.AbsoluteURL(link)
		if abs == "" {
			return
		}
		canon, err := Canonical(abs)
		if err != nil {
			return
		}
		rctx := colly.NewContext()
		rctx.Put("kind", kind)
		var seen *colly.AlreadyVisitedError
		if err := col.Request("GET", canon, nil, rctx, nil); err != nil && !errors.As(err, &seen) {
			c.count(func(st *Stats) { st.fail(visitReason(err)) })
			c.log.Warn("not fetched", "url", canon, "err", err, "source", s.Name)
		}
	}
	col.OnResponse(func(r *colly.Response) {
		c.count(func(st *Stats) { st.Fetched++; st.Bytes += int64(len(r.Body)) })
		kind := r.Ctx.Get("kind")
		if r.StatusCode >= 400 {
			c.count(func(st *Stats) { st.fail(fmt.Sprintf("http_%d", r.StatusCode)) })
			c.log.Warn("fetch failed", "url", r.Request.URL.String(), "status", r.StatusCode, "source", s.Name)
			return
		}
		if len(r.Body) > c.cfg.MaxBodyBytes {
			c.count(func(st *Stats) { st.fail("too_large") })
			c.log.Warn("page larger than the limit, not published", "url", r.Request.URL.String(), "limit", c.cfg.MaxBodyBytes, "source", s.Name)
			return
		}
		switch kind {
		case kindFeed:
			links, err := feedLinks(r.Body)
			if err != nil {
				c.count(func(st *Stats) { st.fail("bad_feed") })
				c.log.Warn("unreadable feed", "url", r.Request.URL.String(), "err", err)
				return
			}
			for _, l := range links {
				visit(r.Request, l, kindArticle)
			}
		case kindArticle:
			if err := c.publishArticle(ctx, s, r); err != nil {
				pubOnce.Do(func() { pubErr = err })
			}
		}
	})
	for _, l := range s.Listings {
		l := l
		maxPages := l.MaxPages
		if maxPages == 0 {
			maxPages = 20
		}
		col.OnHTML(l.LinkSelector, func(e *colly.HTMLElement) {
			if e.Request.Ctx.Get("kind") == kindListing && e.Request.Ctx.Get("listing") == l.URL {
				visit(e.Request, e.Attr("href"), kindArticle)
			}
		})
		if l.NextSelector != "" {
			col.OnHTML(l.NextSelector, func(e *colly.HTMLElement) {
				if e.Request.Ctx.Get("kind") != kindListing || e.Request.Ctx.Get("listing") != l.URL {
					return
				}
				page := e.Request.Ctx.GetAny("page").(int)
				if page >= maxPages {
					return
				}
				ctx := colly.NewContext()
				ctx.Put("kind", kindListing)
				ctx.Put("listing", l.URL)
				ctx.Put("page", page+1)
				_ = col.Request("GET", e.Request.AbsoluteURL(e.Attr("href")), nil, ctx, nil)
			})
		}
	}
	col.OnError(func(r *colly.Response, err error) {
		reason := "fetch_error"
		var pa ErrPrivateAddress
		switch {
		case errors.As(err, &pa):
			reason = "private_address"
		case errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "timeout"):
			reason = "timeout"
		case strings.Contains(err.Error(), "Not following redirect"):
			reason = "redirect_refused"
		case errors.Is(err, colly.ErrRobotsTxtBlocked):
			reason = "robots_txt"
		}
		c.count(func(st *Stats) { st.fail(reason) })
		c.log.Warn("fetch failed", "url", r.Request.URL.String(), "reason", reason, "err", err, "source", s.Name)
	})

	start := func(u, kind string, extra map[string]any) {
		ctx := colly.NewContext()
		ctx.Put("kind", kind)
		for k, v := range extra {
			ctx.Put(k, v)
		}
		if err := col.Request("GET", u, nil, ctx, nil); err != nil {
			c.count(func(st *Stats) { st.fail(visitReason(err)) })
			c.log.Warn("not fetched", "url", u, "err", err, "source", s.Name)
		}
	}
	for _, u := range s.Feeds {
		start(u, kindFeed, nil)
	}
	for _, l := range s.Listings {
		start(l.URL, kindListing, map[string]any{"listing": l.URL, "page": 1})
	}
	for _, u := range s.URLs {
		start(u, kindArticle, nil)
	}
	col.Wait()
	if pubErr != nil {
		return pubErr
	}
	return ctx.Err()
}

func visitReason(err error) string {
	var pa ErrPrivateAddress
	switch {
	case errors.As(err, &pa):
		return "private_address"
	case errors.Is(err, colly.ErrRobotsTxtBlocked):
		return "robots_txt"
	case errors.Is(err, colly.ErrForbiddenDomain):
		return "forbidden_domain"
	}
	return "request_error"
}

// publishArticle builds the raw article message and publishes it synchronously.
func (c *Crawler) publishArticle(ctx context.Context, s Source, r *colly.Response) error {
	u := r.Request.URL.String()
	ct := r.Headers.Get("Content-Type")
	if ct != "" && !strings.Contains(ct, "html") && !strings.Contains(ct, "xml") {
		c.count(func(st *Stats) { st.skip("not_html") })
		return nil
	}
	if len(bytes.TrimSpace(r.Body)) < 200 {
		c.count(func(st *Stats) { st.skip("empty") })
		return nil
	}
	if len(s.Keywords) > 0 && !mentionsAny(r.Body, ct, s.Keywords) {
		c.count(func(st *Stats) { st.skip("no_keyword") })
		return nil
	}
	canon := canonicalOf(r.Body, u)
	sum := sha256.Sum256(r.Body)
	a := schemas.Article{
		SchemaVersion: schemas.Version,
		CanonicalURL:  canon,
		URL:           u,
		FetchedAt:     time.Now().UTC(),
		Status:        r.StatusCode,
		Headers:       keepHeaders(r.Headers),
		ContentHash:   "sha256:" + hex.EncodeToString(sum[:]),
		Source:        s.Name,
	}
	a.SetBody(r.Body)
	v, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encoding article %s: %w", u, err)
	}
	start := time.Now()
	msg := bus.Message{Topic: schemas.TopicArticles, Key: []byte(canon), Value: v, Headers: map[string]string{"source": s.Name}}
	backoff := pipeline.Backoff{Min: 200 * time.Millisecond, Max: 10 * time.Second}
	err = pipeline.Retry(ctx, &backoff, func(err error, wait time.Duration) {
		c.log.Warn("publish failed, retrying", "url", canon, "wait", wait, "err", err)
	}, func() error { return c.pub.Publish(ctx, msg) })
	if err != nil {
		c.count(func(st *Stats) { st.fail("publish") })
		return fmt.Errorf("publishing %s: %w", canon, err)
	}
	c.count(func(st *Stats) { st.Published++ })
	c.log.Debug("published", "url", canon, "bytes", len(r.Body), "latency", time.Since(start), "source", s.Name)
	return nil
}

var keptHeaders = []string{"Content-Type", "Last-Modified", "ETag", "Content-Language"}

func keepHeaders(h *http.Header) map[string]string {
	out := map[string]string{}
	for _, k := range keptHeaders {
		if v := h.Get(k); v != "" {
			out[k] = v
		}
	}
	return out
}

// canonicalOf honours <link rel="canonical"> when it points to an http(s) URL.
func canonicalOf(body []byte, fetched string) string {
	fallback, err := Canonical(fetched)
	if err != nil {
		fallback = fetched
	}
	head := body
	if i := bytes.Index(bytes.ToLower(head), []byte("</head>")); i > 0 {
		head = head[:i]
	}
	lower := bytes.ToLower(head)
	for off := 0; ; {
		i := bytes.Index(lower[off:], []byte("rel=\"canonical\""))
		if i < 0 {
			i = bytes.Index(lower[off:], []byte("rel='canonical'"))
		}
		if i < 0 {
			return fallback
		}
		i += off
		start := bytes.LastIndexByte(lower[:i], '<')
		end := bytes.IndexByte(lower[i:], '>')
		if start < 0 || end < 0 {
			return fallback
		}
		tag := string(head[start : i+end])
		if href := attr(tag, "href"); strings.HasPrefix(href, "http://") || strings.HasPrefix(href, "https://") {
			if c, err := Canonical(href); err == nil {
				return c
			}
		}
		off = i + end
	}
}

func attr(tag, name string) string {
	l := strings.ToLower(tag)
	i := strings.Index(l, name+"=")
	if i < 0 {
		return ""
	}
	v := tag[i+len(name)+1:]
	if v == "" {
		return ""
	}
	q := v[0]
	if q == '"' || q == '\'' {
		if j := strings.IndexByte(v[1:], q); j >= 0 {
			return v[1 : 1+j]
		}
		return ""
	}
	if j := strings.IndexAny(v, " >"); j >= 0 {
		return v[:j]
	}
	return v
}

// mentionsAny decodes the page and looks for any keyword.
func mentionsAny(body []byte, contentType string, keywords []string) bool {
	r, err := charset.NewReader(bytes.NewReader(body), contentType)
	if err != nil {
		return true // cannot tell: let the extractor decide
	}
	text, err := io.ReadAll(r)
	if err != nil {
		return true
	}
	lower := strings.ToLower(string(text))
	for _, k := range keywords {
		if strings.Contains(lower, strings.ToLower(k)) {
			return true
		}
	}
	return false
}

func charsetReader(label string, input io.Reader) (io.Reader, error) {
	return charset.NewReaderLabel(label, input)
}
