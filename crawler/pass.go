package crawler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gocolly/colly/v2"
)

// pass is one crawl of one source.
type pass struct {
	c      *Crawler
	s      Source
	ctx    context.Context // ends when the crawl's context ends or a publish failed
	cancel context.CancelCauseFunc
	col    *colly.Collector
	pace   *pacer
	ports  map[int]bool // see Source.ports

	errOnce sync.Once
	err     error
}

func (p *pass) fail(err error) {
	p.errOnce.Do(func() { p.err = err })
	p.cancel(err)
}

func (c *Crawler) crawlSource(ctx context.Context, s Source) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if err := s.checkTickers(c.cfg.Tickers); err != nil {
		return err
	}
	start := time.Now()
	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	p := &pass{c: c, s: s, ctx: pctx, cancel: cancel, pace: newPacer(s), ports: s.ports()}
	col, err := c.newCollector(pctx, s)
	if err != nil {
		return err
	}
	p.col = col
	col.OnRequest(p.onRequest)
	col.OnResponseHeaders(p.onResponseHeaders)
	col.OnResponse(p.onResponse)
	col.OnError(p.onError)

	for _, u := range s.Feeds {
		p.request(u, newCtx(kindFeed))
	}
	for _, u := range s.Sitemaps {
		p.request(u, newCtx(kindSitemap, "depth", 1))
	}
	for _, l := range s.Listings {
		p.request(l.URL, newCtx(kindListing, "listing", l.URL, "page", 1))
	}
	for _, u := range s.URLs {
		p.visit(nil, Link{URL: u, Kind: kindArticle})
	}
	for _, u := range s.edgarFeeds() {
		p.request(u, newCtx(kindEdgarFeed))
	}
	col.Wait()

	result := "ok"
	err = p.err
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		result = "error"
	} else {
		c.cfg.Metrics.set(mLastSuccess, float64(time.Now().Unix()), "source", s.Name)
	}
	c.cfg.Metrics.add(mPasses, 1, "result", result, "source", s.Name)
	c.cfg.Metrics.set(mPassSeconds, time.Since(start).Seconds(), "source", s.Name)
	c.log.Info("pass over source done", "source", s.Name, "duration", time.Since(start).Round(time.Millisecond), "result", result)
	return err
}

// newCollector sets colly up for one source: robots.txt honoured, no silent
// truncation, the guarded dialer, no transcoding of bodies, redirects followed
// by the pass itself (see redirect) so that each hop is checked.
func (c *Crawler) newCollector(ctx context.Context, s Source) (*colly.Collector, error) {
	ua := c.cfg.UserAgent
	if s.Kind == KindEdgar {
		ua = strings.TrimSpace(s.Edgar.UserAgent) // the SEC's fair-access rules
	}
	col := colly.NewCollector(
		colly.AllowedDomains(s.domains()...),
		colly.UserAgent(ua),
		// One byte over the limit tells a truncated body from one that fits exactly.
		colly.MaxBodySize(c.cfg.MaxBodyBytes+1),
		colly.Async(true),
		colly.StdlibContext(ctx),
		colly.ParseHTTPErrorResponse(),
	)
	col.IgnoreRobotsTxt = false // colly's default ignores robots.txt
	par := s.Parallelism
	if par == 0 {
		par = 2
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	var transport http.RoundTripper = &limitTransport{
		base: &http.Transport{
			DialContext:           guardedDialer(c.cfg.Dial, s.AllowPrivate),
			ResponseHeaderTimeout: c.cfg.Timeout,
			TLSHandshakeTimeout:   10 * time.Second,
			MaxIdleConnsPerHost:   max(par, 4),
			ForceAttemptHTTP2:     true,
			DisableCompression:    true, // limitTransport asks for gzip and inflates it within the limit
		},
		maxBody:       int64(c.cfg.MaxBodyBytes),
		maxRobots:     int64(c.cfg.MaxRobotsBytes),
		robotsTimeout: c.cfg.RobotsTimeout,
		ctx:           ctx,
	}
	if s.Kind == KindEdgar {
		transport = &edgarTransport{base: transport, pace: c.edgarPacer(s.Edgar.withDefaults().RequestsPerSecond)}
	}
	col.SetClient(&http.Client{
		Jar:           jar,
		Transport:     transport,
		CheckRedirect: c.checkRedirect(s),
	})
	col.SetRequestTimeout(c.cfg.Timeout)
	// No Delay here: colly sleeps it after reading a page and before handing it
	// over, which would hold every article back by the delay; the pass paces
	// the starts of requests instead (pacer).
	if err := col.Limit(&colly.LimitRule{DomainGlob: "*", Parallelism: par}); err != nil {
		return nil, fmt.Errorf("limit rule: %w", err)
	}
	return col, nil
}

// checkRedirect leaves redirects of pages to the pass (the 3xx reaches
// onResponse), and follows those of robots.txt, which colly fetches itself.
func (c *Crawler) checkRedirect(s Source) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) == 0 || via[0].URL.Path != "/robots.txt" {
			return http.ErrUseLastResponse
		}
		if len(via) >= c.cfg.MaxRedirects {
			return fmt.Errorf("robots.txt: more than %d redirects", c.cfg.MaxRedirects)
		}
		if err := refusePrivateLiteral(req.URL, s.AllowPrivate); err != nil {
			return err
		}
		if !s.ports()[effectivePort(req.URL)] {
			return &errRobots{fmt.Errorf("%w: %d", errRedirectPort, effectivePort(req.URL))}
		}
		return nil
	}
}

