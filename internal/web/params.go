package web

import (
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/mwledger/mwledger/ledger"
)

// param is one search parameter: the same name as a `mwledger search` flag
// and as an /api/deals query parameter.
type param struct {
	name, usage string
	str         func(q *ledger.Query) *string
	num         func(q *ledger.Query) *float64
	integer     func(q *ledger.Query) *int
	boolean     func(q *ledger.Query) *bool
}

var params = []param{
	{name: "operator", usage: "operator name or ticker, e.g. IREN", str: func(q *ledger.Query) *string { return &q.Operator }},
	{name: "counterparty", usage: "counterparty name (or descriptor when undisclosed)", str: func(q *ledger.Query) *string { return &q.Counterparty }},
	{name: "type", usage: "colocation, bare_metal, cloud_services or unknown", str: func(q *ledger.Query) *string { return &q.ContractType }},
	{name: "hyperscaler", usage: "only deals with a hyperscaler counterparty", boolean: func(q *ledger.Query) *bool { return &q.HyperscalerOnly }},
	{name: "min-mw", usage: "at least this many MW", num: func(q *ledger.Query) *float64 { return &q.MinMW }},
	{name: "max-mw", usage: "at most this many MW", num: func(q *ledger.Query) *float64 { return &q.MaxMW }},
	{name: "min-usd-per-mw-year", usage: "$/MW/year at least (USD)", num: func(q *ledger.Query) *float64 { return &q.MinUSDPerMWYear }},
	{name: "max-usd-per-mw-year", usage: "$/MW/year at most (USD)", num: func(q *ledger.Query) *float64 { return &q.MaxUSDPerMWYear }},
	{name: "min-value", usage: "total value at least (USD)", num: func(q *ledger.Query) *float64 { return &q.MinValue }},
	{name: "max-value", usage: "total value at most (USD)", num: func(q *ledger.Query) *float64 { return &q.MaxValue }},
	{name: "since", usage: "announced on or after YYYY-MM-DD or YYYY-MM", str: func(q *ledger.Query) *string { return &q.AnnouncedFrom }},
	{name: "until", usage: "announced on or before YYYY-MM-DD or YYYY-MM (a month: its last day)", str: func(q *ledger.Query) *string { return &q.AnnouncedTo }},
	{name: "location", usage: "location contains this (case-insensitive), e.g. Texas", str: func(q *ledger.Query) *string { return &q.Location }},
	{name: "hardware", usage: "hardware contains this (case-insensitive), e.g. GB300", str: func(q *ledger.Query) *string { return &q.Hardware }},
	{name: "needs-review", usage: "only deals in the review queue (low confidence, conflicts, failed checks)", boolean: func(q *ledger.Query) *bool { return &q.NeedsReview }},
	{name: "sort", usage: "value, mw, usd_per_mw_year, announced or confidence", str: func(q *ledger.Query) *string { return &q.Sort }},
	{name: "order", usage: "desc or asc", str: func(q *ledger.Query) *string { return &q.Order }},
	{name: "limit", usage: "deals per page (default 50)", integer: func(q *ledger.Query) *int { return &q.Size }},
	{name: "from", usage: "skip this many deals (paging)", integer: func(q *ledger.Query) *int { return &q.From }},
}

// BindFlags defines the search flags on fs, writing into q.
func BindFlags(fs *flag.FlagSet, q *ledger.Query) {
	for _, p := range params {
		switch {
		case p.str != nil:
			fs.StringVar(p.str(q), p.name, "", p.usage)
		case p.num != nil:
			fs.Float64Var(p.num(q), p.name, 0, p.usage)
		case p.integer != nil:
			fs.IntVar(p.integer(q), p.name, 0, p.usage)
		case p.boolean != nil:
			fs.BoolVar(p.boolean(q), p.name, false, p.usage)
		}
	}
}

// QueryFromValues reads a query from URL parameters: the flag names of
// `mwledger search`, plus q for free text. Unknown parameters are errors.
func QueryFromValues(v url.Values) (ledger.Query, error) {
	var q ledger.Query
	known := map[string]bool{"q": true}
	for _, p := range params {
		known[p.name] = true
		s := strings.TrimSpace(v.Get(p.name))
		if s == "" {
			continue
		}
		var err error
		switch {
		case p.str != nil:
			*p.str(&q) = s
		case p.num != nil:
			*p.num(&q), err = strconv.ParseFloat(s, 64)
		case p.integer != nil:
			*p.integer(&q), err = strconv.Atoi(s)
		case p.boolean != nil:
			*p.boolean(&q), err = strconv.ParseBool(s)
		}
		if err != nil {
			return q, fmt.Errorf("parameter %s: %q is not a valid value", p.name, s)
		}
	}
	for k := range v {
		if !known[k] {
			return q, fmt.Errorf("unknown parameter %q", k)
		}
	}
	q.Text = strings.TrimSpace(v.Get("q"))
	return q, q.Validate()
}
