package indexer

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/mwledger/mwledger/schemas"
)

// searchCache keeps, in memory, the part of every deal that queries read
// (matchView) and its free-text words, valid for one generation of the
// ledger: any write (Upsert, AckAlerts, Review, by this process or another)
// moves the generation on and the next search reloads it. Searches filter and sort the cache, then read
// only the deals of the page from the file.
type searchCache struct {
	mu    sync.Mutex
	gen   uint64
	valid bool
	deals []cachedDeal
	// byWord lists, per free-text word, the deals (indexes into deals, in
	// order) that have it: a text query reads only the deals of its rarest word.
	byWord map[string][]int32
}

type cachedDeal struct {
	deal  Deal     // matchView fields only
	words []string // sorted, distinct: textWords
	// announced is the "announced" sort key (sortKey), parsed once.
	announced   float64
	announcedOK bool
	lower       dealLower
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

// load returns the cached deals of the transaction's snapshot and their
// word index.
func (c *searchCache) load(ctx context.Context, tx KVTx) ([]cachedDeal, map[string][]int32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	gen := tx.Generation()
	if c.valid && c.gen == gen {
		return c.deals, c.byWord, nil
	}
	byWord := map[string][]int32{}
	var out []cachedDeal
	var err error
	tx.Scan(BucketDeals, nil, func(k, v []byte) bool {
		if err = ctx.Err(); err != nil {
			return false
		}
		var mv matchView
		if err := json.Unmarshal(v, &mv); err != nil {
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
		for _, w := range ws {
			byWord[w] = append(byWord[w], int32(len(out)))
		}
		ann, annOK := Query{Sort: "announced"}.sortKey(&d)
		out = append(out, cachedDeal{deal: d, words: ws, announced: ann, announcedOK: annOK, lower: lowerOf(&d)})
		return true
	})
	if err != nil {
		return nil, nil, err
	}
	c.deals, c.byWord, c.gen, c.valid = out, byWord, gen, true
	return out, byWord, nil
}

// matching returns the deals q matches (their matchView, shared: not to be
// changed), sorted as q says unless unsorted; with page > 0 only the first
// page deals need to be in order (the rest follow in no order).
func (s *KVStore) matching(ctx context.Context, tx KVTx, q Query, unsorted bool, page int) ([]*Deal, error) {
	all, byWord, err := s.search.load(ctx, tx)
	if err != nil {
		return nil, err
	}
	var hits []keyed
	p := q.plan() // once, not per deal
	// With free text, only the deals that have its rarest word can match.
	var only []int32
	if len(p.want) > 0 {
		for i, w := range p.want {
			if l := byWord[w]; i == 0 || len(l) < len(only) {
				only = l
			}
		}
		if len(only) == 0 {
			return []*Deal{}, nil
		}
	}
	n := len(all)
	if only != nil {
		n = len(only)
	}
	for j := range n {
		if j%256 == 0 {
			// The caller hung up or its deadline passed: stop burning CPU.
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		i := j
		if only != nil {
			i = int(only[j])
		}
		d := &all[i].deal
		if q.matchesPlan(d, all[i].words, &all[i].lower, p) {
			var k float64
			var ok bool
			if q.Sort == "announced" {
				k, ok = all[i].announced, all[i].announcedOK
			} else {
				k, ok = q.sortKey(d)
			}
			hits = append(hits, keyed{k, ok, d})
		}
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
	out := make([]*Deal, len(hits))
	for i, h := range hits {
		out[i] = h.d
	}
	return out, nil
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
			if d := getDeal(tx, h.ID); d != nil {
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
			if d := getDeal(tx, h.ID); d != nil {
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
	var hits []*Deal
	err := s.kv.View(ctx, func(tx KVTx) error {
		var err error
		hits, err = s.matching(ctx, tx, q, true, 0) // aggregations do not need an order
		return err
	})
	if err != nil {
		return fmt.Errorf("scanning ledger: %w", err)
	}
	for _, d := range hits {
		if err := fn(summary(*d)); err != nil {
			return err
		}
	}
	return nil
}
