package extractor

import (
	"math"
	"testing"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		decimalComma bool
		want         []Money // Value, High, Currency, Approx, Bound compared
	}{
		{name: "billion", in: "a $9.7 billion deal", want: []Money{{Value: 9.7e9, High: 9.7e9, Currency: "USD"}}},
		{name: "suffix B", in: "a $9.7B deal", want: []Money{{Value: 9.7e9, High: 9.7e9, Currency: "USD"}}},
		{name: "US$", in: "worth US$311 million over", want: []Money{{Value: 311e6, High: 311e6, Currency: "USD"}}},
		{name: "approx", in: "approximately $3.4 billion", want: []Money{{Value: 3.4e9, High: 3.4e9, Currency: "USD", Approx: true}}},
		{name: "guarantee", in: "$1.73 billion in lease guarantees", want: []Money{{Value: 1.73e9, High: 1.73e9, Currency: "USD"}}},
		{name: "range", in: "$8–11 million per megawatt", want: []Money{{Value: 8e6, High: 11e6, Currency: "USD"}}},
		{name: "share range", in: "$43-50 per share", want: []Money{{Value: 43, High: 50, Currency: "USD"}}},
		{name: "up to", in: "up to $2.1 billion", want: []Money{{Value: 2.1e9, High: 2.1e9, Currency: "USD", Bound: "up_to"}}},
		{name: "chinese yi", in: "价值 97 亿美元的合同", want: []Money{{Value: 9.7e9, High: 9.7e9, Currency: "USD"}}},
		{name: "chinese decimal", in: "3.11亿美元", want: []Money{{Value: 3.11e8, High: 3.11e8, Currency: "USD"}}},
		{name: "italian", in: "un contratto da 311 milioni di dollari", want: []Money{{Value: 311e6, High: 311e6, Currency: "USD"}}},
		{name: "german", in: "im Wert von 1,5 Milliarden US-Dollar", want: []Money{{Value: 1.5e9, High: 1.5e9, Currency: "USD"}}},
		{name: "spanish thousands dot", in: "por 5.500 millones de dólares", want: []Money{{Value: 5.5e9, High: 5.5e9, Currency: "USD"}}},
		{name: "italian miliardo", in: "1 miliardo di dollari", want: []Money{{Value: 1e9, High: 1e9, Currency: "USD"}}},
		{name: "french", in: "5,5 milliards de dollars", want: []Money{{Value: 5.5e9, High: 5.5e9, Currency: "USD"}}},
		{name: "euro not dollar", in: "für 2,3 Milliarden Euro", want: []Money{{Value: 2.3e9, High: 2.3e9, Currency: "EUR"}}},
		{name: "euro sign", in: "€500 million", want: []Money{{Value: 500e6, High: 500e6, Currency: "EUR"}}},
		{name: "australian", in: "A$1.2 billion", want: []Money{{Value: 1.2e9, High: 1.2e9, Currency: "AUD"}}},
		{name: "no money", in: "200 MW in Texas in 2025", want: nil},
		{name: "bare m not a word", in: "$5 more", want: []Money{{Value: 5, High: 5, Currency: "USD"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseMoney(tt.in, tt.decimalComma)
			if len(got) != len(tt.want) {
				t.Fatalf("parseMoney(%q) = %+v, want %d amounts", tt.in, got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if !near(g.Value, w.Value) || !near(g.High, w.High) || g.Currency != w.Currency || g.Approx != w.Approx || g.Bound != w.Bound {
					t.Errorf("parseMoney(%q)[%d] = %+v, want %+v", tt.in, i, g, w)
				}
			}
		})
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"$9.7 billion", "US$311 million", "$8–11 million", "97 亿美元", "1,5 Milliarden US-Dollar", "5.500 millones de dólares", "$", "$1,2,3.4.5 bn"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, dc bool) {
		for _, m := range parseMoney(s, dc) {
			if m.Start < 0 || m.End > len(s) || m.Start >= m.End {
				t.Fatalf("bad span %+v in %q", m, s)
			}
			if m.Value < 0 || m.High < m.Value || math.IsNaN(m.Value) {
				t.Fatalf("bad value %+v in %q", m, s)
			}
		}
	})
}