// ports are the ports a source may be fetched on: those of its start URLs and
// the default ports of http and https. Allowed domains are host names only:
// without this a redirect or a link to the same host on another port (an
// admin page, a metadata service) would be followed.
func (s Source) ports() map[int]bool {
	out := map[int]bool{80: true, 443: true}
	for _, raw := range s.startURLs() {
		if u, err := url.Parse(raw); err == nil {
			out[effectivePort(u)] = true
		}
	}
	return out
}

// effectivePort is the URL's port, or its scheme's default; -1 when unreadable.
func effectivePort(u *url.URL) int {
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return -1
		}
		return n
	}
	if strings.EqualFold(u.Scheme, "https") {
		return 443
	}
	return 80
}

// refusePrivateLiteral refuses a URL whose host is a non-public IP literal. Host
// names are checked by the guarded dialer once resolved.
func refusePrivateLiteral(u *url.URL, allowPrivate bool) error {
	if allowPrivate {
		return nil
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil && !isPublic(ip) {
		return ErrPrivateAddress{u.Host}
	}
	return nil
}

// newCtx returns a request context of a kind with key/value pairs.
func newCtx(kind string, kv ...any) *colly.Context {
	ctx := colly.NewContext()
	ctx.Put("kind", kind)
	for i := 0; i+1 < len(kv); i += 2 {
		ctx.Put(kv[i].(string), kv[i+1])
	}
	return ctx
}

func ctxInt(ctx *colly.Context, key string) int {
	v, _ := ctx.GetAny(key).(int)
	return v
}

// request queues a fetch and counts why it could not be queued.
func (p *pass) request(u string, ctx *colly.Context) {
	if pu, err := url.Parse(u); err == nil && !p.ports[effectivePort(pu)] {
		p.c.event(p.s.Name, evFailed, "forbidden_port")
		p.c.log.Warn("not fetched: a port the source's start URLs do not use", "url", u, "source", p.s.Name)
		return
	}
	err := p.col.Request("GET", u, nil, ctx, nil)
	var seen *colly.AlreadyVisitedError
	if err == nil || errors.As(err, &seen) {
		return
	}
	if p.ctx.Err() != nil {
		return
	}
	reason := requestReason(err)
	p.c.event(p.s.Name, evFailed, reason)
	p.c.log.Warn("not fetched", "url", u, "reason", reason, "err", err, "source", p.s.Name)
}

func requestReason(err error) string {
	if r := limitReason(err); r != "" {
		return r
	}
	var pa ErrPrivateAddress
	switch {
	case errors.As(err, &pa):
		return "private_address"
	case errors.Is(err, colly.ErrRobotsTxtBlocked):
		return "robots_txt"
	case errors.Is(err, colly.ErrForbiddenDomain):
		return "forbidden_domain"
	case isTimeout(err):
		return "timeout"
	}
	return "request_error"
}

// limitReason names the failures of limitTransport: robots.txt (too large,
// timeout, unreadable), bodies over the limit, unknown encodings; "" for others.
func limitReason(err error) string {
	var (
		re  *errRobots
		tl  *ErrBodyTooLarge
		enc errEncoding
	)
	switch {
	case errors.As(err, &re):
		return re.reason()
	case errors.As(err, &tl):
		return tl.Reason()
	case errors.As(err, &enc):
		return "content_encoding"
	}
	return ""
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) || strings.Contains(err.Error(), "Client.Timeout")
}

