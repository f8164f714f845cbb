package indexer

import (
	"context"
	"sort"
	"time"

	"github.com/mwledger/mwledger/schemas"
)

// Deal is a ledger document: the contract's fields and every source that reported it.
type Deal struct {
	schemas.Contract
	Sources   []DealSource `json:"sources"`
	IndexedAt time.Time    `json:"indexed_at"`
}

// DealSource is one article that reported a deal.
type DealSource struct {
	URL              string   `json:"url"`
	Title            *string  `json:"title"`
	Outlet           *string  `json:"outlet"`
	PublishedAt      *string  `json:"published_at"`
	Evidence         []string `json:"evidence"`
	ExtractorVersion string   `json:"extractor_version"`
}

func sourceOf(c schemas.Contract) DealSource {
	return DealSource{URL: c.Source.URL, Title: c.Source.Title, Outlet: c.Source.Outlet, PublishedAt: c.Source.PublishedAt,
		Evidence: c.Evidence, ExtractorVersion: c.ExtractorVersion}
}

// merge folds a new record into the stored deal (nil when new). The record's fields
// replace the deal's; its source replaces an earlier entry for the same URL.
// Applying the same record twice gives the same deal: replays are harmless.
func merge(old *Deal, c schemas.Contract, now time.Time) Deal {
	d := Deal{Contract: c, IndexedAt: now}
	if old != nil {
		for _, s := range old.Sources {
			if s.URL != c.Source.URL {
				d.Sources = append(d.Sources, s)
			}
		}
	}
	d.Sources = append(d.Sources, sourceOf(c))
	sort.Slice(d.Sources, func(i, j int) bool { return d.Sources[i].URL < d.Sources[j].URL })
	return d
}

// Store is where the indexer writes deals.
type Store interface {
	// Upsert writes the records and returns one error per record (nil = stored).
	// A returned error that is retryable (see pipeline.IsRetryable) may succeed later.
	Upsert(ctx context.Context, cs []schemas.Contract) []error
	// Search answers a query over the ledger.
	Search(ctx context.Context, q Query) (Result, error)
}
