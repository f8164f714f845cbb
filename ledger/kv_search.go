package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/mwledger/mwledger/schemas"
)

// searchCache keeps, in memory, the part of every deal that queries read
// (matchView), its free-text words and a packed row of what the cheap
// filters and the sorts read, with indexes (kv_search_index.go), valid for
// one generation of the ledger: any write (Upsert, AckAlerts, Review, by
// this process or another) moves the generation on and the next search
// reloads it. Searches filter and sort the cache, then read only the deals
// of the page from the file.
type searchCache struct {
	mu    sync.Mutex
	gen   uint64
	valid bool
	view  *searchView
}

// searchView is one generation's deals, rows and indexes; not changed once
// loaded.
type searchView struct {
	deals []cachedDeal
	rows  []dealRow // rows[i] is deals[i]'s
	index *searchIndex
}

type cachedDeal struct {
	deal  Deal     // matchView fields only
	words []string // sorted, distinct: textWords
	lower dealLower
}

// matchView is the part of a deal document that queries read.
type matchView struct {
	schemas.Contract
	Status  string   `json:"status"`
	Current *Figures `json:"current"`
	Parts   []string `json:"parts"`
	Reasons []string `json:"review_reasons"`
	Sources []struct {
		Title    *string  `json:"title"`
		Evidence []string `json:"evidence"`
	} `json:"sources"`
	Provenance []struct {
		Field string `json:"field"`
		Value string `json:"value"`
	} `json:"provenance"`
}

// load returns the view of the transaction's snapshot.
func (c *searchCache) load(ctx context.Context, tx KVTx) (*searchView, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	gen := tx.Generation()
	if c.valid && c.gen == gen {
		return c.view, nil
	}
	v := &searchView{index: newSearchIndex()}
	var err error
	tx.Scan(BucketDeals, nil, func(k, b []byte) bool {
		if err = ctx.Err(); err != nil {
			return false
		}
		var mv matchView
		if err := json.Unmarshal(b, &mv); err != nil {
			return true
		}
		d := Deal{Contract: mv.Contract, Status: mv.Status, Current: mv.Current, Parts: mv.Parts, ReviewReasons: mv.Reasons}
		d.ID = string(k)
		d.FieldEvidence = nil
		for _, s := range mv.Sources {
			d.Sources = append(d.Sources, DealSource{Title: s.Title, Evidence: s.Evidence})
		}
		for _, p := range mv.Provenance {
			if p.Field == "counterparty" {
				d.Provenance = append(d.Provenance, FieldClaim{Field: p.Field, Value: p.Value})
			}
		}
		set := textWords(d)
		ws := make([]string, 0, len(set))
		for w := range set {
			ws = append(ws, w)
		}
		sort.Strings(ws)
		d.Evidence, d.Sources = nil, nil // only the words are needed from here on
		v.deals = append(v.deals, cachedDeal{deal: d, words: ws, lower: lowerOf(&d)})
		v.rows = append(v.rows, rowOf(&d))
		return true
	})
	if err != nil {
		return nil, err
	}
	for i := range v.deals {
		v.index.add(int32(i), &v.deals[i])
	}
	v.index.done(v.deals)
	c.view, c.gen, c.valid = v, gen, true
	return v, nil
}

