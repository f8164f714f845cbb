package ledger

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/mwledger/mwledger/schemas"
)

// Scanner streams every deal a query matches, in the query's order, ignoring
// Size and From. Both stores implement it; AggregateScan reads the deals with
// it and aggregates in Go.
type Scanner interface {
	Scan(ctx context.Context, q Query, fn func(Deal) error) error
}

var _ Scanner = (*KVStore)(nil)

// NativeAggregator is a store that computes aggregations itself, to the same
// result as Aggregate (Elasticsearch, with its aggregations: ledger/es).
// AggregateStore calls it with a valid name.
type NativeAggregator interface {
	Aggregate(ctx context.Context, name string, q Query) (AggResult, error)
}

// Aggregations lists the names Aggregate accepts.
var Aggregations = []string{"by-type", "by-counterparty", "by-quarter", "by-operator", "tiers"}

// Stats summarise a set of numbers (null when Count is 0). Both stores give
// the same Count, Min, Max and Median (exactly: Elasticsearch's percentiles
// run on every value, see ledger/es's Store.Aggregate). Mean is rounded to cents; it is a sum
// divided by Count, and sums agree between the stores to about 1e-15
// relative (their summation orders differ), so in the rare case where the
// exact mean lies within that distance of half a cent the two may differ by
// one cent.
type Stats struct {
	Count int      `json:"count"`
	Mean  *float64 `json:"mean"`
	// Median is the middle value, or halfway between the two middle values:
	// lo + (hi-lo)/2, as Elasticsearch computes it.
	Median *float64 `json:"median"`
	Min    *float64 `json:"min"`
	Max    *float64 `json:"max"`
}

// AggRow is one group of an aggregation.
type AggRow struct {
	// Key is the group: a contract type, a counterparty, a quarter ("2025-Q4",
	// "unknown") or an operator.
	Key string `json:"key"`
	// Deals is the number of deals in the group.
	Deals int `json:"deals"`
	// MW and ValueUSD sum the deals' figures (after lifecycle events); deals
	// without the figure add nothing. (Summed in different orders by the two
	// stores: equal to about 1e-15 relative, exactly for whole numbers.)
	MW       float64 `json:"mw"`
	ValueUSD float64 `json:"value_usd"`
	// USDPerMWYear summarises the deals' $/MW/year.
	USDPerMWYear Stats `json:"usd_per_mw_year"`
	// Tiers only: Tier (1: at least one hyperscaler-grade deal, see
	// HyperscalerGrade; 2: other counterparties only), HyperscalerMW (MW of
	// the hyperscaler-grade deals) and Counterparties (distinct, sorted).
	Tier           int      `json:"tier,omitempty"`
	HyperscalerMW  float64  `json:"hyperscaler_mw,omitempty"`
	Counterparties []string `json:"counterparties,omitempty"`
}

// AggResult is an aggregation over the deals a query matched.
type AggResult struct {
	Name string   `json:"name"`
	Rows []AggRow `json:"rows"`
	// Deals counted, and those skipped: cancelled deals and aggregates whose
	// parts are in the ledger (the parts are counted instead).
	Deals   int `json:"deals"`
	Skipped int `json:"skipped"`
}

// AggregateStore runs aggregation name over the deals q matches in s: a
// NativeAggregator (Elasticsearch) computes it itself; other stores stream
// their deals to Aggregate (AggregateScan).
func AggregateStore(ctx context.Context, s Scanner, name string, q Query) (AggResult, error) {
	if !validAgg(name) {
		return AggResult{}, fmt.Errorf("aggregation must be one of %s", strings.Join(Aggregations, ", "))
	}
	if na, ok := s.(NativeAggregator); ok {
		return na.Aggregate(ctx, name, q)
	}
	return AggregateScan(ctx, s, name, q)
}

// AggregateScan runs aggregation name in Go over the deals s streams for q
// (the embedded store's way; on Elasticsearch it is the slow reference).
func AggregateScan(ctx context.Context, s Scanner, name string, q Query) (AggResult, error) {
	if !validAgg(name) {
		return AggResult{}, fmt.Errorf("aggregation must be one of %s", strings.Join(Aggregations, ", "))
	}
	if va, ok := s.(viewAggregator); ok {
		return va.aggregateView(ctx, name, q)
	}
	var deals []Deal
	add := func(d Deal) error { deals = append(deals, d); return nil }
	var err error
	if ss, ok := s.(SummaryScanner); ok {
		err = ss.ScanSummary(ctx, q, add)
	} else {
		err = s.Scan(ctx, q, add)
	}
	if err != nil {
		return AggResult{}, err
	}
	return Aggregate(name, deals)
}

// viewAggregator is a store that aggregates in place the deals it holds in
// memory (KVStore: its search view), with aggregate, rather than copying
// them out one by one.
type viewAggregator interface {
	aggregateView(ctx context.Context, name string, q Query) (AggResult, error)
}

