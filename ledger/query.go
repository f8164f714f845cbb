package ledger

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/mwledger/mwledger/schemas"
)

// Query selects deals. Zero values mean "any". Both stores give the same
// answer for the same query and data: Query.matches is the reference
// semantics (embedded store), ledger/es translates it for Elasticsearch.
type Query struct {
	// Text is free text over titles, evidence and party names: every word
	// (letters and digits, case-insensitive) must appear as a whole word somewhere.
	Text string `json:"text,omitempty"`
	// Operator is the operator's name or ticker (exact, case-insensitive).
	Operator string `json:"operator,omitempty"`
	// Counterparty is the shown name (or descriptor when undisclosed), or any
	// name a source gave (exact, case-insensitive).
	Counterparty string `json:"counterparty,omitempty"`
	// ContractType is colocation, bare_metal, cloud_services or unknown.
	ContractType string `json:"contract_type,omitempty"`
	// HyperscalerOnly keeps deals with a hyperscaler counterparty.
	HyperscalerOnly bool `json:"hyperscaler,omitempty"`
	// MinMW, MaxMW bound capacity_mw (inclusive); a bound excludes deals without MW.
	MinMW float64 `json:"min_mw,omitempty"`
	MaxMW float64 `json:"max_mw,omitempty"`
	// MinUSDPerMWYear, MaxUSDPerMWYear bound usd_per_mw_year (inclusive).
	MinUSDPerMWYear float64 `json:"min_usd_per_mw_year,omitempty"`
	MaxUSDPerMWYear float64 `json:"max_usd_per_mw_year,omitempty"`
	// MinValue, MaxValue bound total_value_usd (inclusive).
	MinValue float64 `json:"min_value,omitempty"`
	MaxValue float64 `json:"max_value,omitempty"`
	// AnnouncedFrom, AnnouncedTo bound announced_on (YYYY-MM-DD or YYYY-MM,
	// inclusive; a month as upper bound means its last day). A deal announced
	// as YYYY-MM counts as the first of that month (as Elasticsearch stores it).
	AnnouncedFrom string `json:"announced_from,omitempty"`
	AnnouncedTo   string `json:"announced_to,omitempty"`
	// Location and Hardware match when the deal's value contains them
	// (case-insensitive), e.g. "texas", "GB300".
	Location string `json:"location,omitempty"`
	Hardware string `json:"hardware,omitempty"`
	// NeedsReview keeps the deals in the review queue: confidence below
	// ReviewThreshold, conflicting sources or failed plausibility checks, unless
	// a reviewer saw them and no record arrived since (see ReviewReasons).
	NeedsReview bool `json:"needs_review,omitempty"`
	// Sort is "value" (default), "mw", "usd_per_mw_year", "announced" or
	// "confidence"; Order "desc" (default) or "asc". Missing values sort last,
	// ties by id ascending.
	Sort  string `json:"sort,omitempty"`
	Order string `json:"order,omitempty"`
	// Size is the page size (default 50, at most MaxPageSize); From skips deals.
	Size int `json:"size,omitempty"`
	From int `json:"from,omitempty"`
}

// MaxPageSize bounds Query.Size; From+Size must also stay within it
// (Elasticsearch's result window). Use Scan for more.
const MaxPageSize = 10000

// Sorts lists the accepted Query.Sort values.
var Sorts = []string{"value", "mw", schemas.FieldUSDPerMWYear, "announced", "confidence"}

