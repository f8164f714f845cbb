package statedb

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/mwledger/mwledger/crawler"
)

// CrawlState is the crawler's seen-set in a state file: it survives
// restarts, and several crawlers may share it. Each write is committed
// when PutArticle or PutDoc returns.
type CrawlState struct {
	db *DB
}

var _ crawler.Store = (*CrawlState)(nil)

const (
	tableArticles = "articles"
	tableAliases  = "aliases"
	tableDocs     = "docs"
)

// OpenCrawlState opens (or creates) the seen-set file at path (see Open for
// a bbolt file of an older mwledger: it is moved aside with a warning on log).
func OpenCrawlState(path string, log *slog.Logger) (*CrawlState, error) {
	db, err := Open(path, "crawl state", log, tableArticles, tableAliases, tableDocs)
	if err != nil {
		return nil, err
	}
	return &CrawlState{db: db}, nil
}

func (s *CrawlState) get(table, key string, v any) (bool, error) {
	raw, err := s.db.Get(table, key)
	if err != nil || raw == nil {
		return false, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("crawl state: %s %s: %w", table, key, err)
	}
	return true, nil
}

// Article implements crawler.Store.
func (s *CrawlState) Article(key string) (crawler.Entry, bool, error) {
	var e crawler.Entry
	ok, err := s.get(tableArticles, key, &e)
	return e, ok, err
}

// PutArticle implements crawler.Store.
func (s *CrawlState) PutArticle(key string, e crawler.Entry, aliases ...string) error {
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *Tx) error {
		if err := tx.Put(tableArticles, key, v); err != nil {
			return err
		}
		for _, a := range aliases {
			if a == key {
				continue
			}
			if err := tx.Put(tableAliases, a, []byte(key)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Alias implements crawler.Store.
func (s *CrawlState) Alias(u string) (string, bool, error) {
	k, err := s.db.Get(tableAliases, u)
	return string(k), len(k) > 0, err
}

// Doc implements crawler.Store.
func (s *CrawlState) Doc(u string) (crawler.DocState, bool, error) {
	var d crawler.DocState
	ok, err := s.get(tableDocs, u, &d)
	return d, ok, err
}

// PutDoc implements crawler.Store.
func (s *CrawlState) PutDoc(u string, d crawler.DocState) error {
	v, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *Tx) error { return tx.Put(tableDocs, u, v) })
}

// Len returns the number of articles recorded.
func (s *CrawlState) Len() (int, error) { return s.db.Count(tableArticles) }

// Close closes the file.
func (s *CrawlState) Close() error { return s.db.Close() }
