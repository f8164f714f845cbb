// Package eval scores extracted contract records against golden records, field
// by field, the way the regression gate and `mwledger eval` report them.
package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/mwledger/mwledger/schemas"
)

// Fields are the golden fields, in the order of fixtures/README.md (the
// registry's order: schemas.Fields).
var Fields = schemas.FieldNames(func(f schemas.Field) bool { return f.Golden })

// Golden is the analyst view of a record: the golden file's fields.
type Golden struct {
	Operator             schemas.Operator     `json:"operator"`
	Counterparty         schemas.Counterparty `json:"counterparty"`
	EndUser              *schemas.Party       `json:"end_user"`
	Guarantor            *schemas.Party       `json:"guarantor"`
	ContractType         string               `json:"contract_type"`
	CapacityMW           *float64             `json:"capacity_mw"`
	TotalValueUSD        *float64             `json:"total_value_usd"`
	TermYears            *float64             `json:"term_years"`
	USDPerMWYear         *float64             `json:"usd_per_mw_year"`
	ReportedUSDPerMWYear *float64             `json:"reported_usd_per_mw_year"`
	PrepaymentUSD        *float64             `json:"prepayment_usd"`
	GuaranteeUSD         *float64             `json:"guarantee_usd"`
	Terms                []string             `json:"terms"`
	Location             *string              `json:"location"`
	Hardware             *string              `json:"hardware"`
	AnnouncedOn          *string              `json:"announced_on"`
	Aggregate            bool                 `json:"aggregate"`
}

// FromContract keeps the analyst fields of a record.
func FromContract(c schemas.Contract) Golden {
	terms := append([]string{}, c.Terms...)
	sort.Strings(terms)
	return Golden{c.Operator, c.Counterparty, c.EndUser, c.Guarantor, c.ContractType, c.CapacityMW, c.TotalValueUSD, c.TermYears,
		c.USDPerMWYear, c.ReportedUSDPerMWYear, c.PrepaymentUSD, c.GuaranteeUSD, terms, c.Location, c.Hardware, c.AnnouncedOn, c.Aggregate}
}

// ReadGolden parses a golden JSONL file (empty = no contract).
func ReadGolden(r io.Reader) ([]Golden, error) {
	var out []Golden
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	for {
		var g Golden
		err := dec.Decode(&g)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("golden record %d: %w", len(out)+1, err)
		}
		out = append(out, g)
	}
}