// SummaryScanner is a Scanner that can stream only SummaryFields, which is
// all Aggregate reads (both stores are): AggregateScan uses it when s is one.
type SummaryScanner interface {
	ScanSummary(ctx context.Context, q Query, fn func(Deal) error) error
}

var _ SummaryScanner = (*KVStore)(nil)

// SummaryFields are the deal fields Aggregate reads.
var SummaryFields = []string{"id", "operator", "counterparty", "guarantor", schemas.FieldContractType, schemas.FieldCapacityMW, schemas.FieldTotalValueUSD,
	schemas.FieldTermYears, schemas.FieldUSDPerMWYear, schemas.FieldAnnouncedOn, "status", "current", "parts"}

// summary keeps SummaryFields of d.
func summary(d Deal) Deal {
	return Deal{Contract: schemas.Contract{ID: d.ID, Operator: d.Operator, Counterparty: d.Counterparty, Guarantor: d.Guarantor, ContractType: d.ContractType,
		CapacityMW: d.CapacityMW, TotalValueUSD: d.TotalValueUSD, TermYears: d.TermYears, USDPerMWYear: d.USDPerMWYear,
		AnnouncedOn: d.AnnouncedOn}, Status: d.Status, Current: d.Current, Parts: d.Parts}
}

func validAgg(name string) bool {
	for _, a := range Aggregations {
		if a == name {
			return true
		}
	}
	return false
}

// Aggregate groups deals:
//   - by-type, by-counterparty, by-quarter (of announced_on): $/MW/year stats,
//     MW and value per group, groups sorted by key;
//   - by-operator: the same per operator, sorted by MW descending;
//   - tiers: operators in tier 1 (at least one HyperscalerGrade deal, ranked
//     by the MW of those deals) then tier 2 (ranked by MW).
//
// Cancelled deals and aggregates whose parts are in the ledger are skipped.
// Elasticsearch computes the same with its own aggregations (ledger/es).
func Aggregate(name string, deals []Deal) (AggResult, error) {
	ds := make([]*Deal, len(deals))
	for i := range deals {
		ds[i] = &deals[i]
	}
	return aggregate(name, ds)
}

// aggregate is Aggregate over pointers: the deals are read, not copied.
func aggregate(name string, deals []*Deal) (AggResult, error) {
	if !validAgg(name) {
		return AggResult{}, fmt.Errorf("aggregation must be one of %s", strings.Join(Aggregations, ", "))
	}
	out := AggResult{Name: name, Rows: []AggRow{}}
	type group struct {
		row           AggRow
		mw, value, hw ksum
		prices        []float64
		cps           map[string]bool
	}
	groups := map[string]*group{}
	quarters := map[string]string{} // by the announced month: quarter formats
	for _, d := range deals {
		if skipped(d) {
			out.Skipped++
			continue
		}
		out.Deals++
		var key string
		if p := d.AnnouncedOn; name == "by-quarter" && p != nil && len(*p) >= 7 {
			var ok bool
			if key, ok = quarters[(*p)[:7]]; !ok {
				key = quarter(p) // depends on the first 7 bytes only
				quarters[(*p)[:7]] = key
			}
		} else {
			key = aggKey(name, d)
		}
		g := groups[key]
		if g == nil {
			g = &group{row: AggRow{Key: key}, cps: map[string]bool{}}
			groups[key] = g
		}
		g.row.Deals++
		mw, value := figures(d)
		g.mw.add(mw)
		g.value.add(value)
		if d.USDPerMWYear != nil {
			g.prices = append(g.prices, *d.USDPerMWYear)
		}
		if name == "tiers" {
			g.cps[d.Counterparty.Label()] = true
			if hyperscalerGrade(d) {
				g.row.Tier = 1
				g.hw.add(mw)
			}
		}
	}
	for _, g := range groups {
		r := g.row
		r.MW, r.ValueUSD = g.mw.value(), g.value.value()
		r.USDPerMWYear = stats(g.prices)
		if name == "tiers" {
			r.HyperscalerMW = g.hw.value()
			if r.Tier == 0 {
				r.Tier = 2
			}
			for c := range g.cps {
				r.Counterparties = append(r.Counterparties, c)
			}
			sort.Strings(r.Counterparties)
		}
		out.Rows = append(out.Rows, r)
	}
	SortAggRows(name, out.Rows)
	return out, nil
}

// skipped says whether aggregations leave a deal out: cancelled, or an
// aggregate whose parts are in the ledger.
func skipped(d *Deal) bool { return d.Status == "cancelled" || len(d.Parts) > 0 }

// AggFacts are what Aggregate derives from a deal, by the same functions: a
// store that aggregates natively (ledger/es) keeps them beside the deal, in
// its "agg" object, so that it aggregates without scripts.
type AggFacts struct {
	// Skip: cancelled, or an aggregate whose parts are in the ledger (skipped).
	Skip bool `json:"skip"`
	// MW and ValueUSD are the figures after lifecycle events (currentFigures).
	MW       *float64 `json:"mw"`
	ValueUSD *float64 `json:"value_usd"`
	// HyperscalerGrade is HyperscalerGrade(d).
	HyperscalerGrade bool `json:"hyperscaler_grade"`
	// Counterparty is the counterparty's Label (by-counterparty, tiers).
	Counterparty string `json:"counterparty"`
}

