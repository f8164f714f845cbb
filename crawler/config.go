package crawler

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/andybalholm/cascadia"
	"gopkg.in/yaml.v3"
)

// Source is one outlet to crawl. Its start points are feeds, sitemaps, listing
// pages and plain URLs; at least one is required.
type Source struct {
	// Name identifies the source in records, logs and metrics. Required.
	Name string `yaml:"name"`
	// Feeds are RSS or Atom feed URLs; every item link is an article. Fetched with
	// a conditional GET (ETag / Last-Modified).
	Feeds []string `yaml:"feeds"`
	// Sitemaps are sitemap or sitemap-index URLs (news sitemaps included, .xml.gz
	// accepted); every <url><loc> is an article, every <sitemap><loc> another
	// sitemap. Fetched with a conditional GET.
	Sitemaps []string `yaml:"sitemaps"`
	// Listings are index pages whose LinkSelector links are articles.
	Listings []Listing `yaml:"listings"`
	// URLs are article URLs fetched as they are.
	URLs []string `yaml:"urls"`
	// AllowedDomains are the hosts the crawler may fetch from, redirects included.
	// Default: the hosts of the start URLs.
	AllowedDomains []string `yaml:"allowed_domains"`
	// AllowPrivate allows loopback and private addresses (tests and intranets only).
	// Default false.
	AllowPrivate bool `yaml:"allow_private"`
	// Delay between requests to the source's hosts: requests start at least
	// Delay / Parallelism apart, so each of the Parallelism slots waits Delay on
	// average; a fetched page is published at once. Default 1s; must be positive when given.
	Delay Duration `yaml:"delay"`
	// Parallelism is the number of concurrent requests to the source's hosts. Default 2.
	Parallelism int `yaml:"parallelism"`
	// Interval between two passes over this source when the crawler runs
	// continuously. Default: the crawl command's --interval (15m).
	Interval Duration `yaml:"interval"`
	// MaxAge skips feed items and sitemap entries whose date (pubDate, updated,
	// lastmod, news:publication_date) is older than this. Entries without a date are
	// kept. Default: no limit.
	MaxAge Duration `yaml:"max_age"`
	// RecheckAfter: an article already recorded in the seen-set is fetched again
	// (with a conditional GET, to catch corrections) only when it was last checked
	// longer ago than this. Default: every pass.
	RecheckAfter Duration `yaml:"recheck_after"`
	// ContentSelector, when set, is a CSS selector for the article body: pages
	// without a match are not articles (tag pages, galleries) and are skipped, and
	// Keywords are looked for inside it only. Default: the whole page.
	ContentSelector string `yaml:"content_selector"`
	// Keywords, when set, publish only pages that mention at least one of them
	// (case-insensitive). Default: publish every article page.
	Keywords []string `yaml:"keywords"`
	// CanonicalHosts are hosts outside the fetched site whose URLs this
	// source's pages may name as rel=canonical ("news.example", or
	// "*.example" for its subdomains): syndication partners the operator
	// vouches for. Default none: a canonical is trusted only within the
	// fetched site (see provenance.go), else the page is published under the
	// URL it was fetched from.
	CanonicalHosts []string `yaml:"canonical_hosts"`
	// MinTextBytes is the least visible text an article page of this source
	// must have (short briefs: lower it); pages with less are rejected as
	// "empty" and fetched again next pass. Default: the crawler's (200, crawl
	// --min-text). At most 1 MiB.
	MinTextBytes int `yaml:"min_text_bytes"`
	// Kind is "" (a news site: feeds, sitemaps, listings, urls) or "edgar"
	// (SEC EDGAR filings, configured by Edgar; see source_edgar.go).
	Kind string `yaml:"kind"`
	// Edgar configures a source of kind edgar.
	Edgar *EdgarSource `yaml:"edgar"`
}

