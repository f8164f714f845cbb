package crawler

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Source is one outlet to crawl.
type Source struct {
	// Name identifies the source in records and metrics. Required.
	Name string `yaml:"name"`
	// Feeds are RSS or Atom feed URLs; every item link is an article.
	Feeds []string `yaml:"feeds"`
	// Listings are index pages whose LinkSelector links are articles.
	Listings []Listing `yaml:"listings"`
	// URLs are article URLs fetched as they are.
	URLs []string `yaml:"urls"`
	// AllowedDomains are the hosts the crawler may fetch from. Default: the hosts of
	// the start URLs.
	AllowedDomains []string `yaml:"allowed_domains"`
	// AllowPrivate allows loopback and private addresses (tests and intranets only).
	// Default false.
	AllowPrivate bool `yaml:"allow_private"`
	// Delay between requests to one domain. Default 1s.
	Delay Duration `yaml:"delay"`
	// Parallelism is the number of concurrent requests per domain. Default 2.
	Parallelism int `yaml:"parallelism"`
	// Keywords, when set, publish only pages that mention at least one of them
	// (case-insensitive). Default: publish every article page.
	Keywords []string `yaml:"keywords"`
}

// Listing is an index page of articles.
type Listing struct {
	URL          string `yaml:"url"`
	LinkSelector string `yaml:"link_selector"`
	// NextSelector finds the link to the next page of the listing. Optional.
	NextSelector string `yaml:"next_selector"`
	// MaxPages bounds pagination. Default 20.
	MaxPages int `yaml:"max_pages"`
}

// Duration reads "1s", "250ms" from YAML.
type Duration struct{ time.Duration }

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 1s or 250ms", n.Line, n.Value)
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
	var f SourcesFile
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parsing sources file %s: %w", path, err)
	}
	if len(f.Sources) == 0 {
		return nil, fmt.Errorf("sources file %s: no sources", path)
	}
	for i := range f.Sources {
		if err := f.Sources[i].Validate(); err != nil {
			return nil, fmt.Errorf("sources file %s: source %d: %w", path, i+1, err)
		}
	}
	return f.Sources, nil
}

// Validate names the first bad field.
func (s *Source) Validate() error {
	if s.Name == "" {
		return errors.New("name is required")
	}
	if len(s.Feeds)+len(s.Listings)+len(s.URLs) == 0 {
		return fmt.Errorf("%s: give at least one of feeds, listings or urls", s.Name)
	}
	check := func(field, u string) error {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("%s: %s %q is not an http(s) URL", s.Name, field, u)
		}
		return nil
	}
	for _, u := range s.Feeds {
		if err := check("feed", u); err != nil {
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
		if l.MaxPages < 0 {
			return fmt.Errorf("%s: listing %s: max_pages must not be negative", s.Name, l.URL)
		}
	}
	for _, u := range s.URLs {
		if err := check("url", u); err != nil {
			return err
		}
	}
	if s.Parallelism < 0 || s.Delay.Duration < 0 {
		return fmt.Errorf("%s: parallelism and delay must not be negative", s.Name)
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
	for _, l := range s.Listings {
		out = append(out, l.URL)
	}
	return append(out, s.URLs...)
}

// Config is the crawler's own configuration.
type Config struct {
	// UserAgent sent with every request. Default "mwledger/0.1 (+https://github.com/mwledger/mwledger)".
	UserAgent string
	// Timeout of one request. Default 30s.
	Timeout time.Duration
	// MaxBodyBytes is the largest page accepted; larger pages are refused and counted,
	// never truncated. Default 10 MiB.
	MaxBodyBytes int
	// Dial, when set, replaces the network dialer (tests record and refuse with it).
	Dial DialFunc
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
	return c
}