// AggFactsOf derives d's AggFacts.
func AggFactsOf(d Deal) AggFacts {
	mw, value := currentFigures(&d)
	return AggFacts{Skip: skipped(&d), MW: mw, ValueUSD: value, HyperscalerGrade: hyperscalerGrade(&d), Counterparty: d.Counterparty.Label()}
}

// SortAggRows puts the rows of aggregation name in their order.
func SortAggRows(name string, rows []AggRow) {
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		switch name {
		case "tiers":
			if a.Tier != b.Tier {
				return a.Tier < b.Tier
			}
			if a.HyperscalerMW != b.HyperscalerMW {
				return a.HyperscalerMW > b.HyperscalerMW
			}
			fallthrough
		case "by-operator":
			if a.MW != b.MW {
				return a.MW > b.MW
			}
		}
		return a.Key < b.Key
	})
}

// HyperscalerGrade says whether a deal counts for tier 1 in the tiering
// analysts do ("signed with a hyperscaler or an equivalent order"): a
// hyperscaler counterparty, a lease with a guarantor (e.g. Google behind
// Fluidstack), or an undisclosed counterparty described as a hyperscaler, an
// investment-grade client or a cloud provider.
func HyperscalerGrade(d Deal) bool { return hyperscalerGrade(&d) }

func hyperscalerGrade(d *Deal) bool {
	if d.Counterparty.Hyperscaler || (d.Guarantor != nil && d.Guarantor.Name != "") {
		return true
	}
	if d.Counterparty.Name != nil || d.Counterparty.Descriptor == nil {
		return false
	}
	desc := strings.ToLower(*d.Counterparty.Descriptor)
	for _, w := range []string{"hyperscaler", "investment-grade", "investment grade", "cloud"} {
		if strings.Contains(desc, w) {
			return true
		}
	}
	return false
}

func aggKey(name string, d *Deal) string {
	switch name {
	case "by-type":
		return d.ContractType
	case "by-counterparty":
		return d.Counterparty.Label()
	case "by-quarter":
		return quarter(d.AnnouncedOn)
	}
	return d.Operator.Name
}

// quarter is "2025-Q4" for 2025-11 or 2025-11-03, "unknown" otherwise.
func quarter(p *string) string {
	if p == nil || len(*p) < 7 || (*p)[4] != '-' {
		return "unknown"
	}
	mo := 0
	for _, c := range (*p)[5:7] {
		if c < '0' || c > '9' {
			return "unknown"
		}
		mo = mo*10 + int(c-'0')
	}
	if mo < 1 || mo > 12 {
		return "unknown"
	}
	return fmt.Sprintf("%s-Q%d", (*p)[:4], (mo-1)/3+1)
}

// figures are a deal's MW and value after its lifecycle events (0 when unknown).
func figures(d *Deal) (mw, value float64) {
	m, v := currentFigures(d)
	if m != nil {
		mw = *m
	}
	if v != nil {
		value = *v
	}
	return mw, value
}

// currentFigures are a deal's MW and value after its lifecycle events (nil when unknown).
func currentFigures(d *Deal) (mw, value *float64) {
	mw, value = d.CapacityMW, d.TotalValueUSD
	if d.Current != nil {
		if d.Current.CapacityMW != nil {
			mw = d.Current.CapacityMW
		}
		if d.Current.TotalValueUSD != nil {
			value = d.Current.TotalValueUSD
		}
	}
	return mw, value
}

// ksum is a compensated (Neumaier) sum: accurate to the last bit or so
// whatever the order of the terms, like Elasticsearch's (Kahan) sums.
type ksum struct{ sum, c float64 }

func (k *ksum) add(x float64) {
	t := k.sum + x
	if math.Abs(k.sum) >= math.Abs(x) {
		k.c += (k.sum - t) + x
	} else {
		k.c += (x - t) + k.sum
	}
	k.sum = t
}

func (k ksum) value() float64 { return k.sum + k.c }

func stats(xs []float64) Stats {
	st := Stats{Count: len(xs)}
	if len(xs) == 0 {
		return st
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	var sum ksum
	for _, x := range s {
		sum.add(x)
	}
	lo, hi := s[0], s[len(s)-1]
	mean := roundCents(sum.value() / float64(len(s)))
	med := median(s)
	st.Mean, st.Median, st.Min, st.Max = &mean, &med, &lo, &hi
	return st
}

// median of sorted values: the middle one, or lo + (hi-lo)/2 for the two
// middle ones (Elasticsearch's formula, so that both stores agree to the bit).
func median(s []float64) float64 {
	k := len(s) / 2
	if len(s)%2 == 1 {
		return s[k]
	}
	return s[k-1] + 0.5*(s[k]-s[k-1])
}

func roundCents(x float64) float64 { return math.Round(x*100) / 100 }