// visit queues a link found in a feed, sitemap or listing (or a configured URL).
func (p *pass) visit(from *colly.Request, l Link) {
	abs := l.URL
	if from != nil {
		abs = from.AbsoluteURL(l.URL)
	}
	if abs == "" {
		return
	}
	canon, err := Canonical(abs)
	if err != nil {
		return
	}
	if tooOld(l, p.s.MaxAge.Duration, time.Now()) {
		p.c.event(p.s.Name, evSkipped, "too_old")
		return
	}
	switch l.Kind {
	case kindSitemap:
		depth := 1
		if from != nil {
			depth = ctxInt(from.Ctx, "depth") + 1
		}
		if depth > maxSitemapDepth {
			p.c.event(p.s.Name, evSkipped, "sitemap_depth")
			return
		}
		p.request(canon, newCtx(kindSitemap, "depth", depth))
	default:
		if reason := p.known(canon); reason != "" {
			p.c.event(p.s.Name, evSkipped, reason)
			return
		}
		p.request(canon, newCtx(kindArticle))
	}
}

// known tells an article link that needs no fetch: an alternate URL of a
// recorded article ("alias"), or an article checked less than RecheckAfter ago
// ("fresh").
func (p *pass) known(canon string) string {
	st := p.c.cfg.State
	key := canon
	if k, ok, err := st.Alias(canon); err == nil && ok {
		key = k
	}
	e, ok, err := st.Article(key)
	if err != nil || !ok {
		return ""
	}
	if e.FetchURL != canon {
		if key == canon {
			return "" // the canonical URL itself, known from an alternate: fetch it
		}
		return "alias"
	}
	if ra := p.s.RecheckAfter.Duration; ra > 0 && time.Since(e.CheckedAt) < ra {
		return "fresh"
	}
	return ""
}

func (p *pass) onRequest(r *colly.Request) {
	if p.ctx.Err() != nil || p.pace.wait(p.ctx) != nil {
		r.Abort() // shutting down: do not start new fetches
		return
	}
	u, err := Canonical(r.URL.String())
	if err != nil {
		return
	}
	st := p.c.cfg.State
	var etag, lm string
	switch r.Ctx.Get("kind") {
	case kindFeed, kindSitemap:
		if d, ok, err := st.Doc(u); err == nil && ok {
			etag, lm = d.ETag, d.LastModified
		}
	case kindArticle:
		key := u
		if k, ok, err := st.Alias(u); err == nil && ok {
			key = k
		}
		if e, ok, err := st.Article(key); err == nil && ok && e.FetchURL == u {
			etag, lm = e.ETag, e.LastModified
		}
	}
	if etag != "" {
		r.Headers.Set("If-None-Match", etag)
	}
	if lm != "" {
		r.Headers.Set("If-Modified-Since", lm)
	}
}

