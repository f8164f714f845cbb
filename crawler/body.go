package crawler

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Response bodies are limited by limitTransport, underneath colly: colly's own
// MaxBodySize counts the bytes before it gunzips (a 1 MiB gzip inflates to
// gigabytes), and it reads robots.txt with no limit at all. The transport
// decompresses gzip itself and counts both the bytes received and the bytes
// inflated, so every limit holds after decompression: pages, feeds, sitemaps
// (.xml.gz included) and robots.txt alike.

// ErrBodyTooLarge is a response body over its limit. It is returned while the
// body is read, before more than Limit bytes are held.
type ErrBodyTooLarge struct {
	URL   string
	Limit int64
	// Decompressed is true when the limit was reached inflating a compressed
	// body (a decompression bomb), false when the bytes received were too many.
	Decompressed bool
	// Robots is true for robots.txt (Config.MaxRobotsBytes).
	Robots bool
}

func (e *ErrBodyTooLarge) Error() string {
	what := "response body"
	if e.Decompressed {
		what = "decompressed response body"
	}
	return fmt.Sprintf("%s of %s over the limit of %d bytes", what, e.URL, e.Limit)
}

// Reason is the metrics reason: too_large, too_large_decompressed or robots_txt_too_large.
func (e *ErrBodyTooLarge) Reason() string {
	switch {
	case e.Robots:
		return "robots_txt_too_large"
	case e.Decompressed:
		return "too_large_decompressed"
	}
	return "too_large"
}

// errRobots wraps a failure to read robots.txt, so that it is counted as such
// (robots_txt_too_large, robots_txt_timeout, robots_txt_error) and not as a
// failure of the page that needed it.
type errRobots struct{ err error }

func (e *errRobots) Error() string { return "robots.txt: " + e.err.Error() }
func (e *errRobots) Unwrap() error { return e.err }

func (e *errRobots) reason() string {
	var (
		tl *ErrBodyTooLarge
		pa ErrPrivateAddress
	)
	switch {
	case errors.As(e.err, &tl):
		return tl.Reason()
	case errors.As(e.err, &pa):
		return "private_address" // the host, whatever its robots.txt says
	case errors.Is(e.err, errRedirectPort):
		return "redirect_port"
	case isTimeout(e.err):
		return "robots_txt_timeout"
	}
	return "robots_txt_error"
}

// errRedirectPort is a redirect to a port the source does not use.
var errRedirectPort = errors.New("redirect to a port the source's start URLs do not use")

// errEncoding is a Content-Encoding the crawler did not ask for and cannot read.
type errEncoding struct{ enc string }

func (e errEncoding) Error() string { return fmt.Sprintf("unsupported Content-Encoding %q", e.enc) }

// limitTransport limits and decompresses response bodies (see above), and
// bounds robots.txt fetches in time: colly fetches them without a context.
type limitTransport struct {
	base http.RoundTripper
	// maxBody bounds every body but robots.txt; maxRobots bounds robots.txt.
	maxBody, maxRobots int64
	// robotsTimeout bounds a robots.txt fetch, body included.
	robotsTimeout time.Duration
	// ctx is the pass's: robots.txt fetches stop when it ends.
	ctx context.Context
}

var _ http.RoundTripper = (*limitTransport)(nil)

// isRobots tells a robots.txt request, also after a redirect the client followed.
func isRobots(req *http.Request) bool {
	for req.Response != nil && req.Response.Request != nil {
		req = req.Response.Request
	}
	return req.URL != nil && req.URL.Path == "/robots.txt"
}

