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

// merge folds a new record into the stored deal (nil when new). The record's
// known fields replace the deal's, its unknown (null) fields leave what an earlier
// source said, $/MW/year is derived again from the merged inputs, and its source
// replaces an earlier entry for the same URL. Applying the same record twice gives
// the same deal: replays are harmless.
// TODO(issue 5): provenance per field and visible conflicts instead of last-wins.
func merge(old *Deal, c schemas.Contract, now time.Time) Deal {
	d := Deal{Contract: c, IndexedAt: now}
	if old != nil {
		o := old.Contract
		keep := func(dst **float64, prev *float64) {
			if *dst == nil {
				*dst = prev
			}
		}
		keep(&d.CapacityMW, o.CapacityMW)
		keep(&d.TotalValueUSD, o.TotalValueUSD)
		keep(&d.TermYears, o.TermYears)
		keep(&d.ReportedUSDPerMWYear, o.ReportedUSDPerMWYear)
		keep(&d.PrepaymentUSD, o.PrepaymentUSD)
		keep(&d.GuaranteeUSD, o.GuaranteeUSD)
		for _, p := range []struct{ dst, prev **string }{{&d.Location, &o.Location}, {&d.Hardware, &o.Hardware}, {&d.AnnouncedOn, &o.AnnouncedOn}} {
			if *p.dst == nil {
				*p.dst = *p.prev
			}
		}
		if d.EndUser == nil {
			d.EndUser = o.EndUser
		}
		if d.Guarantor == nil {
			d.Guarantor = o.Guarantor
		}
		if d.ContractType == schemas.TypeUnknown {
			d.ContractType = o.ContractType
		}
		d.Terms = union(o.Terms, c.Terms)
		d.Evidence = union(o.Evidence, c.Evidence)
		for _, s := range old.Sources {
			if s.URL != c.Source.URL {
				d.Sources = append(d.Sources, s)
			}
		}
	}
	d.USDPerMWYear = schemas.DerivedUSDPerMWYear(d.TotalValueUSD, d.CapacityMW, d.TermYears)
	d.Sources = append(d.Sources, sourceOf(c))
	sort.Slice(d.Sources, func(i, j int) bool { return d.Sources[i].URL < d.Sources[j].URL })
	return d
}

// union keeps a's order and appends what b adds.
func union(a, b []string) []string {
	out := append([]string{}, a...)
	seen := map[string]bool{}
	for _, s := range a {
		seen[s] = true
	}
	for _, s := range b {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Store is where the indexer writes deals.
type Store interface {
	// Upsert writes the records and returns one error per record (nil = stored).
	// A returned error that is retryable (see pipeline.IsRetryable) may succeed later.
	Upsert(ctx context.Context, cs []schemas.Contract) []error
	// Search answers a query over the ledger.
	Search(ctx context.Context, q Query) (Result, error)
}
