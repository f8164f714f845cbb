package eval

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Whole-record differences: Difference.Field is one of these, or a golden field.
const (
	// Missed is a golden record the extractor did not produce.
	Missed = "missed"
	// Unexpected is a record the extractor produced that the golden file lacks.
	Unexpected = "unexpected"
)

// Difference is one way a fixture's extracted records differ from its golden
// records: a field of a record, or a whole record missed or unexpected.
type Difference struct {
	// Record names the record (RecordKey): the golden one for a field or a
	// missed record, the extracted one for an unexpected record.
	Record string
	// Field is a golden field (Fields), Missed or Unexpected.
	Field string
	// Got and Want are the field as JSON ("null" when absent), as extracted and
	// as in the golden file; for a whole record, the record's golden line.
	Got, Want string
}

func (d Difference) String() string {
	switch d.Field {
	case Missed:
		return fmt.Sprintf("missed record %s (in the golden file, not extracted):\n    want %s", d.Record, d.Want)
	case Unexpected:
		return fmt.Sprintf("unexpected record %s (extracted, not in the golden file):\n    got  %s", d.Record, d.Got)
	}
	return fmt.Sprintf("%s: %s\n    got  %s\n    want %s", d.Record, d.Field, d.Got, d.Want)
}

// RecordKey names a record the way a reader finds it in a golden file:
// "IREN / Microsoft / 200 MW" (operator, counterparty name or descriptor, MW),
// with " / aggregate" for an aggregate.
func RecordKey(g Golden) string {
	cp := g.Counterparty.Label()
	if cp == "" {
		cp = "?"
	}
	mw := "? MW"
	if g.CapacityMW != nil {
		mw = fmt.Sprintf("%g MW", *g.CapacityMW)
	}
	k := g.Operator.Name + " / " + cp + " / " + mw
	if g.Aggregate {
		k += " / aggregate"
	}
	return k
}

// keys names each record with RecordKey, adding " #2", " #3" … to repeats.
func keys(gs []Golden) []string {
	out := make([]string, len(gs))
	seen := map[string]int{}
	for i, g := range gs {
		k := RecordKey(g)
		seen[k]++
		if n := seen[k]; n > 1 {
			k = fmt.Sprintf("%s #%d", k, n)
		}
		out[i] = k
	}
	return out
}

// Compare lists how got (extracted) differs from want (golden), record by
// record: records are paired as Report pairs them (same operator, then the
// most agreeing counterparty and figures) and compared field by field with
// Report's tolerances (names in any case, amounts within 1%, $/MW/year within
// 0.5%). Differences come in golden order: each golden record's fields in the
// order of Fields (or Missed), then the unexpected records.
func Compare(got, want []Golden) []Difference {
	pairs, extraGot, _ := align(got, want) // unpaired golden records: Missed, below
	wantKeys, gotKeys := keys(want), keys(got)
	byWant := map[int]int{}
	for _, p := range pairs {
		byWant[p[1]] = p[0]
	}
	var out []Difference
	for j, w := range want {
		i, ok := byWant[j]
		if !ok {
			out = append(out, Difference{Record: wantKeys[j], Field: Missed, Got: "null", Want: line(w)})
			continue
		}
		g := got[i]
		gv, wv := values(g), values(w)
		gj, wj := fieldJSON(g), fieldJSON(w)
		for _, f := range Fields {
			if gv[f] == wv[f] || (gv[f] != "" && wv[f] != "" && same(f, gv[f], wv[f])) {
				continue
			}
			out = append(out, Difference{Record: wantKeys[j], Field: f, Got: gj[f], Want: wj[f]})
		}
	}
	for _, i := range extraGot {
		out = append(out, Difference{Record: gotKeys[i], Field: Unexpected, Got: line(got[i]), Want: "null"})
	}
	return out
}

// line is a record as its golden line.
func line(g Golden) string {
	return strings.TrimSuffix(string(WriteGolden([]Golden{g})), "\n")
}

// fieldJSON is each golden field of g as JSON.
func fieldJSON(g Golden) map[string]string {
	var m map[string]json.RawMessage
	b, _ := json.Marshal(g)
	_ = json.Unmarshal(b, &m)
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}
