package crawler

import (
	"strings"
	"time"
)

// Link is a URL found in a start document, with what it leads to.
type Link struct {
	URL string `json:"url"`
	// Kind is kindArticle or kindSitemap (a sitemap index points at sitemaps).
	Kind string `json:"kind"`
	// Date is the entry's publication or modification date when the document
	// gives one (zero otherwise).
	Date time.Time `json:"date,omitzero"`
}

// Parser reads the links of one kind of start document.
type Parser interface {
	Links(body []byte) ([]Link, error)
}

// ParserFunc adapts a function to Parser.
type ParserFunc func(body []byte) ([]Link, error)

// Links implements Parser.
func (f ParserFunc) Links(body []byte) ([]Link, error) { return f(body) }

var _ Parser = ParserFunc(nil)

// Kinds of request.
const (
	kindFeed    = "feed"
	kindSitemap = "sitemap"
	kindListing = "listing"
	kindArticle = "article"
)

// parsers reads the documents whose links are followed (listings are read with
// CSS selectors instead, see source_listing.go).
var parsers = map[string]Parser{
	kindFeed:    ParserFunc(feedLinks),
	kindSitemap: ParserFunc(sitemapLinks),
}

// parseDate reads the dates of feeds and sitemaps (RFC 1123 variants, W3C datetime).
func parseDate(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02", time.RFC1123Z, time.RFC1123,
		"Mon, 2 Jan 2006 15:04:05 -0700", "Mon, 2 Jan 2006 15:04:05 MST", "2 Jan 2006 15:04:05 -0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
