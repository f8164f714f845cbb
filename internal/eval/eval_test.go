package eval

import (
	"reflect"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/schemas"
)

func num(v float64) *float64 { return &v }
func str(v string) *string   { return &v }

func iren() Golden {
	return Golden{
		Operator:      schemas.Operator{Name: "IREN", Ticker: str("IREN")},
		Counterparty:  schemas.Counterparty{Name: str("Microsoft"), Hyperscaler: true},
		ContractType:  "cloud_services",
		CapacityMW:    num(200),
		TotalValueUSD: num(9.7e9),
		TermYears:     num(5),
		USDPerMWYear:  num(9.7e6),
		Terms:         []string{"prepayment"},
		Location:      str("Childress, Texas"),
	}
}

func cipher() Golden {
	return Golden{
		Operator:     schemas.Operator{Name: "Cipher Mining", Ticker: str("CIFR")},
		Counterparty: schemas.Counterparty{Descriptor: str("investment-grade hyperscaler")},
		ContractType: "colocation",
		CapacityMW:   num(300),
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name string
		got  func() []Golden
		want []Difference
	}{
		{name: "same records", got: func() []Golden { return []Golden{iren(), cipher()} }},
		{name: "other order, names in another case, MW within 1%", got: func() []Golden {
			a, b := iren(), cipher()
			a.Location, a.CapacityMW = str("childress, texas"), num(201)
			return []Golden{b, a}
		}},
		{name: "a field differs", got: func() []Golden {
			a := iren()
			a.Location = str("Abilene, Texas")
			return []Golden{a, cipher()}
		}, want: []Difference{{Record: "IREN / Microsoft / 200 MW", Field: "location", Got: `"Abilene, Texas"`, Want: `"Childress, Texas"`}}},
		{name: "null against a value, $/MW/year off by 1%", got: func() []Golden {
			a := iren()
			a.Terms, a.USDPerMWYear = nil, num(9.8e6)
			return []Golden{a, cipher()}
		}, want: []Difference{
			{Record: "IREN / Microsoft / 200 MW", Field: "usd_per_mw_year", Got: "9800000", Want: "9700000"},
			{Record: "IREN / Microsoft / 200 MW", Field: "terms", Got: "null", Want: `["prepayment"]`},
		}},
		{name: "ticker and hyperscaler flag count", got: func() []Golden {
			a := iren()
			a.Operator.Ticker, a.Counterparty.Hyperscaler = nil, false
			return []Golden{a, cipher()}
		}, want: []Difference{
			{Record: "IREN / Microsoft / 200 MW", Field: "operator", Got: `{"name":"IREN","ticker":null}`, Want: `{"name":"IREN","ticker":"IREN"}`},
			{Record: "IREN / Microsoft / 200 MW", Field: "counterparty", Got: `{"name":"Microsoft","descriptor":null,"hyperscaler":false}`,
				Want: `{"name":"Microsoft","descriptor":null,"hyperscaler":true}`},
		}},
		{name: "missed and unexpected records", got: func() []Golden {
			x := cipher()
			x.Operator.Name = "TeraWulf"
			return []Golden{iren(), x}
		}, want: []Difference{
			{Record: "Cipher Mining / investment-grade hyperscaler / 300 MW", Field: Missed, Got: "null", Want: line(cipher())},
			{Record: "TeraWulf / investment-grade hyperscaler / 300 MW", Field: Unexpected, Got: strings.Replace(line(cipher()), "Cipher Mining", "TeraWulf", 1), Want: "null"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(tt.got(), []Golden{iren(), cipher()})
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Compare:\n got  %q\n want %q", got, tt.want)
			}
			// Report counts a mismatch exactly where Compare finds a field difference.
			r := NewReport()
			r.Add("case", tt.got(), []Golden{iren(), cipher()})
			fields := 0
			for _, d := range got {
				if d.Field != Missed && d.Field != Unexpected {
					fields++
				}
			}
			if n := len(r.Mismatches) - r.Records.FP - r.Records.FN; n != fields {
				t.Errorf("Report has %d field mismatches, Compare %d: %q", n, fields, r.Mismatches)
			}
		})
	}
}