// Bounds of a sources file: a value beyond them is an error, not a panic
// (parallelism: 9223372036854775807 made a channel of that size).
const (
	// MaxParallelism bounds Source.Parallelism and Config.SourceParallelism.
	MaxParallelism = 64
	// MaxListingPages bounds Listing.MaxPages.
	MaxListingPages = 10000
)

// Listing is an index page of articles.
type Listing struct {
	// URL of the first page. Required.
	URL string `yaml:"url"`
	// LinkSelector is a CSS selector for the article links. Required.
	LinkSelector string `yaml:"link_selector"`
	// NextSelector finds the link to the next page of the listing. Optional.
	NextSelector string `yaml:"next_selector"`
	// MaxPages bounds pagination. Default 20.
	MaxPages int `yaml:"max_pages"`
}

// Duration reads "1s", "250ms" from YAML. A duration written in YAML must be
// positive: leave the field out for its default.
type Duration struct{ time.Duration }

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 1s or 250ms", n.Line, n.Value)
	}
	if v <= 0 {
		return fmt.Errorf("line %d: duration %q must be positive (leave the field out for its default)", n.Line, n.Value)
	}
	d.Duration = v
	return nil
}

// SourcesFile is the YAML file of sources.
type SourcesFile struct {
	Sources []Source `yaml:"sources"`
}

// LoadSources reads and validates a sources file.
func LoadSources(path string) ([]Source, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading sources file: %w", err)
	}
	return ParseSources(path, b)
}

// ParseSources parses and validates the YAML of a sources file; name is used in errors.
func ParseSources(name string, b []byte) ([]Source, error) {
	var f SourcesFile
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parsing sources file %s: %w", name, err)
	}
	// A second document ("---") would be silently ignored: refuse it.
	var more yaml.Node
	if err := dec.Decode(&more); err != io.EOF {
		if err != nil {
			return nil, fmt.Errorf("parsing sources file %s: %w", name, err)
		}
		return nil, fmt.Errorf("sources file %s: a second YAML document at line %d: put every source in the first one's sources list", name, more.Line)
	}
	if len(f.Sources) == 0 {
		return nil, fmt.Errorf("sources file %s: no sources", name)
	}
	names := map[string]bool{}
	for i := range f.Sources {
		if err := f.Sources[i].Validate(); err != nil {
			return nil, fmt.Errorf("sources file %s: source %d: %w", name, i+1, err)
		}
		if names[f.Sources[i].Name] {
			return nil, fmt.Errorf("sources file %s: source %d: name %q is used twice", name, i+1, f.Sources[i].Name)
		}
		names[f.Sources[i].Name] = true
	}
	return f.Sources, nil
}