// Validate names a bad field.
func (q *Query) Validate() error {
	if q.ContractType != "" {
		switch q.ContractType {
		case schemas.TypeColocation, schemas.TypeBareMetal, schemas.TypeCloudServices, schemas.TypeUnknown:
		default:
			return errors.New("query: contract type must be colocation, bare_metal, cloud_services or unknown")
		}
	}
	switch q.Sort {
	case "", "value", "mw", schemas.FieldUSDPerMWYear, "announced", "confidence":
	default:
		return errors.New("query: sort must be value, mw, usd_per_mw_year, announced or confidence")
	}
	switch q.Order {
	case "", "asc", "desc":
	default:
		return errors.New("query: order must be asc or desc")
	}
	// Paging is checked term by term before any sum: from + size must not
	// overflow past the window check.
	if q.Size < 0 || q.From < 0 {
		return errors.New("query: size and from must not be negative")
	}
	if q.Size > MaxPageSize || q.From > MaxPageSize || q.PageSize()+q.From > MaxPageSize {
		return fmt.Errorf("query: from + size must not exceed %d", MaxPageSize)
	}
	for _, b := range []struct {
		name, field string
		v           float64
	}{
		{"min_mw", schemas.FieldCapacityMW, q.MinMW}, {"max_mw", schemas.FieldCapacityMW, q.MaxMW},
		{"min_usd_per_mw_year", schemas.FieldUSDPerMWYear, q.MinUSDPerMWYear}, {"max_usd_per_mw_year", schemas.FieldUSDPerMWYear, q.MaxUSDPerMWYear},
		{"min_value", schemas.FieldTotalValueUSD, q.MinValue}, {"max_value", schemas.FieldTotalValueUSD, q.MaxValue},
	} {
		switch {
		case b.v < 0:
			return fmt.Errorf("query: %s must not be negative", b.name)
		case math.IsNaN(b.v) || math.IsInf(b.v, 0) || b.v > fieldMax[b.field]:
			return fmt.Errorf("query: %s must be a finite number from 0 to %g", b.name, fieldMax[b.field])
		}
	}
	if len(q.Text) > MaxTextBytes {
		return fmt.Errorf("query: free text longer than %d bytes", MaxTextBytes)
	}
	if n := len(words(q.Text)); n > MaxTextWords {
		return fmt.Errorf("query: free text of %d words, at most %d", n, MaxTextWords)
	}
	for _, f := range []struct{ name, v string }{
		{"operator", q.Operator}, {"counterparty", q.Counterparty}, {"location", q.Location}, {"hardware", q.Hardware},
		{"announced_from", q.AnnouncedFrom}, {"announced_to", q.AnnouncedTo},
	} {
		if len(f.v) > MaxFilterBytes {
			return fmt.Errorf("query: %s longer than %d bytes", f.name, MaxFilterBytes)
		}
	}
	if _, err := dateBound(q.AnnouncedFrom, false); err != nil {
		return fmt.Errorf("query: announced_from: %w", err)
	}
	if _, err := dateBound(q.AnnouncedTo, true); err != nil {
		return fmt.Errorf("query: announced_to: %w", err)
	}
	return nil
}

// PageSize is Size, or its default (50) when 0.
func (q Query) PageSize() int {
	if q.Size == 0 {
		return 50
	}
	return q.Size
}

// AnnouncedDates are AnnouncedFrom and AnnouncedTo as YYYY-MM-DD (a month is
// its first day as from and its last day as to), "" when unset or invalid
// (see Validate).
func (q Query) AnnouncedDates() (from, to string) {
	from, _ = dateBound(q.AnnouncedFrom, false)
	to, _ = dateBound(q.AnnouncedTo, true)
	return from, to
}

// TextWords are the words of Text as both stores compare them (lower case,
// see words): each must appear in a deal.
func (q Query) TextWords() []string { return words(q.Text) }

// dateBound normalises a YYYY-MM-DD or YYYY-MM bound to YYYY-MM-DD: a month
// is its first day as a lower bound and its last day as an upper bound.
func dateBound(s string, upper bool) (string, error) {
	if s == "" {
		return "", nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.Format("2006-01-02"), nil
	}
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return "", fmt.Errorf("%q is not YYYY-MM-DD or YYYY-MM", s)
	}
	if upper {
		t = t.AddDate(0, 1, -1)
	}
	return t.Format("2006-01-02"), nil
}

// dealDate is announced_on as YYYY-MM-DD (a month is its first day), "" when absent.
func dealDate(d *Deal) string {
	if d.AnnouncedOn == nil {
		return ""
	}
	s := *d.AnnouncedOn
	if len(s) == 7 {
		s += "-01"
	}
	return s
}

