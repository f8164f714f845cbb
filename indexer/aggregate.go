package indexer

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/mwledger/mwledger/schemas"
)

// Scanner streams every deal a query matches, in the query's order, ignoring
// Size and From. Both stores implement it; aggregations read their deals with
// it and compute in Go, so both stores aggregate identically.
type Scanner interface {
	Scan(ctx context.Context, q Query, fn func(Deal) error) error
}

var (
	_ Scanner = (*ESStore)(nil)
	_ Scanner = (*BoltStore)(nil)
)

// Aggregations lists the names Aggregate accepts.
var Aggregations = []string{"by-type", "by-counterparty", "by-quarter", "by-operator", "tiers"}

// Stats summarise a set of numbers (null when Count is 0).
type Stats struct {
	Count  int      `json:"count"`
	Mean   *float64 `json:"mean"`
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
	// without the figure add nothing.
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

// AggregateStore runs aggregation name over the deals q matches in s.
func AggregateStore(ctx context.Context, s Scanner, name string, q Query) (AggResult, error) {
	if !validAgg(name) {
		return AggResult{}, fmt.Errorf("aggregation must be one of %s", strings.Join(Aggregations, ", "))
	}
	var deals []Deal
	add := func(d Deal) error { deals = append(deals, d); return nil }
	var err error
	if ss, ok := s.(summaryScanner); ok {
		err = ss.scanSummary(ctx, q, add)
	} else {
		err = s.Scan(ctx, q, add)
	}
	if err != nil {
		return AggResult{}, err
	}
	return Aggregate(name, deals)
}

// summaryScanner is a Scanner that can stream only summaryFields, which is
// all Aggregate reads (both stores are).
type summaryScanner interface {
	scanSummary(ctx context.Context, q Query, fn func(Deal) error) error
}

var (
	_ summaryScanner = (*ESStore)(nil)
	_ summaryScanner = (*BoltStore)(nil)
)

// summaryFields are the deal fields Aggregate reads.
var summaryFields = []string{"id", "operator", "counterparty", "guarantor", "contract_type", "capacity_mw", "total_value_usd",
	"term_years", "usd_per_mw_year", "announced_on", "status", "current", "parts"}

// summary keeps summaryFields of d.
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
func Aggregate(name string, deals []Deal) (AggResult, error) {
	if !validAgg(name) {
		return AggResult{}, fmt.Errorf("aggregation must be one of %s", strings.Join(Aggregations, ", "))
	}
	out := AggResult{Name: name, Rows: []AggRow{}}
	groups := map[string]*AggRow{}
	prices := map[string][]float64{}
	cps := map[string]map[string]bool{}
	for _, d := range deals {
		if d.Status == "cancelled" || len(d.Parts) > 0 {
			out.Skipped++
			continue
		}
		out.Deals++
		key := aggKey(name, d)
		r := groups[key]
		if r == nil {
			r = &AggRow{Key: key}
			groups[key] = r
			cps[key] = map[string]bool{}
		}
		r.Deals++
		mw, value := figures(d)
		r.MW += mw
		r.ValueUSD += value
		if d.USDPerMWYear != nil {
			prices[key] = append(prices[key], *d.USDPerMWYear)
		}
		if name == "tiers" {
			cps[key][d.Counterparty.Label()] = true
			if HyperscalerGrade(d) {
				r.Tier = 1
				r.HyperscalerMW += mw
			}
		}
	}
	for key, r := range groups {
		r.USDPerMWYear = stats(prices[key])
		if name == "tiers" {
			if r.Tier == 0 {
				r.Tier = 2
			}
			for c := range cps[key] {
				r.Counterparties = append(r.Counterparties, c)
			}
			sort.Strings(r.Counterparties)
		}
		out.Rows = append(out.Rows, *r)
	}
	rows := out.Rows
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
	return out, nil
}

// HyperscalerGrade says whether a deal counts for tier 1 in the tiering
// analysts do ("signed with a hyperscaler or an equivalent order"): a
// hyperscaler counterparty, a lease with a guarantor (e.g. Google behind
// Fluidstack), or an undisclosed counterparty described as a hyperscaler, an
// investment-grade client or a cloud provider.
func HyperscalerGrade(d Deal) bool {
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

func aggKey(name string, d Deal) string {
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

// figures are a deal's MW and value after its lifecycle events.
func figures(d Deal) (mw, value float64) {
	m, v := d.CapacityMW, d.TotalValueUSD
	if d.Current != nil {
		if d.Current.CapacityMW != nil {
			m = d.Current.CapacityMW
		}
		if d.Current.TotalValueUSD != nil {
			v = d.Current.TotalValueUSD
		}
	}
	if m != nil {
		mw = *m
	}
	if v != nil {
		value = *v
	}
	return mw, value
}

func stats(xs []float64) Stats {
	st := Stats{Count: len(xs)}
	if len(xs) == 0 {
		return st
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	sum := 0.0
	for _, x := range s {
		sum += x
	}
	mean := sum / float64(len(s))
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	lo, hi := s[0], s[len(s)-1]
	mean = math.Round(mean*100) / 100
	st.Mean, st.Median, st.Min, st.Max = &mean, &med, &lo, &hi
	return st
}
