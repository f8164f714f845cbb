package ledger

import (
	"github.com/mwledger/mwledger/schemas"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The search view's indexes, built with it (searchCache.load): a query
// reads only the deals of its most selective indexed filter, and a scan
// over every deal reads packed rows, not the deals. An index only narrows:
// every deal it yields is still checked by matchesPlan, the reference
// semantics, so results are those of a scan over every deal.

// dealRow is what the cheap filters (type, hyperscaler, the ranges, the
// review queue) and every sort read of a deal, packed: a scan over every
// deal reads these rows in order instead of the deals.
type dealRow struct {
	value, mw, usd, announced, confidence float64
	typ                                   string
	has                                   uint8 // rowHasValue, rowHasMW, …
	hyperscaler, review                   bool
}

const (
	rowHasValue uint8 = 1 << iota
	rowHasMW
	rowHasUSD
	rowHasAnnounced
)

func rowOf(d *Deal) dealRow {
	r := dealRow{confidence: d.Confidence, typ: d.ContractType, hyperscaler: d.Counterparty.Hyperscaler, review: len(d.ReviewReasons) > 0}
	for _, f := range []struct {
		p   *float64
		v   *float64
		bit uint8
	}{{d.TotalValueUSD, &r.value, rowHasValue}, {d.CapacityMW, &r.mw, rowHasMW}, {d.USDPerMWYear, &r.usd, rowHasUSD}} {
		if f.p != nil {
			*f.v, r.has = *f.p, r.has|f.bit
		}
	}
	if k, ok := (Query{Sort: "announced"}).sortKey(d); ok {
		r.announced, r.has = k, r.has|rowHasAnnounced
	}
	return r
}

// key is q.sortKey of the row's deal.
func (r *dealRow) key(sort string) (float64, bool) {
	switch sort {
	case "mw":
		return r.mw, r.has&rowHasMW != 0
	case schemas.FieldUSDPerMWYear:
		return r.usd, r.has&rowHasUSD != 0
	case "confidence":
		return r.confidence, true
	case "announced":
		return r.announced, r.has&rowHasAnnounced != 0
	default:
		return r.value, r.has&rowHasValue != 0
	}
}

// rowMatches is the part of matchesPlan that a row answers: false only when
// matchesPlan is false.
func (q Query) rowMatches(r *dealRow) bool {
	return (q.ContractType == "" || q.ContractType == r.typ) && (!q.HyperscalerOnly || r.hyperscaler) &&
		inRangeOK(r.mw, r.has&rowHasMW != 0, q.MinMW, q.MaxMW) &&
		inRangeOK(r.usd, r.has&rowHasUSD != 0, q.MinUSDPerMWYear, q.MaxUSDPerMWYear) &&
		inRangeOK(r.value, r.has&rowHasValue != 0, q.MinValue, q.MaxValue) &&
		(!q.NeedsReview || r.review)
}

// rowOnly says whether rowMatches is all of matchesPlan for q.
func (q Query) rowOnly(p queryPlan) bool {
	return q.Operator == "" && q.Counterparty == "" && q.AnnouncedFrom == "" && q.AnnouncedTo == "" &&
		q.Location == "" && q.Hardware == "" && len(p.want) == 0
}

// searchIndex lists deals (indexes into the view, ascending) by what the
// selective filters compare.
type searchIndex struct {
	// byWord: per free-text word, the deals that have it.
	byWord map[string][]int32
	// byOperator, byCounterparty: per foldKey of the operator's name and
	// ticker, of the counterparty's label and of every name a source gave
	// for it, the deals.
	byOperator, byCounterparty map[string][]int32
	// byLocation, byHardware: per lower-case value, the deals.
	byLocation, byHardware map[string][]int32
	// byDay: the deals that have an announced day, by day (days[i] is the
	// day of byDay[i]).
	byDay []int32
	days  []string
}

func newSearchIndex() *searchIndex {
	return &searchIndex{byWord: map[string][]int32{}, byOperator: map[string][]int32{}, byCounterparty: map[string][]int32{},
		byLocation: map[string][]int32{}, byHardware: map[string][]int32{}}
}

// add indexes deal i (added in ascending order).
func (x *searchIndex) add(i int32, c *cachedDeal) {
	d := &c.deal
	for _, w := range c.words {
		x.byWord[w] = append(x.byWord[w], i)
	}
	addKey(x.byOperator, foldKey(d.Operator.Name), i)
	if d.Operator.Ticker != nil {
		addKey(x.byOperator, foldKey(*d.Operator.Ticker), i)
	}
	addKey(x.byCounterparty, foldKey(d.Counterparty.Label()), i)
	for _, p := range d.Provenance {
		if p.Field == "counterparty" {
			addKey(x.byCounterparty, foldKey(p.Value), i)
		}
	}
	if d.Location != nil {
		addKey(x.byLocation, c.lower.location, i)
	}
	if d.Hardware != nil {
		addKey(x.byHardware, c.lower.hardware, i)
	}
	if c.lower.day != "" {
		x.byDay = append(x.byDay, i)
	}
}

// done sorts byDay once every deal was added.
func (x *searchIndex) done(deals []cachedDeal) {
	sort.SliceStable(x.byDay, func(a, b int) bool { return deals[x.byDay[a]].lower.day < deals[x.byDay[b]].lower.day })
	x.days = make([]string, len(x.byDay))
	for k, i := range x.byDay {
		x.days[k] = deals[i].lower.day
	}
}

// addKey appends i to m[k] once.
func addKey(m map[string][]int32, k string, i int32) {
	if l := m[k]; len(l) == 0 || l[len(l)-1] != i {
		m[k] = append(l, i)
	}
}

// foldKey maps s to one spelling per strings.EqualFold class: each rune
// becomes the smallest rune of its simple case folding orbit, so
// strings.EqualFold(a, b) implies foldKey(a) == foldKey(b).
func foldKey(s string) string {
	ascii := true
	for i := 0; i < len(s) && ascii; i++ {
		ascii = s[i] < utf8.RuneSelf
	}
	if ascii { // the smallest of 'a', 'A' (and 'k', 'K', 'K' U+212A) is the capital
		return strings.ToUpper(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b.WriteRune(m)
	}
	return b.String()
}

// candidates returns the deals q can match, ascending, when one of its
// filters is indexed and narrows the view to fewer than half of the n
// deals; all is true when there is no such filter (every deal must be read).
func (x *searchIndex) candidates(q Query, p queryPlan, n int) (only []int32, all bool) {
	best := -1 // size of the best list so far
	var build func() []int32
	consider := func(size int, b func() []int32) {
		if best < 0 || size < best {
			best, build = size, b
		}
	}
	if len(p.want) > 0 {
		for _, w := range p.want {
			l := x.byWord[w]
			consider(len(l), func() []int32 { return l })
		}
	}
	if q.Operator != "" {
		l := x.byOperator[foldKey(q.Operator)]
		consider(len(l), func() []int32 { return l })
	}
	if q.Counterparty != "" {
		a, b := x.byCounterparty[foldKey(q.Counterparty)], x.byCounterparty[foldKey(p.undisclosed)]
		consider(len(a)+len(b), func() []int32 { return unionIDs([][]int32{a, b}) })
	}
	if q.AnnouncedFrom != "" || q.AnnouncedTo != "" {
		lo, hi := 0, len(x.days)
		if p.from != "" {
			lo = sort.SearchStrings(x.days, p.from)
		}
		if p.to != "" {
			hi = sort.Search(len(x.days), func(k int) bool { return x.days[k] > p.to })
		}
		hi = max(hi, lo)
		consider(hi-lo, func() []int32 {
			l := slices.Clone(x.byDay[lo:hi])
			slices.Sort(l)
			return l
		})
	}
	for _, f := range []struct {
		on   bool
		m    map[string][]int32
		want string
	}{{q.Location != "", x.byLocation, p.location}, {q.Hardware != "", x.byHardware, p.hardware}} {
		if !f.on {
			continue
		}
		var lists [][]int32
		size := 0
		for v, l := range f.m {
			if strings.Contains(v, f.want) {
				lists, size = append(lists, l), size+len(l)
			}
		}
		consider(size, func() []int32 { return unionIDs(lists) })
	}
	if best < 0 || best >= n/2 {
		return nil, true
	}
	if best == 0 {
		return nil, false
	}
	return build(), false
}

// unionIDs merges ascending lists into one, ascending and distinct.
func unionIDs(lists [][]int32) []int32 {
	var out []int32
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