// onResponseHeaders refuses bodies that are known too large or not pages before
// downloading them, and keeps colly from transcoding: articles are published
// as received, in their own charset.
func (p *pass) onResponseHeaders(r *colly.Response) {
	r.Ctx.Put("abort", "")
	ct := r.Headers.Get("Content-Type")
	r.Ctx.Put("content_type", ct)
	mt := ""
	if ct != "" {
		if t, _, err := mime.ParseMediaType(ct); err == nil {
			mt = t
			r.Headers.Set("Content-Type", t)
		}
	}
	if n, err := strconv.ParseInt(r.Headers.Get("Content-Length"), 10, 64); err == nil && n > int64(p.c.cfg.MaxBodyBytes) {
		r.Ctx.Put("abort", "too_large")
		r.Request.Abort()
		return
	}
	if r.StatusCode == http.StatusOK && r.Ctx.Get("kind") == kindArticle && mt != "" && !isHTML(mt, []byte("<html>")) {
		r.Ctx.Put("abort", rejectNotHTML)
		r.Request.Abort()
	}
}

func (p *pass) onError(r *colly.Response, err error) {
	if p.ctx.Err() != nil {
		p.c.log.Debug("fetch stopped", "url", r.Request.URL.String(), "err", err, "source", p.s.Name)
		return
	}
	category, reason := evFailed, "fetch_error"
	var pa ErrPrivateAddress
	switch {
	case limitReason(err) != "":
		reason = limitReason(err)
	case errors.Is(err, colly.ErrAbortedAfterHeaders) && r.Ctx.Get("abort") != "":
		reason = r.Ctx.Get("abort")
		if reason == rejectNotHTML {
			category = evRejected
		}
	case errors.As(err, &pa):
		reason = "private_address"
	case isTimeout(err):
		reason = "timeout"
	case errors.Is(err, colly.ErrRobotsTxtBlocked):
		reason = "robots_txt"
	}
	p.c.event(p.s.Name, category, reason)
	p.c.log.Warn("fetch failed", "url", r.Request.URL.String(), "reason", reason, "err", err, "source", p.s.Name)
}

func (p *pass) onResponse(r *colly.Response) {
	if ct := r.Ctx.Get("content_type"); ct != "" {
		r.Headers.Set("Content-Type", ct) // as the server sent it
	}
	p.c.fetched(p.s.Name, len(r.Body))
	kind := r.Ctx.Get("kind")
	u := r.Request.URL.String()
	status := r.StatusCode
	switch {
	case status == http.StatusNotModified:
		p.notModified(r, kind)
		return
	case status >= 300 && status < 400 && r.Headers.Get("Location") != "":
		p.redirect(r)
		return
	}
	if len(r.Body) > p.c.cfg.MaxBodyBytes {
		p.c.event(p.s.Name, evFailed, "too_large")
		p.c.log.Warn("page larger than the limit, not published", "url", u, "limit", p.c.cfg.MaxBodyBytes, "source", p.s.Name)
		return
	}
	var text []byte
	if kind == kindArticle || kind == kindArticlePart || wallStatus(status) {
		text = visibleText(r.Body)
		reason := ""
		switch kind {
		case kindArticle:
			reason = rejectReason(status, r.Headers.Get("Content-Type"), r.Body, text, p.minText())
		case kindArticlePart:
			reason = rejectReason(status, r.Headers.Get("Content-Type"), r.Body, text, 1)
		default:
			reason = wallReason(status, r.Body, text)
		}
		if reason == rejectEmpty && kind == kindArticle && status < 300 {
			// A page that only sends the reader on (<meta http-equiv=refresh>)
			// is followed like a redirect, with the same checks.
			if target := readPageLinks(r.Body, r.Request.URL).Refresh; target != "" {
				p.c.event(p.s.Name, evSkipped, "meta_refresh")
				r.Headers.Set("Location", target)
				p.redirect(r)
				return
			}
		}
		if reason != "" && (status < 400 || reason == rejectChallenge || reason == rejectCaptcha || reason == rejectConsent) {
			p.c.event(p.s.Name, evRejected, reason)
			p.c.log.Warn("not an article, will retry next pass", "url", u, "status", status, "reason", reason, "source", p.s.Name)
			return
		}
	}
	if retryable(status) {
		if p.retry(r) {
			return
		}
		if p.ctx.Err() != nil {
			return
		}
		reason := fmt.Sprintf("http_%d", status)
		if status == http.StatusTooManyRequests {
			reason = "rate_limited"
		}
		p.c.event(p.s.Name, evFailed, reason)
		p.c.log.Warn("fetch failed after retries", "url", u, "status", status, "reason", reason, "source", p.s.Name)
		return
	}
	if status >= 400 {
		p.c.event(p.s.Name, evFailed, fmt.Sprintf("http_%d", status))
		p.c.log.Warn("fetch failed", "url", u, "status", status, "source", p.s.Name)
		return
	}
	switch kind {
	case kindFeed, kindSitemap:
		links, err := parsers[kind].Links(r.Body)
		if err != nil {
			p.c.event(p.s.Name, evFailed, "bad_"+kind)
			p.c.log.Warn("unreadable "+kind, "url", u, "err", err, "source", p.s.Name)
			return
		}
		if canon, err := Canonical(u); err == nil {
			d := DocState{ETag: r.Headers.Get("ETag"), LastModified: r.Headers.Get("Last-Modified"), Links: links, CheckedAt: time.Now().UTC()}
			if d.ETag != "" || d.LastModified != "" {
				if err := p.c.cfg.State.PutDoc(canon, d); err != nil {
					p.c.log.Warn("recording feed validators failed", "url", u, "err", err)
				}
			}
		}
		for _, l := range links {
			p.visit(r.Request, l)
		}
	case kindListing:
		p.listing(r)
	case kindEdgarFeed:
		p.edgarFeed(r)
	case kindEdgarIndex:
		p.edgarIndex(r)
	case kindArticle:
		if p.startStory(r) {
			return // published once its further pages are read
		}
		p.publish(r, text)
	case kindArticlePart:
		p.articlePart(r)
	}
}