// Result is a page of deals and the total number of matches.
type Result struct {
	Total int    `json:"total"`
	Deals []Deal `json:"deals"`
}

// words splits text into lowercase words the way both stores compare free
// text: an approximation of Unicode word boundaries (UAX #29), which
// Elasticsearch's standard analyzer uses. Letters and digits form words;
// "." and apostrophes join letters ("U.S.", "IREN's") or digits ("9.7"),
// "," and ";" join digits ("1,000"), ":" joins letters; each Han, Hiragana or
// Katakana character is a word of its own.
func words(s string) []string {
	rs := []rune(strings.ToLower(s))
	alnum := func(i int) bool { return i >= 0 && i < len(rs) && (unicode.IsLetter(rs[i]) || unicode.IsDigit(rs[i])) }
	ideo := func(r rune) bool {
		return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
	}
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, string(cur))
			cur = cur[:0]
		}
	}
	for i, r := range rs {
		switch {
		case ideo(r):
			flush()
			out = append(out, string(r))
		case alnum(i):
			cur = append(cur, r)
		case len(cur) > 0 && alnum(i+1) && !ideo(rs[i+1]) && joins(r, rs[i-1], rs[i+1]):
			cur = append(cur, r)
		default:
			flush()
		}
	}
	flush()
	return out
}

// joins says whether punctuation r between a and b stays inside a word.
func joins(r, a, b rune) bool {
	la, lb := unicode.IsLetter(a), unicode.IsLetter(b)
	da, db := unicode.IsDigit(a), unicode.IsDigit(b)
	switch r {
	case '.', '\'', '’':
		return (la && lb) || (da && db)
	case ':', '·':
		return la && lb
	case ',', ';':
		return da && db
	}
	return false
}

// textWords are the words free text searches: party names, the deal's
// evidence, and every source's title and evidence.
func textWords(d Deal) map[string]bool {
	set := map[string]bool{}
	add := func(s string) {
		for _, w := range words(s) {
			set[w] = true
		}
	}
	add(d.Operator.Name)
	if d.Counterparty.Name != nil {
		add(*d.Counterparty.Name)
	}
	if d.Counterparty.Descriptor != nil {
		add(*d.Counterparty.Descriptor)
	}
	for _, e := range d.Evidence {
		add(e)
	}
	for _, s := range d.Sources {
		if s.Title != nil {
			add(*s.Title)
		}
		for _, e := range s.Evidence {
			add(e)
		}
	}
	return set
}

func inRange(p *float64, lo, hi float64) bool {
	if p == nil {
		return inRangeOK(0, false, lo, hi)
	}
	return inRangeOK(*p, true, lo, hi)
}

// inRangeOK is inRange for a value v that the deal has when ok: a bound of
// 0 is no bound, and a bound excludes deals without the value.
func inRangeOK(v float64, ok bool, lo, hi float64) bool {
	if lo <= 0 && hi <= 0 {
		return true
	}
	if !ok {
		return false
	}
	return (lo <= 0 || v >= lo) && (hi <= 0 || v <= hi)
}

// matches is the reference semantics of a query (ledger/es translates it).
func (q Query) matches(d Deal) bool { return q.matchesPlan(&d, nil, nil, q.plan()) }

// queryPlan is what a query compares, computed once per query: its words
// and its date bounds as YYYY-MM-DD.
type queryPlan struct {
	want     []string
	from, to string
	// location and hardware in lower case; the undisclosed claim of Counterparty.
	location, hardware, undisclosed string
}

func (q Query) plan() queryPlan {
	from, _ := dateBound(q.AnnouncedFrom, false)
	to, _ := dateBound(q.AnnouncedTo, true)
	return queryPlan{want: words(q.Text), from: from, to: to,
		location: strings.ToLower(q.Location), hardware: strings.ToLower(q.Hardware), undisclosed: UndisclosedPrefix + q.Counterparty}
}