// matching returns the deals q matches (their matchView, shared: not to be
// changed) with their sort keys, sorted as q says unless unsorted; with
// page > 0 only the first page deals need to be in order (the rest follow
// in no order).
func (s *KVStore) matching(ctx context.Context, tx KVTx, q Query, unsorted bool, page int) ([]keyed, error) {
	v, err := s.search.load(ctx, tx)
	if err != nil {
		return nil, err
	}
	p := q.plan() // once, not per deal
	// An indexed filter (free text, operator, counterparty, dates, location,
	// hardware) narrows the deals to read; the rows answer the rest alone
	// when the query has no other filter.
	only, all := v.index.candidates(q, p, len(v.deals))
	if !all && len(only) == 0 {
		return []keyed{}, nil
	}
	n := len(v.deals)
	if !all {
		n = len(only)
	}
	rowOnly := q.rowOnly(p)
	hits := make([]keyed, 0, min(n, 1024))
	for j := range n {
		if j%256 == 0 {
			// The caller hung up or its deadline passed: stop burning CPU.
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		i := j
		if !all {
			i = int(only[j])
		}
		r := &v.rows[i]
		if !q.rowMatches(r) {
			continue
		}
		c := &v.deals[i]
		if !rowOnly && !q.matchesPlan(&c.deal, c.words, &c.lower, p) {
			continue
		}
		k, ok := r.key(q.Sort)
		hits = append(hits, keyed{k, ok, &c.deal})
	}
	if !unsorted {
		// The keys are computed once (dates are parsed), then compared as q.less does.
		less := func(a, b keyed) bool {
			if a.ok != b.ok {
				return a.ok
			}
			if a.key != b.key {
				if q.Order == "asc" {
					return a.key < b.key
				}
				return a.key > b.key
			}
			return a.d.ID < b.d.ID
		}
		if page > 0 && page < len(hits)/4 {
			selectFirst(hits, page, less)
			hits2 := hits[:page]
			sort.Slice(hits2, func(i, j int) bool { return less(hits2[i], hits2[j]) })
		} else {
			sort.Slice(hits, func(i, j int) bool { return less(hits[i], hits[j]) })
		}
	}
	return hits, nil
}

type keyed struct {
	key float64
	ok  bool
	d   *Deal
}

// selectFirst moves the n first hits in less's order to hits[:n] (in no
// order): a heap of n, the largest on top, over one pass.
func selectFirst(hits []keyed, n int, less func(a, b keyed) bool) {
	h := hits[:n]
	// down restores the heap below i (the root is the largest).
	down := func(i int) {
		for {
			l, big := 2*i+1, i
			if l < n && less(h[big], h[l]) {
				big = l
			}
			if r := l + 1; r < n && less(h[big], h[r]) {
				big = r
			}
			if big == i {
				return
			}
			h[i], h[big] = h[big], h[i]
			i = big
		}
	}
	for i := n/2 - 1; i >= 0; i-- {
		down(i)
	}
	for i := n; i < len(hits); i++ {
		if less(hits[i], h[0]) {
			h[0], hits[i] = hits[i], h[0]
			down(0)
		}
	}
}

// Search filters and sorts the in-memory view of the ledger and reads the
// deals of the page from the file.
func (s *KVStore) Search(ctx context.Context, q Query) (Result, error) {
	if err := q.Validate(); err != nil {
		return Result{}, err
	}
	res := Result{Deals: []Deal{}}
	err := s.kv.View(ctx, func(tx KVTx) error {
		hits, err := s.matching(ctx, tx, q, false, q.From+q.PageSize())
		if err != nil {
			return err
		}
		res.Total = len(hits)
		// Validate bounds From and Size by MaxPageSize: no overflow here.
		from := min(q.From, len(hits))
		to := from + min(q.PageSize(), len(hits)-from)
		res.Deals = res.Deals[:0]
		for _, h := range hits[from:to] {
			if d := getDeal(tx, h.d.ID); d != nil {
				res.Deals = append(res.Deals, *d)
			}
		}
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("searching ledger: %w", err)
	}
	return res, nil
}

// Scan calls fn with every deal the query matches, in the query's order,
// ignoring Size and From (as the Elasticsearch store's Scan, and like it without the sources'
// claims, the alerts and the record ids).
func (s *KVStore) Scan(ctx context.Context, q Query, fn func(Deal) error) error {
	if err := q.Validate(); err != nil {
		return err
	}
	var deals []Deal
	err := s.kv.View(ctx, func(tx KVTx) error {
		hits, err := s.matching(ctx, tx, q, false, 0)
		if err != nil {
			return err
		}
		deals = make([]Deal, 0, len(hits))
		for _, h := range hits {
			if err := ctx.Err(); err != nil {
				return err
			}
			if d := getDeal(tx, h.d.ID); d != nil {
				deals = append(deals, scanView(*d))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("scanning ledger: %w", err)
	}
	for _, d := range deals {
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

// scanView drops what Scan leaves out (the Elasticsearch store's _source excludes).
func scanView(d Deal) Deal {
	d.Alerts, d.RecordIDs = nil, nil
	for i := range d.Sources {
		d.Sources[i].Claims = nil
	}
	return d
}

// ScanSummary calls fn with the summary (SummaryFields) of every deal q
// matches, from memory: what aggregations read.
func (s *KVStore) ScanSummary(ctx context.Context, q Query, fn func(Deal) error) error {
	if err := q.Validate(); err != nil {
		return err
	}
	var hits []keyed
	err := s.kv.View(ctx, func(tx KVTx) error {
		var err error
		hits, err = s.matching(ctx, tx, q, true, 0) // aggregations do not need an order
		return err
	})
	if err != nil {
		return fmt.Errorf("scanning ledger: %w", err)
	}
	for _, h := range hits {
		if err := fn(summary(*h.d)); err != nil {
			return err
		}
	}
	return nil
}

// aggregateView runs aggregation name over the deals q matches in the
// view, in place: what AggregateScan over ScanSummary gives (aggregate
// reads SummaryFields only), without copying every deal out.
func (s *KVStore) aggregateView(ctx context.Context, name string, q Query) (AggResult, error) {
	if err := q.Validate(); err != nil {
		return AggResult{}, err
	}
	var hits []keyed
	err := s.kv.View(ctx, func(tx KVTx) error {
		var err error
		hits, err = s.matching(ctx, tx, q, true, 0)
		return err
	})
	if err != nil {
		return AggResult{}, fmt.Errorf("scanning ledger: %w", err)
	}
	ds := make([]*Deal, len(hits))
	for i, h := range hits {
		ds[i] = h.d
	}
	return aggregate(name, ds)
}