// WriteGolden renders records as a golden file: one compact line each, sorted.
func WriteGolden(gs []Golden) []byte {
	sort.SliceStable(gs, func(i, j int) bool { return less(gs[i], gs[j]) })
	var b bytes.Buffer
	for _, g := range gs {
		v, _ := json.Marshal(g)
		b.Write(v)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func less(a, b Golden) bool {
	if a.Operator.Name != b.Operator.Name {
		return a.Operator.Name < b.Operator.Name
	}
	if la, lb := a.Counterparty.Label(), b.Counterparty.Label(); la != lb {
		return la < lb
	}
	return val(a.CapacityMW) < val(b.CapacityMW)
}

func val(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}

// Count is a field's confusion counts.
type Count struct{ TP, FP, FN int }

// Precision, Recall and F1 of the counts (1 when there is nothing to find and nothing was found).
func (c Count) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }
func (c Count) Recall() float64    { return ratio(c.TP, c.TP+c.FN) }
func (c Count) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// Report accumulates scores over cases.
type Report struct {
	Fields  map[string]*Count
	Records Count
	// NegativeHits lists negative cases (empty golden) that produced records.
	NegativeHits []string
	// Mismatches describes every wrong field, for people to read.
	Mismatches []string
	// UnitPriceOff lists records whose $/MW/year is off by more than 0.5% although
	// value, MW and term are right.
	UnitPriceOff []string
}

// NewReport returns an empty report.
func NewReport() *Report {
	r := &Report{Fields: map[string]*Count{}}
	for _, f := range Fields {
		r.Fields[f] = &Count{}
	}
	return r
}

// Add scores one case.
func (r *Report) Add(name string, got, want []Golden) {
	if len(want) == 0 && len(got) > 0 {
		r.NegativeHits = append(r.NegativeHits, fmt.Sprintf("%s: %d record(s)", name, len(got)))
	}
	pairs, extraGot, extraWant := align(got, want)
	r.Records.TP += len(pairs)
	r.Records.FP += len(extraGot)
	r.Records.FN += len(extraWant)
	for _, p := range pairs {
		g, w := got[p[0]], want[p[1]]
		gv, wv := values(g), values(w)
		for _, f := range Fields {
			c := r.Fields[f]
			switch {
			case wv[f] == "" && gv[f] == "":
			case wv[f] == "":
				c.FP++
			case gv[f] == "":
				c.FN++
			case same(f, gv[f], wv[f]):
				c.TP++
			default:
				c.FP++
				c.FN++
			}
			if wv[f] != gv[f] && !(wv[f] != "" && gv[f] != "" && same(f, gv[f], wv[f])) {
				r.Mismatches = append(r.Mismatches, fmt.Sprintf("%s: %s–%s: %s = %s, want %s", name, w.Operator.Name, w.Counterparty.Label(), f, orNull(gv[f]), orNull(wv[f])))
			}
		}
		if w.USDPerMWYear != nil && g.USDPerMWYear != nil && same(schemas.FieldTotalValueUSD, gv[schemas.FieldTotalValueUSD], wv[schemas.FieldTotalValueUSD]) &&
			same(schemas.FieldCapacityMW, gv[schemas.FieldCapacityMW], wv[schemas.FieldCapacityMW]) && gv[schemas.FieldTermYears] == wv[schemas.FieldTermYears] &&
			math.Abs(*g.USDPerMWYear-*w.USDPerMWYear) > 0.005**w.USDPerMWYear {
			r.UnitPriceOff = append(r.UnitPriceOff, fmt.Sprintf("%s: %s–%s", name, w.Operator.Name, w.Counterparty.Label()))
		}
	}
	for _, i := range extraGot {
		r.Mismatches = append(r.Mismatches, fmt.Sprintf("%s: unexpected record %s–%s", name, got[i].Operator.Name, got[i].Counterparty.Label()))
		for f, v := range values(got[i]) {
			if v != "" {
				r.Fields[f].FP++
			}
		}
	}
	for _, i := range extraWant {
		r.Mismatches = append(r.Mismatches, fmt.Sprintf("%s: missed record %s–%s", name, want[i].Operator.Name, want[i].Counterparty.Label()))
		for f, v := range values(want[i]) {
			if v != "" {
				r.Fields[f].FN++
			}
		}
	}
}

func orNull(s string) string {
	if s == "" {
		return "null"
	}
	return s
}

// values renders each field as a comparable string ("" = null / absent).
func values(g Golden) map[string]string {
	num := func(p *float64) string {
		if p == nil {
			return ""
		}
		return fmt.Sprintf("%g", *p)
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return strings.ToLower(*p)
	}
	party := func(p *schemas.Party) string {
		if p == nil {
			return ""
		}
		return strings.ToLower(p.Name)
	}
	terms := ""
	if len(g.Terms) > 0 {
		t := append([]string{}, g.Terms...)
		sort.Strings(t)
		terms = strings.Join(t, ",")
	}
	ct := g.ContractType
	agg := ""
	if g.Aggregate {
		agg = "true"
	}
	return map[string]string{
		"operator": operatorValue(g.Operator), "counterparty": counterpartyValue(g.Counterparty),
		schemas.FieldEndUser: party(g.EndUser), "guarantor": party(g.Guarantor), schemas.FieldContractType: ct,
		schemas.FieldCapacityMW: num(g.CapacityMW), schemas.FieldTotalValueUSD: num(g.TotalValueUSD), schemas.FieldTermYears: num(g.TermYears),
		schemas.FieldUSDPerMWYear: num(g.USDPerMWYear), schemas.FieldReportedUSDPerMWYear: num(g.ReportedUSDPerMWYear),
		schemas.FieldPrepaymentUSD: num(g.PrepaymentUSD), schemas.FieldGuaranteeUSD: num(g.GuaranteeUSD), "terms": terms,
		"location": str(g.Location), "hardware": str(g.Hardware), schemas.FieldAnnouncedOn: str(g.AnnouncedOn), "aggregate": agg,
	}
}

// operatorValue is the operator's name (any case) and ticker: "iren (IREN)".
func operatorValue(o schemas.Operator) string {
	v := strings.ToLower(o.Name)
	if o.Ticker != nil {
		v += " (" + *o.Ticker + ")"
	}
	return v
}

// counterpartyValue is the counterparty's name (any case), or "undisclosed: "
// and its descriptor, and whether it is a hyperscaler.
func counterpartyValue(c schemas.Counterparty) string {
	v := strings.ToLower(c.Label())
	if c.Name == nil && c.Descriptor != nil {
		v = "undisclosed: " + v
	}
	if c.Hyperscaler {
		v += " [hyperscaler]"
	}
	return v
}

// tolerance per numeric field: $/MW/year within 0.5%, other amounts within 1%.
var tolerance = map[string]float64{schemas.FieldUSDPerMWYear: 0.005, schemas.FieldReportedUSDPerMWYear: 0.01, schemas.FieldCapacityMW: 0.01,
	schemas.FieldTotalValueUSD: 0.01, schemas.FieldPrepaymentUSD: 0.02, schemas.FieldGuaranteeUSD: 0.01, schemas.FieldTermYears: 0}

func same(field, a, b string) bool {
	if a == b {
		return true
	}
	tol, ok := tolerance[field]
	if !ok {
		return false
	}
	var x, y float64
	if _, err := fmt.Sscan(a, &x); err != nil {
		return false
	}
	if _, err := fmt.Sscan(b, &y); err != nil {
		return false
	}
	return math.Abs(x-y) <= tol*math.Max(math.Abs(x), math.Abs(y))
}

// align pairs extracted with golden records: same operator name, then the most
// agreeing fields first (counterparty name or descriptor, value, MW, term,
// aggregate).
func align(got, want []Golden) (pairs [][2]int, extraGot, extraWant []int) {
	type cand struct{ i, j, score int }
	var cs []cand
	for i, g := range got {
		gv := values(g)
		for j, w := range want {
			wv := values(w)
			if !strings.EqualFold(g.Operator.Name, w.Operator.Name) {
				continue
			}
			score := 0
			if strings.EqualFold(g.Counterparty.Label(), w.Counterparty.Label()) {
				score += 4
			}
			for _, f := range []string{schemas.FieldTotalValueUSD, schemas.FieldCapacityMW, schemas.FieldTermYears, "aggregate"} {
				if gv[f] != "" && same(f, gv[f], wv[f]) {
					score += 2
				}
			}
			if score >= 4 {
				cs = append(cs, cand{i, j, score})
			}
		}
	}
	sort.SliceStable(cs, func(a, b int) bool { return cs[a].score > cs[b].score })
	usedG, usedW := map[int]bool{}, map[int]bool{}
	for _, c := range cs {
		if usedG[c.i] || usedW[c.j] {
			continue
		}
		usedG[c.i], usedW[c.j] = true, true
		pairs = append(pairs, [2]int{c.i, c.j})
	}
	sort.Slice(pairs, func(a, b int) bool { return pairs[a][1] < pairs[b][1] })
	for i := range got {
		if !usedG[i] {
			extraGot = append(extraGot, i)
		}
	}
	for j := range want {
		if !usedW[j] {
			extraWant = append(extraWant, j)
		}
	}
	return pairs, extraGot, extraWant
}

// Print writes the per-field table.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "%-26s %9s %9s %9s %5s %5s %5s\n", "field", "precision", "recall", "F1", "TP", "FP", "FN")
	fmt.Fprintf(w, "%-26s %9.3f %9.3f %9.3f %5d %5d %5d\n", "(records)", r.Records.Precision(), r.Records.Recall(), r.Records.F1(), r.Records.TP, r.Records.FP, r.Records.FN)
	var all Count
	for _, f := range Fields {
		c := r.Fields[f]
		all.TP += c.TP
		all.FP += c.FP
		all.FN += c.FN
		fmt.Fprintf(w, "%-26s %9.3f %9.3f %9.3f %5d %5d %5d\n", f, c.Precision(), c.Recall(), c.F1(), c.TP, c.FP, c.FN)
	}
	fmt.Fprintf(w, "%-26s %9.3f %9.3f %9.3f %5d %5d %5d\n", "(all fields)", all.Precision(), all.Recall(), all.F1(), all.TP, all.FP, all.FN)
	fmt.Fprintf(w, "negative fixtures with records: %d; $/MW/year off by >0.5%% with right inputs: %d\n", len(r.NegativeHits), len(r.UnitPriceOff))
}