func TestRecordKeysAreUnique(t *testing.T) {
	a, b := iren(), iren()
	b.Location = str("Sweetwater, Texas")
	c := cipher()
	c.Aggregate, c.CapacityMW = true, nil
	got := keys([]Golden{a, b, c})
	want := []string{"IREN / Microsoft / 200 MW", "IREN / Microsoft / 200 MW #2", "Cipher Mining / investment-grade hyperscaler / ? MW / aggregate"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("keys = %q, want %q", got, want)
	}
}

func TestParseKnownMisses(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		errContains string
	}{
		{name: "empty", in: ""},
		{name: "comments only", in: "# nothing yet\n"},
		{name: "entries", in: "a:\n  - record: IREN / Microsoft / 200 MW\n    field: location\n    reason: r\n  - record: X / Y / ? MW\n    field: missed\n    reason: r\n"},
		{name: "unknown field", in: "a:\n  - {record: x, field: colour, reason: r}\n", errContains: `field "colour" is not one of`},
		{name: "no reason", in: "a:\n  - {record: x, field: location}\n", errContains: "no reason"},
		{name: "no record", in: "a:\n  - {field: location, reason: r}\n", errContains: "no record"},
		{name: "twice", in: "a:\n  - {record: x, field: location, reason: r}\n  - {record: x, field: location, reason: s}\n", errContains: "listed twice"},
		{name: "unknown key", in: "a:\n  - {record: x, field: location, reason: r, got: y}\n", errContains: "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseKnownMisses([]byte(tt.in))
			if tt.errContains == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.errContains != "" && (err == nil || !strings.Contains(err.Error(), tt.errContains)) {
				t.Fatalf("error %v, want one containing %q", err, tt.errContains)
			}
		})
	}
}

func TestKnownMissesCheckSetAndRoundTrip(t *testing.T) {
	loc := Difference{Record: "IREN / Microsoft / 200 MW", Field: "location", Got: `"x"`, Want: `"y"`}
	miss := Difference{Record: "Cipher Mining / AWS / 300 MW", Field: Missed}
	k := KnownMisses{"case": {
		{Record: loc.Record, Field: "location", Reason: "the page names two sites"},
		{Record: "IREN / Microsoft / 200 MW", Field: "hardware", Reason: "fixed since"},
	}}
	fresh, known, stale := k.Check("case", []Difference{loc, miss})
	if !reflect.DeepEqual(fresh, []Difference{miss}) || !reflect.DeepEqual(known, []Difference{loc}) ||
		len(stale) != 1 || stale[0].Field != "hardware" {
		t.Fatalf("Check: fresh %v, known %v, stale %v", fresh, known, stale)
	}
	if fresh, known, stale := k.Check("other", []Difference{loc}); len(fresh) != 1 || known != nil || stale != nil {
		t.Fatalf("another fixture's entries applied: %v %v %v", fresh, known, stale)
	}

	k.Set("case", []Difference{loc, miss}, "new")
	want := []KnownMiss{{Record: loc.Record, Field: "location", Reason: "the page names two sites"}, {Record: miss.Record, Field: Missed, Reason: "new"}}
	if !reflect.DeepEqual(k["case"], want) {
		t.Fatalf("Set kept %v, want %v", k["case"], want)
	}
	k.Set("gone", nil, "x")
	k.Set("b-case", []Difference{loc}, "reason: with a colon")
	b, err := k.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseKnownMisses(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if !reflect.DeepEqual(back, k) {
		t.Fatalf("round trip:\n%s\ngave %v, want %v", b, back, k)
	}
	if i, j := strings.Index(string(b), "\nb-case:"), strings.Index(string(b), "\ncase:"); i < 0 || j < i {
		t.Errorf("fixtures not in name order:\n%s", b)
	}
	k.Set("case", nil, "")
	k.Set("b-case", nil, "")
	if b, err = k.Marshal(); err != nil || !strings.HasSuffix(string(b), "\n{}\n") {
		t.Errorf("no entries: %q, %v", b, err)
	}
	if back, err := ParseKnownMisses(b); err != nil || len(back) != 0 {
		t.Errorf("an empty file reads as %v, %v", back, err)
	}
}