// RoundTrip implements http.RoundTripper.
func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	robots := isRobots(req)
	limit := t.maxBody
	ctx, cancel := req.Context(), context.CancelFunc(func() {})
	if robots {
		limit = t.maxRobots
		ctx, cancel = context.WithTimeout(ctx, t.robotsTimeout)
		if t.ctx != nil {
			stop := context.AfterFunc(t.ctx, cancel)
			c := cancel
			cancel = func() { stop(); c() }
		}
	}
	req = req.Clone(ctx)
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	wrap := func(err error) error {
		if robots && err != nil {
			return &errRobots{err}
		}
		return err
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		cancel()
		return nil, wrap(err)
	}
	var layers int
	for e := range strings.SplitSeq(resp.Header.Get("Content-Encoding"), ",") {
		switch e = strings.ToLower(strings.TrimSpace(e)); e {
		case "", "identity":
		case "gzip", "x-gzip":
			layers++
		default:
			resp.Body.Close()
			cancel()
			return nil, wrap(errEncoding{e})
		}
	}
	if layers > 2 {
		resp.Body.Close()
		cancel()
		return nil, wrap(errEncoding{resp.Header.Get("Content-Encoding")})
	}
	// colly gunzips .xml.gz and gzip content types itself (with its limit
	// before); here it is done with the limit after, when the body is gzip.
	ct := strings.ToLower(resp.Header.Get("Content-Type"))
	sniff := layers == 0 && (strings.Contains(ct, "gzip") || strings.HasSuffix(strings.ToLower(req.URL.Path), ".gz"))
	u := req.URL.String()
	b := &limitedBody{
		raw:    resp.Body,
		cancel: cancel,
		wrap:   wrap,
	}
	b.received = &countReader{r: resp.Body, n: limit, err: &ErrBodyTooLarge{URL: u, Limit: limit, Robots: robots}}
	b.layers, b.sniff = layers, sniff
	b.limit = &ErrBodyTooLarge{URL: u, Limit: limit, Decompressed: layers > 0 || sniff, Robots: robots}
	resp.Body = b
	if layers > 0 {
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
	}
	resp.Uncompressed = true // colly must not gunzip again
	return resp, nil
}

// limitedBody reads a response body through the limit on the bytes received,
// the gzip layers, and the limit on the bytes delivered.
type limitedBody struct {
	raw      io.ReadCloser
	received *countReader
	layers   int
	sniff    bool
	limit    *ErrBodyTooLarge
	cancel   context.CancelFunc
	wrap     func(error) error

	once sync.Once
	r    io.Reader
	err  error
}

func (b *limitedBody) init() {
	var r io.Reader = b.received
	for range b.layers {
		z, err := gzip.NewReader(r)
		if err != nil {
			b.err = fmt.Errorf("reading gzip body: %w", err)
			return
		}
		r = z
	}
	if b.sniff {
		br := bufio.NewReader(r)
		if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
			z, err := gzip.NewReader(br)
			if err != nil {
				b.err = fmt.Errorf("reading gzip body: %w", err)
				return
			}
			r = z
		} else {
			b.limit.Decompressed = false
			r = br
		}
	}
	b.r = &countReader{r: r, n: b.limit.Limit, err: b.limit}
}

func (b *limitedBody) Read(p []byte) (int, error) {
	b.once.Do(b.init)
	if b.err != nil {
		return 0, b.wrap(b.err)
	}
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		if b.received.hit {
			// The limit on the bytes received, whatever gzip made of it.
			err = b.received.err
		}
		err = b.wrap(err)
	}
	return n, err
}

func (b *limitedBody) Close() error {
	err := b.raw.Close()
	b.cancel()
	return err
}

// countReader delivers at most n bytes of r, then fails with err; a reader
// that ends exactly at n bytes ends normally.
type countReader struct {
	r   io.Reader
	n   int64
	err error
	hit bool
}

func (c *countReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		var one [1]byte
		for range 100 {
			k, err := c.r.Read(one[:])
			if k > 0 {
				c.hit = true
				return 0, c.err
			}
			if err != nil {
				return 0, err
			}
		}
		return 0, io.ErrNoProgress
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	k, err := c.r.Read(p)
	c.n -= int64(k)
	return k, err
}
