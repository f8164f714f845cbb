package crawler

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"github.com/gocolly/colly/v2"
	"golang.org/x/net/html/charset"

	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

// publish decides whether an article page is new, changed, a duplicate or
// unchanged, publishes it in the first two cases with its version, and records
// it in the seen-set only after the bus acknowledged it.
func (p *pass) publish(r *colly.Response, text []byte) {
	src := p.s.Name
	fetched := r.Request.URL.String()
	fcanon, err := Canonical(fetched)
	if err != nil {
		fcanon = fetched
	}
	body := r.Body
	claimed := claimedCanonical(body, r.Request.URL)
	key, _ := p.s.trustedCanonical(claimed, fetched)
	if key != claimed && claimed != "" {
		p.c.log.Debug("rel=canonical outside the fetched site not trusted", "url", fetched, "canonical", claimed, "source", src)
	}
	textHash := "sha256:" + sha256Hex(text)
	sketch := textSketch(text)
	now := time.Now().UTC()
	entry := Entry{FetchURL: fcanon, TextHash: textHash, Sketch: sketch, ETag: r.Headers.Get("ETag"), LastModified: r.Headers.Get("Last-Modified"), CheckedAt: now}

	st := p.c.cfg.State
	unlock := p.c.lockKey(key)
	prev, known, err := st.Article(key)
	if err == nil && known && fcanon != key && prev.FetchURL != fcanon && prev.Version > 0 && !textSimilar(prev.Sketch, sketch) {
		// The canonical names a recorded story whose text is another: this page
		// is not a copy of it (another story, or every page naming one URL).
		// It is published under its own URL.
		unlock()
		p.c.log.Debug("rel=canonical names a different story, publishing under the fetched URL", "url", fetched, "canonical", key, "source", src)
		key = fcanon
		unlock = p.c.lockKey(key)
		prev, known, err = st.Article(key)
	}
	defer unlock()
	if err != nil {
		p.c.event(src, evFailed, "state")
		p.fail(fmt.Errorf("reading crawl state for %s: %w", key, err))
		return
	}
	record := func(e Entry) {
		if err := st.PutArticle(key, e, fcanon); err != nil {
			p.c.event(src, evFailed, "state")
			p.fail(fmt.Errorf("recording %s in the crawl state: %w", key, err))
		}
	}
	if known && prev.FetchURL != fcanon && prev.Version > 0 && textSimilar(prev.Sketch, sketch) {
		if fcanon != key {
			// An alternate (AMP, print, tracking copy) of a recorded article.
			if err := st.PutArticle(key, prev, fcanon); err != nil {
				p.c.log.Warn("recording alias failed", "url", fcanon, "err", err)
			}
			p.c.event(src, evSkipped, "duplicate")
			return
		}
		// The canonical URL itself, the story known from an alternate: follow the
		// canonical page from now on without publishing the story again.
		entry.Version, entry.PublishedAt, entry.ContentHash = prev.Version, prev.PublishedAt, prev.ContentHash
		record(entry)
		p.c.event(src, evSkipped, "duplicate")
		return
	}
	if known && prev.TextHash == textHash {
		entry.Version, entry.PublishedAt, entry.ContentHash = prev.Version, prev.PublishedAt, prev.ContentHash
		record(entry)
		p.c.event(src, evSkipped, "unchanged")
		return
	}
	ct := r.Headers.Get("Content-Type")
	if reason := p.irrelevant(body, ct); reason != "" {
		entry.Version, entry.PublishedAt = prev.Version, prev.PublishedAt
		record(entry)
		p.c.event(src, evSkipped, reason)
		return
	}
	version := prev.Version + 1
	a := schemas.Article{
		SchemaVersion: schemas.Version,
		CanonicalURL:  key,
		URL:           fetched,
		FetchedAt:     now,
		Status:        r.StatusCode,
		Headers:       keepHeaders(r.Headers),
		ContentHash:   "sha256:" + sha256Hex(body),
		Source:        src,
		Version:       version,
		Filing:        filingOf(r),
	}
	a.SetBody(body)
	v, err := json.Marshal(a)
	if err != nil {
		p.fail(fmt.Errorf("encoding article %s: %w", fetched, err))
		return
	}
	// A page fetched is published even when the crawl is being stopped.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(p.ctx), p.c.cfg.PublishTimeout)
	defer cancel()
	start := time.Now()
	msg := stream.Message{Topic: schemas.TopicArticles, Key: []byte(key), Value: v, Headers: map[string]string{"source": src}}
	backoff := stream.Backoff{Min: 200 * time.Millisecond, Max: 5 * time.Second}
	err = stream.Retry(pctx, &backoff, func(err error, wait time.Duration) {
		p.c.log.Warn("publish failed, retrying", "url", key, "wait", wait, "err", err)
	}, func() error { return p.c.pub.Publish(pctx, msg) })
	if err != nil {
		p.c.event(src, evFailed, "publish")
		p.fail(fmt.Errorf("publishing %s: %w", key, err))
		return
	}
	latency := time.Since(start)
	p.c.published(src, version > 1, latency)
	entry.Version, entry.PublishedAt, entry.ContentHash = version, now, a.ContentHash
	record(entry)
	p.c.log.Debug("published", "url", key, "version", version, "bytes", len(body), "latency", latency, "source", src)
}

// irrelevant applies the source's ContentSelector and Keywords: "no_content",
// "no_keyword" or "".
func (p *pass) irrelevant(body []byte, contentType string) string {
	if p.s.ContentSelector == "" && len(p.s.Keywords) == 0 {
		return ""
	}
	decoded := body
	if r, err := charset.NewReader(bytes.NewReader(body), contentType); err == nil {
		if d, err := io.ReadAll(r); err == nil {
			decoded = d
		}
	}
	var text string
	if p.s.ContentSelector != "" {
		doc, err := goquery.NewDocumentFromReader(bytes.NewReader(decoded))
		if err != nil {
			return "" // cannot tell: let the extractor decide
		}
		sel := doc.Find(p.s.ContentSelector)
		if sel.Length() == 0 {
			return "no_content"
		}
		text = sel.Text()
	} else {
		text = string(visibleText(decoded))
	}
	if len(p.s.Keywords) > 0 && !mentionsAny(text, p.s.Keywords) {
		return "no_keyword"
	}
	return ""
}

// mentionsAny looks for any keyword as a whole word (or words), ignoring case:
// "AI" matches "AI cloud" but not "said".
func mentionsAny(text string, keywords []string) bool {
	lower := strings.ToLower(text)
	for _, k := range keywords {
		k = strings.ToLower(strings.TrimSpace(k))
		if k == "" {
			continue
		}
		for off := 0; ; {
			i := strings.Index(lower[off:], k)
			if i < 0 {
				break
			}
			i += off
			before, _ := utf8.DecodeLastRuneInString(lower[:i])
			after, _ := utf8.DecodeRuneInString(lower[i+len(k):])
			if !isWordRune(before) && !isWordRune(after) {
				return true
			}
			off = i + 1
		}
	}
	return false
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
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

func charsetReader(label string, input io.Reader) (io.Reader, error) {
	return charset.NewReaderLabel(label, input)
}