func wallStatus(status int) bool {
	return status == http.StatusAccepted || status == http.StatusForbidden || status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}

func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusInternalServerError || status == http.StatusBadGateway ||
		status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

// notModified handles a 304: a feed or sitemap visits the links it held last
// time (an interrupted pass may not have fetched them all), an article is unchanged.
func (p *pass) notModified(r *colly.Response, kind string) {
	u, err := Canonical(r.Request.URL.String())
	if err != nil {
		return
	}
	st := p.c.cfg.State
	switch kind {
	case kindFeed, kindSitemap:
		d, ok, err := st.Doc(u)
		if err != nil || !ok {
			p.c.event(p.s.Name, evFailed, "http_304")
			return
		}
		p.c.event(p.s.Name, evSkipped, "not_modified")
		for _, l := range d.Links {
			p.visit(r.Request, l)
		}
	case kindArticle:
		key := u
		if k, ok, err := st.Alias(u); err == nil && ok {
			key = k
		}
		unlock := p.c.lockKey(key)
		defer unlock()
		if e, ok, err := st.Article(key); err == nil && ok {
			e.CheckedAt = time.Now().UTC()
			_ = st.PutArticle(key, e)
		}
		p.c.event(p.s.Name, evSkipped, "not_modified")
	default:
		p.c.event(p.s.Name, evSkipped, "not_modified")
	}
}