// dealLower is a deal's location and hardware in lower case (what Location
// and Hardware filters compare) and its announced day (dealDate), computed
// once per deal by a search cache.
type dealLower struct{ location, hardware, day string }

func lowerOf(d *Deal) dealLower {
	l := dealLower{day: dealDate(d)}
	if d.Location != nil {
		l.location = strings.ToLower(*d.Location)
	}
	if d.Hardware != nil {
		l.hardware = strings.ToLower(*d.Hardware)
	}
	return l
}

// matchesPlan is matches with the deal's free-text words and lower-cased
// fields precomputed (words sorted, distinct; nil: computed from the deal)
// and the query's plan computed once.
func (q Query) matchesPlan(d *Deal, have []string, low *dealLower, p queryPlan) bool {
	want := p.want
	if q.Operator != "" && !strings.EqualFold(q.Operator, d.Operator.Name) && !eqPtr(d.Operator.Ticker, q.Operator) {
		return false
	}
	if q.Counterparty != "" && !counterpartyMatchesPlan(d, q.Counterparty, p.undisclosed) {
		return false
	}
	if q.ContractType != "" && q.ContractType != d.ContractType {
		return false
	}
	if q.HyperscalerOnly && !d.Counterparty.Hyperscaler {
		return false
	}
	if !inRange(d.CapacityMW, q.MinMW, q.MaxMW) || !inRange(d.USDPerMWYear, q.MinUSDPerMWYear, q.MaxUSDPerMWYear) ||
		!inRange(d.TotalValueUSD, q.MinValue, q.MaxValue) {
		return false
	}
	if q.AnnouncedFrom != "" || q.AnnouncedTo != "" {
		var day string
		if low != nil {
			day = low.day
		} else {
			day = dealDate(d)
		}
		if day == "" || (p.from != "" && day < p.from) || (p.to != "" && day > p.to) {
			return false
		}
	}
	if q.Location != "" || q.Hardware != "" {
		if low == nil {
			l := lowerOf(d)
			low = &l
		}
		if q.Location != "" && (d.Location == nil || !strings.Contains(low.location, p.location)) {
			return false
		}
		if q.Hardware != "" && (d.Hardware == nil || !strings.Contains(low.hardware, p.hardware)) {
			return false
		}
	}
	if q.NeedsReview && len(d.ReviewReasons) == 0 {
		return false
	}
	if len(want) > 0 {
		if have == nil {
			set := textWords(*d)
			for _, w := range want {
				if !set[w] {
					return false
				}
			}
			return true
		}
		for _, w := range want {
			if i := sort.SearchStrings(have, w); i == len(have) || have[i] != w {
				return false
			}
		}
	}
	return true
}

// counterpartyMatchesPlan: the shown name (or descriptor when undisclosed), or any
// name or descriptor a source gave for the deal.
// (undisclosed is UndisclosedPrefix + want, computed once per query.)
func counterpartyMatchesPlan(d *Deal, want, undisclosed string) bool {
	if strings.EqualFold(want, d.Counterparty.Label()) {
		return true
	}
	for _, p := range d.Provenance {
		if p.Field == "counterparty" && (strings.EqualFold(p.Value, want) || strings.EqualFold(p.Value, undisclosed)) {
			return true
		}
	}
	return false
}

func eqPtr(p *string, s string) bool { return p != nil && strings.EqualFold(*p, s) }

// sortKey returns the value a deal sorts by, missing values last.
func (q Query) sortKey(d *Deal) (float64, bool) {
	var p *float64
	switch q.Sort {
	case "mw":
		p = d.CapacityMW
	case schemas.FieldUSDPerMWYear:
		p = d.USDPerMWYear
	case "confidence":
		return d.Confidence, true
	case "announced":
		day := dealDate(d)
		t, err := time.Parse("2006-01-02", day)
		if err != nil {
			return 0, false
		}
		return float64(t.Unix()), true
	default:
		p = d.TotalValueUSD
	}
	if p == nil {
		return 0, false
	}
	return *p, true
}