// Validate names the first bad field.
func (s *Source) Validate() error {
	if s.Name == "" {
		return errors.New("name is required")
	}
	switch s.Kind {
	case KindEdgar:
		if err := s.validateEdgar(); err != nil {
			return err
		}
	case "":
		if s.Edgar != nil {
			return fmt.Errorf("%s: an edgar block needs kind: edgar", s.Name)
		}
		if len(s.Feeds)+len(s.Sitemaps)+len(s.Listings)+len(s.URLs) == 0 {
			return fmt.Errorf("%s: give at least one of feeds, sitemaps, listings or urls", s.Name)
		}
	default:
		return fmt.Errorf("%s: kind %q is not a kind of source (leave it out for a news site, or edgar)", s.Name, s.Kind)
	}
	check := func(field, u string) error {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("%s: %s %q is not an http(s) URL", s.Name, field, u)
		}
		return nil
	}
	selector := func(field, sel string) error {
		if _, err := cascadia.Compile(sel); err != nil {
			return fmt.Errorf("%s: %s %q is not a CSS selector: %v", s.Name, field, sel, err)
		}
		return nil
	}
	for _, u := range s.Feeds {
		if err := check("feed", u); err != nil {
			return err
		}
	}
	for _, u := range s.Sitemaps {
		if err := check("sitemap", u); err != nil {
			return err
		}
	}
	for _, l := range s.Listings {
		if err := check("listing url", l.URL); err != nil {
			return err
		}
		if l.LinkSelector == "" {
			return fmt.Errorf("%s: listing %s has no link_selector", s.Name, l.URL)
		}
		if err := selector("listing link_selector", l.LinkSelector); err != nil {
			return err
		}
		if l.NextSelector != "" {
			if err := selector("listing next_selector", l.NextSelector); err != nil {
				return err
			}
		}
		if l.MaxPages < 0 || l.MaxPages > MaxListingPages {
			return fmt.Errorf("%s: listing %s: max_pages must be from 1 to %d (0 or absent: 20)", s.Name, l.URL, MaxListingPages)
		}
	}
	for _, u := range s.URLs {
		if err := check("url", u); err != nil {
			return err
		}
	}
	for _, d := range s.AllowedDomains {
		if d == "" || strings.ContainsAny(d, "/:*") {
			return fmt.Errorf("%s: allowed_domains entry %q must be a plain host name (no scheme, port or wildcard)", s.Name, d)
		}
	}
	for _, h := range s.CanonicalHosts {
		if h == "" || h == "*" || strings.ContainsAny(h, "/:@ ") || strings.Contains(strings.TrimPrefix(h, "*."), "*") {
			return fmt.Errorf("%s: canonical_hosts entry %q must be a host name or *.suffix (no scheme, port or bare *)", s.Name, h)
		}
	}
	if s.MinTextBytes < 0 || s.MinTextBytes > 1<<20 {
		return fmt.Errorf("%s: min_text_bytes must be from 1 to 1048576 (0 or absent: the crawler's, 200)", s.Name)
	}
	if s.Parallelism < 0 {
		return fmt.Errorf("%s: parallelism must not be negative", s.Name)
	}
	if s.Parallelism > MaxParallelism {
		return fmt.Errorf("%s: parallelism must be at most %d (0 or absent: 2)", s.Name, MaxParallelism)
	}
	for _, d := range []struct {
		field string
		v     Duration
	}{{"delay", s.Delay}, {"interval", s.Interval}, {"max_age", s.MaxAge}, {"recheck_after", s.RecheckAfter}} {
		if d.v.Duration < 0 {
			return fmt.Errorf("%s: %s must not be negative", s.Name, d.field)
		}
	}
	if s.ContentSelector != "" {
		if err := selector("content_selector", s.ContentSelector); err != nil {
			return err
		}
	}
	return nil
}

func (s Source) domains() []string {
	if len(s.AllowedDomains) > 0 {
		return s.AllowedDomains
	}
	seen := map[string]bool{}
	var out []string
	for _, u := range s.startURLs() {
		if p, err := url.Parse(u); err == nil && !seen[p.Hostname()] {
			seen[p.Hostname()] = true
			out = append(out, p.Hostname())
		}
	}
	return out
}

func (s Source) startURLs() []string {
	out := append([]string{}, s.Feeds...)
	out = append(out, s.Sitemaps...)
	for _, l := range s.Listings {
		out = append(out, l.URL)
	}
	out = append(out, s.URLs...)
	return append(out, s.edgarFeeds()...)
}

