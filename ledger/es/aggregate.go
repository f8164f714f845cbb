package es

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/mwledger/mwledger/schemas"
	"io"
	"math"
	"sort"
	"time"

	"github.com/mwledger/mwledger/ledger"
)

// Document is a deal as Elasticsearch indexes it: the deal's JSON (as the
// embedded store keeps it) followed by its "agg" object (ledger.AggFacts:
// what Aggregate derives from the deal, precomputed when the deal is
// written, so that Elasticsearch aggregates without scripts). Every write of a deal
// to Elasticsearch goes through it (documents without agg send the
// aggregations to the slow Go path).
func Document(d *ledger.Deal) ([]byte, error) {
	return json.Marshal(struct {
		*ledger.Deal
		Agg ledger.AggFacts `json:"agg"`
	}{d, ledger.AggFactsOf(*d)})
}

// withAggFields sets (or refreshes) the "agg" object of a stored deal
// document, and the review_reasons a document of an older mapping lacks (so
// that migrated deals join the review queue), keeping every other field as it
// is (reindex).
func withAggFields(src json.RawMessage) ([]byte, error) {
	var d ledger.Deal
	if err := json.Unmarshal(src, &d); err != nil {
		return nil, err
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	// The names' keys, as this version computes them: identity looks deals
	// up by them (a document from before MappingVersion 6 may lack them, or
	// have none for an undisclosed counterparty).
	ledger.SetKeys(&d.Contract)
	var err error
	if doc["operator"], err = json.Marshal(d.Operator); err != nil {
		return nil, err
	}
	if doc["counterparty"], err = json.Marshal(d.Counterparty); err != nil {
		return nil, err
	}
	agg, err := json.Marshal(ledger.AggFactsOf(d))
	if err != nil {
		return nil, err
	}
	doc["agg"] = agg
	if _, ok := doc["review_reasons"]; !ok {
		if why := ledger.ReviewReasons(d); len(why) > 0 {
			if doc["review_reasons"], err = json.Marshal(why); err != nil {
				return nil, err
			}
		}
	}
	return json.Marshal(doc)
}

const (
	// esAggPage is how many groups one request returns (composite
	// aggregation pages): Elasticsearch's default search.max_buckets. Halved
	// while Elasticsearch finds a page too many buckets.
	esAggPage = 65536
	// esAggCompression is the first percentiles compression. Elasticsearch's
	// default t-digest keeps every value, and so gives the exact median, up to
	// 20 × compression values per group (HybridDigest); a group with more is
	// aggregated again with a compression that covers it.
	esAggCompression = 5000
)

// Aggregate computes aggregation name (valid) over the deals q matches with
// Elasticsearch aggregations, to the same result as ledger.Aggregate: deals are
// grouped by a composite aggregation (terms on contract_type, agg.counterparty
// or operator.name; a quarterly date_histogram on announced_on, missing =
// "unknown") paged through with after_key, under a filter that leaves out
// agg.skip; per group the sums of agg.mw and agg.value_usd, stats and the 50th
// percentile of usd_per_mw_year, and for tiers a filter on
// agg.hyperscaler_grade with its MW. The counterparties of each operator
// (tiers) come from a second composite aggregation over (operator.name,
// agg.counterparty) pairs: a terms aggregation under each of tens of
// thousands of operators costs seconds.
//
// Deals written without the agg object (by an older indexer, or a writer
// that does not use Document) cannot be aggregated this way: then it falls
// back to ledger.AggregateScan and logs why.
func (s *Store) Aggregate(ctx context.Context, name string, q ledger.Query) (ledger.AggResult, error) {
	if err := q.Validate(); err != nil {
		return ledger.AggResult{}, err
	}
	compression, page := esAggCompression, esAggPage
	for {
		out, need, err := s.esAggregateOnce(ctx, name, q, compression, &page)
		switch {
		case errors.Is(err, errAggFallback):
			s.log.Warn("aggregating in Go", "alias", s.alias, "aggregation", name, "reason", err)
			return ledger.AggregateScan(ctx, s, name, q)
		case err != nil:
			return ledger.AggResult{}, err
		case need > 0:
			compression = need
			continue
		}
		if name == "tiers" {
			cps, err := s.esCounterparties(ctx, q, &page)
			if err != nil {
				return ledger.AggResult{}, err
			}
			for i := range out.Rows {
				out.Rows[i].Counterparties = cps[out.Rows[i].Key]
			}
		}
		ledger.SortAggRows(name, out.Rows)
		return out, nil
	}
}

// errAggFallback says that Aggregate cannot answer and ledger.AggregateScan must.
var errAggFallback = errors.New("elasticsearch cannot aggregate these deals")

// esAggregateOnce runs Aggregate but for the order of the rows and the
// counterparties of tiers, with a percentiles compression and a page size
// (halved while Elasticsearch finds a page too many buckets); when a group has
// too many prices for the compression to give the exact median, it returns
// the compression needed instead.
func (s *Store) esAggregateOnce(ctx context.Context, name string, q ledger.Query, compression int, page *int) (out ledger.AggResult, need int, err error) {
	out = ledger.AggResult{Name: name, Rows: []ledger.AggRow{}}
	var after json.RawMessage
	for {
		var res esAggResponse
		err := s.aggSearch(ctx, esAggBody(name, q, *page, compression, after), &res)
		if errors.Is(err, errTooManyBuckets) && *page > 50 {
			*page /= 2 // the same page again, smaller
			continue
		}
		if err != nil {
			return out, 0, err
		}
		a := res.Aggregations
		if after == nil {
			if a.Legacy.DocCount > 0 {
				return out, 0, fmt.Errorf("%w: %d deals have no agg object (written by an older indexer: reindex)", errAggFallback, a.Legacy.DocCount)
			}
			out.Deals, out.Skipped = a.Counted.DocCount, a.Skipped.DocCount
		}
		for _, b := range a.Counted.Groups.Buckets {
			if b.Price.Count >= 20*compression {
				return out, b.Price.Count/20 + 1, nil
			}
			row, err := b.row(name)
			if err != nil {
				return out, 0, err
			}
			out.Rows = append(out.Rows, row)
		}
		if len(a.Counted.Groups.Buckets) < *page {
			return out, 0, nil
		}
		after = a.Counted.Groups.AfterKey
	}
}

// counted is the filter of the deals aggregations count (not skipped).
var counted = m{"bool": m{"must_not": []any{m{"term": m{"agg.skip": true}}}}}

// esAggBody is one request of esAggregateOnce: the page of groups after
// after (nil: the first page, which also counts the deals).
func esAggBody(name string, q ledger.Query, page, compression int, after json.RawMessage) m {
	var source m
	switch name {
	case "by-type":
		source = m{"terms": m{"field": schemas.FieldContractType, "missing_bucket": true}}
	case "by-counterparty":
		source = m{"terms": m{"field": "agg.counterparty", "missing_bucket": true}}
	case "by-quarter":
		source = m{"date_histogram": m{"field": schemas.FieldAnnouncedOn, "calendar_interval": "quarter", "time_zone": "UTC", "missing_bucket": true}}
	default: // by-operator, tiers
		source = m{"terms": m{"field": "operator.name", "missing_bucket": true}}
	}
	sub := m{
		"mw":     m{"sum": m{"field": "agg.mw"}},
		"value":  m{"sum": m{"field": "agg.value_usd"}},
		"price":  m{"stats": m{"field": schemas.FieldUSDPerMWYear}},
		"median": m{"percentiles": m{"field": schemas.FieldUSDPerMWYear, "percents": []float64{50}, "keyed": false, "tdigest": m{"compression": compression}}},
	}
	if name == "tiers" {
		sub["grade"] = m{"filter": m{"term": m{"agg.hyperscaler_grade": true}}, "aggs": m{"mw": m{"sum": m{"field": "agg.mw"}}}}
	}
	composite := m{"size": page, "sources": []any{m{"key": source}}}
	if after != nil {
		composite["after"] = after
	}
	aggs := m{"counted": m{"filter": counted, "aggs": m{"groups": m{"composite": composite, "aggs": sub}}}}
	if after == nil {
		aggs["skipped"] = m{"filter": m{"term": m{"agg.skip": true}}}
		aggs["legacy"] = m{"filter": m{"bool": m{"must_not": []any{m{"exists": m{"field": "agg.skip"}}}}}}
	}
	return m{"size": 0, "track_total_hits": false, "query": esQuery(q)["query"], "aggs": aggs}
}

// esCounterparties returns the distinct counterparty labels of each operator
// among the counted deals q matches, sorted.
func (s *Store) esCounterparties(ctx context.Context, q ledger.Query, page *int) (map[string][]string, error) {
	out := map[string][]string{}
	var after json.RawMessage
	for {
		composite := m{"size": *page, "sources": []any{
			m{"op": m{"terms": m{"field": "operator.name", "missing_bucket": true}}},
			m{"cp": m{"terms": m{"field": "agg.counterparty", "missing_bucket": true}}},
		}}
		if after != nil {
			composite["after"] = after
		}
		body := m{"size": 0, "track_total_hits": false, "query": esQuery(q)["query"],
			"aggs": m{"counted": m{"filter": counted, "aggs": m{"pairs": m{"composite": composite}}}}}
		var res struct {
			Aggregations struct {
				Counted struct {
					Pairs struct {
						AfterKey json.RawMessage `json:"after_key"`
						Buckets  []struct {
							Key struct {
								Op *string `json:"op"`
								Cp *string `json:"cp"`
							} `json:"key"`
						} `json:"buckets"`
					} `json:"pairs"`
				} `json:"counted"`
			} `json:"aggregations"`
		}
		err := s.aggSearch(ctx, body, &res)
		if errors.Is(err, errTooManyBuckets) && *page > 50 {
			*page /= 2
			continue
		}
		if err != nil {
			return nil, err
		}
		pairs := res.Aggregations.Counted.Pairs
		for _, b := range pairs.Buckets {
			var op, cp string
			if b.Key.Op != nil {
				op = *b.Key.Op
			}
			if b.Key.Cp != nil {
				cp = *b.Key.Cp
			}
			out[op] = append(out[op], cp)
		}
		if len(pairs.Buckets) < *page {
			break
		}
		after = pairs.AfterKey
	}
	for _, cps := range out {
		sort.Strings(cps)
	}
	return out, nil
}

// errTooManyBuckets: a page had more buckets than search.max_buckets allows.
var errTooManyBuckets = errors.New("too many buckets")

// aggSearch runs an aggregation request and decodes its response into out.
func (s *Store) aggSearch(ctx context.Context, query m, out any) error {
	body, err := json.Marshal(query)
	if err != nil {
		return err
	}
	res, err := s.es.Search(s.es.Search.WithIndex(s.alias), s.es.Search.WithBody(bytes.NewReader(body)), s.es.Search.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("aggregating %s: %w", s.alias, err)
	}
	defer res.Body.Close()
	if res.IsError() {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		if bytes.Contains(b, []byte("too_many_buckets_exception")) {
			return errTooManyBuckets
		}
		return fmt.Errorf("aggregating %s: %s: %s", s.alias, res.Status(), b)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("decoding aggregation response: %w", err)
	}
	return nil
}

type esAggResponse struct {
	Aggregations struct {
		Legacy  docCount `json:"legacy"`
		Skipped docCount `json:"skipped"`
		Counted struct {
			DocCount int `json:"doc_count"`
			Groups   struct {
				AfterKey json.RawMessage `json:"after_key"`
				Buckets  []esAggBucket   `json:"buckets"`
			} `json:"groups"`
		} `json:"counted"`
	} `json:"aggregations"`
}

type docCount struct {
	DocCount int `json:"doc_count"`
}

type sumValue struct {
	Value float64 `json:"value"`
}

type esAggBucket struct {
	Key      map[string]any `json:"key"`
	DocCount int            `json:"doc_count"`
	MW       sumValue       `json:"mw"`
	Value    sumValue       `json:"value"`
	Price    struct {
		Count int      `json:"count"`
		Min   *float64 `json:"min"`
		Max   *float64 `json:"max"`
		Avg   *float64 `json:"avg"`
	} `json:"price"`
	Median struct {
		Values []struct {
			Value *float64 `json:"value"`
		} `json:"values"`
	} `json:"median"`
	Grade struct {
		DocCount int      `json:"doc_count"`
		MW       sumValue `json:"mw"`
	} `json:"grade"`
}

// row is the AggRow of a group of aggregation name (without the
// counterparties of tiers).
func (b esAggBucket) row(name string) (ledger.AggRow, error) {
	r := ledger.AggRow{Deals: b.DocCount, MW: b.MW.Value, ValueUSD: b.Value.Value}
	switch k := b.Key["key"].(type) {
	case nil: // missing_bucket
		if name == "by-quarter" {
			r.Key = "unknown"
		}
	case string:
		r.Key = k
	case float64: // a quarter's first millisecond
		t := time.UnixMilli(int64(k)).UTC()
		r.Key = fmt.Sprintf("%04d-Q%d", t.Year(), (int(t.Month())-1)/3+1)
	default:
		return r, fmt.Errorf("aggregation %s: unexpected group key %v", name, b.Key)
	}
	p := b.Price
	if r.USDPerMWYear.Count = p.Count; p.Count > 0 {
		if p.Avg == nil || p.Min == nil || p.Max == nil || len(b.Median.Values) != 1 || b.Median.Values[0].Value == nil {
			return r, fmt.Errorf("aggregation %s, group %q: incomplete $/MW/year stats", name, r.Key)
		}
		mean := math.Round(*p.Avg*100) / 100 // to cents, as ledger.Aggregate
		r.USDPerMWYear.Mean, r.USDPerMWYear.Median, r.USDPerMWYear.Min, r.USDPerMWYear.Max = &mean, b.Median.Values[0].Value, p.Min, p.Max
	}
	if name == "tiers" {
		r.Tier = 2
		if b.Grade.DocCount > 0 {
			r.Tier, r.HyperscalerMW = 1, b.Grade.MW.Value
		}
	}
	return r, nil
}
