package crawler

import (
	"sync"
	"time"
)

// Entry is what the seen-set remembers of one article, by canonical URL.
type Entry struct {
	// FetchURL is the (canonicalised) address whose content was recorded. Only it
	// can publish a new version: alternates that declare the same rel=canonical
	// (AMP, print, syndicated copies) are duplicates.
	FetchURL string `json:"fetch_url"`
	// TextHash is the sha256 of the page's visible text: markup, scripts and
	// nonces that change on every request do not make a new version.
	TextHash string `json:"text_hash"`
	// Sketch is a MinHash of the visible text (textSketch): a page naming this
	// URL as its canonical is a duplicate only when its text is similar.
	Sketch []uint32 `json:"sketch,omitempty"`
	// ContentHash is the sha256 of the raw body last published.
	ContentHash string `json:"content_hash,omitempty"`
	// ETag and LastModified are the validators of FetchURL, for a conditional GET.
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// Version is the number of contents published under the key; 0 when the page
	// was seen but not published (keyword filter, no content).
	Version     int       `json:"version"`
	PublishedAt time.Time `json:"published_at,omitzero"`
	CheckedAt   time.Time `json:"checked_at"`
}

// DocState is what the seen-set remembers of a feed or sitemap: its validators
// and the links it held, so that a 304 still visits them (an interrupted pass
// must not lose the articles of a feed that has not changed since).
type DocState struct {
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Links        []Link    `json:"links"`
	CheckedAt    time.Time `json:"checked_at"`
}

// Store is the crawler's seen-set. Implementations are safe for concurrent
// use: MemoryState, or a file that survives restarts (internal/statedb's
// CrawlState, which mwledger crawl and run open).
type Store interface {
	// Article returns the entry of a canonical URL.
	Article(key string) (Entry, bool, error)
	// PutArticle records an entry, and aliases (other canonicalised URLs that
	// turned out to be the same page) pointing at it.
	PutArticle(key string, e Entry, aliases ...string) error
	// Alias returns the canonical URL a fetched URL turned out to be.
	Alias(fetchURL string) (string, bool, error)
	// Doc returns the state of a feed or sitemap.
	Doc(url string) (DocState, bool, error)
	// PutDoc records the state of a feed or sitemap.
	PutDoc(url string, d DocState) error
	Close() error
}

// MemoryState is a Store in memory: the seen-set of one process.
type MemoryState struct {
	mu       sync.Mutex
	articles map[string]Entry
	aliases  map[string]string
	docs     map[string]DocState
}

var _ Store = (*MemoryState)(nil)

// NewMemoryState returns an empty in-memory seen-set.
func NewMemoryState() *MemoryState {
	return &MemoryState{articles: map[string]Entry{}, aliases: map[string]string{}, docs: map[string]DocState{}}
}

// Article implements Store.
func (m *MemoryState) Article(key string) (Entry, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.articles[key]
	return e, ok, nil
}

// PutArticle implements Store.
func (m *MemoryState) PutArticle(key string, e Entry, aliases ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.articles[key] = e
	for _, a := range aliases {
		if a != key {
			m.aliases[a] = key
		}
	}
	return nil
}

// Alias implements Store.
func (m *MemoryState) Alias(u string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.aliases[u]
	return k, ok, nil
}

// Doc implements Store.
func (m *MemoryState) Doc(u string) (DocState, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.docs[u]
	return d, ok, nil
}

// PutDoc implements Store.
func (m *MemoryState) PutDoc(u string, d DocState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.docs[u] = d
	return nil
}

// Close implements Store.
func (m *MemoryState) Close() error { return nil }