// Config is the crawler's own configuration. The zero value is usable.
type Config struct {
	// UserAgent sent with every request. Default "mwledger/0.1 (+https://github.com/mwledger/mwledger)".
	UserAgent string
	// Timeout of one request, body included. Default 30s.
	Timeout time.Duration
	// MaxBodyBytes is the largest page, feed or sitemap accepted, counted after
	// decompression (gzip bodies and .xml.gz sitemaps are inflated within it);
	// larger ones are refused and counted (too_large, too_large_decompressed),
	// never truncated. Default 10 MiB.
	MaxBodyBytes int
	// MaxRobotsBytes is the largest robots.txt accepted, counted after
	// decompression like MaxBodyBytes; a larger one fails the pages of its host
	// (robots_txt_too_large) rather than be half read. Default 512 KiB.
	MaxRobotsBytes int
	// RobotsTimeout bounds the fetch of one robots.txt, body included. Default 10s.
	RobotsTimeout time.Duration
	// MinTextBytes is the least visible text (outside scripts and styles) an article
	// page must have; pages with less are rejected as "empty" and retried next pass.
	// Default 200.
	MinTextBytes int
	// MaxAttempts bounds the fetches of one URL in a pass when the server answers
	// 429 or 5xx. Default 3 (1 disables retries).
	MaxAttempts int
	// RetryBackoff is the wait before the first retry when the server sends no
	// Retry-After; it doubles each attempt, with jitter. Default 1s.
	RetryBackoff time.Duration
	// MaxRetryWait is the longest Retry-After honoured within a pass; a longer one
	// gives the URL up until the next pass. Default 2m.
	MaxRetryWait time.Duration
	// MaxRedirects bounds a redirect chain. Default 5.
	MaxRedirects int
	// PublishTimeout bounds the publication of one fetched article, retries
	// included. It is not cut short by the crawl's context, so that a page fetched
	// before a shutdown is still published. Default 30s.
	PublishTimeout time.Duration
	// SourceParallelism is the number of sources crawled at once. Default 4.
	SourceParallelism int
	// State is the seen-set. Default: in memory, forgotten when the process ends
	// (internal/statedb.OpenCrawlState is a file that survives restarts).
	State Store
	// Metrics receives the crawler's counters. Default: a new Metrics, see
	// Crawler.Metrics.
	Metrics *Metrics
	// Tickers maps the tickers of the entities file to company names: a
	// ticker of an edgar source outside it is refused. Default: not checked.
	Tickers map[string]string
	// Dial, when set, replaces the network dialer (tests record and refuse with it,
	// or map test host names to loopback). The private-address guard still applies
	// to IP literals; host names are the dialer's to resolve.
	Dial DialFunc
}

// Validate names the first bad field.
func (c Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"Timeout", int64(c.Timeout)}, {"MaxBodyBytes", int64(c.MaxBodyBytes)}, {"MinTextBytes", int64(c.MinTextBytes)},
		{"MaxRobotsBytes", int64(c.MaxRobotsBytes)}, {"RobotsTimeout", int64(c.RobotsTimeout)},
		{"MaxAttempts", int64(c.MaxAttempts)}, {"RetryBackoff", int64(c.RetryBackoff)}, {"MaxRetryWait", int64(c.MaxRetryWait)},
		{"MaxRedirects", int64(c.MaxRedirects)}, {"PublishTimeout", int64(c.PublishTimeout)}, {"SourceParallelism", int64(c.SourceParallelism)},
	} {
		if f.v < 0 {
			return fmt.Errorf("crawler config: %s must not be negative (0 means the default)", f.name)
		}
	}
	if c.SourceParallelism > MaxParallelism {
		return fmt.Errorf("crawler config: SourceParallelism must be at most %d", MaxParallelism)
	}
	if c.MaxRedirects > 20 || c.MaxAttempts > 20 {
		return errors.New("crawler config: MaxRedirects and MaxAttempts must be at most 20")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.UserAgent == "" {
		c.UserAgent = "mwledger/0.1 (+https://github.com/mwledger/mwledger)"
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 10 << 20
	}
	if c.MaxRobotsBytes == 0 {
		c.MaxRobotsBytes = 512 << 10
	}
	if c.RobotsTimeout == 0 {
		c.RobotsTimeout = 10 * time.Second
	}
	if c.MinTextBytes == 0 {
		c.MinTextBytes = 200
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 3
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = time.Second
	}
	if c.MaxRetryWait == 0 {
		c.MaxRetryWait = 2 * time.Minute
	}
	if c.MaxRedirects == 0 {
		c.MaxRedirects = 5
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = 30 * time.Second
	}
	if c.SourceParallelism == 0 {
		c.SourceParallelism = 4
	}
	if c.State == nil {
		c.State = NewMemoryState()
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics()
	}
	return c
}