// redirect follows a 3xx as a new request, so that each hop passes the checks
// of a first request (allowed domains, robots.txt, private addresses) and is
// counted when refused.
func (p *pass) redirect(r *colly.Response) {
	cur := r.Request.URL.String()
	hops := ctxInt(r.Ctx, "hops")
	chain := r.Ctx.Get("chain")
	target := r.Request.AbsoluteURL(r.Headers.Get("Location"))
	refuse := func(reason string) {
		p.c.event(p.s.Name, evFailed, reason)
		p.c.log.Warn("redirect not followed", "url", cur, "location", target, "reason", reason, "source", p.s.Name)
	}
	tu, err := url.Parse(target)
	switch {
	case target == "" || err != nil || (tu.Scheme != "http" && tu.Scheme != "https"):
		refuse("redirect_invalid")
		return
	case hops >= p.c.cfg.MaxRedirects:
		refuse("too_many_redirects")
		return
	case target == cur || containsLine(chain, target):
		refuse("redirect_loop")
		return
	}
	if err := refusePrivateLiteral(tu, p.s.AllowPrivate); err != nil {
		refuse("redirect_private")
		return
	}
	if !p.ports[effectivePort(tu)] {
		refuse("redirect_port")
		return
	}
	ctx := colly.NewContext()
	r.Ctx.ForEach(func(k string, v any) any {
		switch k {
		case "kind", "listing", "page", "depth", "filing", "story":
			ctx.Put(k, v)
		}
		return nil
	})
	ctx.Put("hops", hops+1)
	ctx.Put("chain", chain+cur+"\n")
	err = p.col.Request("GET", target, nil, ctx, nil)
	var seen *colly.AlreadyVisitedError
	switch {
	case err == nil:
	case errors.As(err, &seen):
		p.c.event(p.s.Name, evSkipped, "redirect_duplicate")
	case errors.Is(err, colly.ErrForbiddenDomain):
		refuse("redirect_offsite")
	case errors.Is(err, colly.ErrRobotsTxtBlocked):
		refuse("robots_txt")
	default:
		if p.ctx.Err() == nil {
			refuse(requestReason(err))
		}
	}
}

func containsLine(lines, s string) bool {
	for l := range strings.SplitSeq(lines, "\n") {
		if l == s {
			return true
		}
	}
	return false
}

// retry fetches the URL again after Retry-After (or an exponential backoff with
// jitter), at most MaxAttempts times in a pass. It reports whether it did.
func (p *pass) retry(r *colly.Response) bool {
	attempt := max(ctxInt(r.Ctx, "attempt"), 1)
	if attempt >= p.c.cfg.MaxAttempts {
		return false
	}
	wait, ok := retryAfter(r.Headers.Get("Retry-After"), time.Now())
	if !ok {
		wait = p.c.cfg.RetryBackoff << (attempt - 1)
		wait += time.Duration(rand.Int64N(int64(wait)/2 + 1))
	}
	if wait > p.c.cfg.MaxRetryWait {
		p.c.log.Warn("Retry-After beyond the longest wait, giving up until the next pass", "url", r.Request.URL.String(),
			"retry_after", wait, "max", p.c.cfg.MaxRetryWait, "source", p.s.Name)
		return false
	}
	p.c.log.Info("retrying", "url", r.Request.URL.String(), "status", r.StatusCode, "attempt", attempt+1, "wait", wait, "source", p.s.Name)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-p.ctx.Done():
		return false
	case <-t.C:
	}
	r.Ctx.Put("attempt", attempt+1)
	p.c.retried(p.s.Name)
	if err := r.Request.Retry(); err != nil {
		p.c.log.Warn("retry not queued", "url", r.Request.URL.String(), "err", err)
		return false
	}
	return true
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(n, 0)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// minText is the least visible text of an article page: the source's
// min_text_bytes, else Config.MinTextBytes.
func (p *pass) minText() int {
	if p.s.MinTextBytes > 0 {
		return p.s.MinTextBytes
	}
	return p.c.cfg.MinTextBytes
}

// pacer spaces the starts of a source's requests by Delay / Parallelism: on
// average each of the Parallelism slots waits Delay between its requests, as
// colly's own delay would, but a fetched page is handed over at once.
type pacer struct {
	mu   sync.Mutex
	gap  time.Duration
	next time.Time
}

func newPacer(s Source) *pacer {
	delay, par := s.Delay.Duration, s.Parallelism
	if s.Kind == KindEdgar && delay == 0 {
		return &pacer{} // the EDGAR transport paces every request (source_edgar.go)
	}
	if delay == 0 {
		delay = time.Second
	}
	if par <= 0 {
		par = 2
	}
	return &pacer{gap: delay / time.Duration(par)}
}

// wait blocks until this request may start, or ctx ends.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	now := time.Now()
	at := p.next
	if at.Before(now) {
		at = now
	}
	p.next = at.Add(p.gap)
	p.mu.Unlock()
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
