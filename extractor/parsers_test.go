package extractor

import (
	"testing"
)

func TestParseCapacity(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		decimalComma bool
		want         []float64
		energy       bool
		bound        string
	}{
		{name: "MW", in: "covers 200 MW of IT load", want: []float64{200}},
		{name: "no space", in: "a 245MW lease", want: []float64{245}},
		{name: "gigawatts", in: "1.7 gigawatts of approved power", want: []float64{1700}},
		{name: "up to GW", in: "up to 5GW of capacity", want: []float64{5000}, bound: "up_to"},
		{name: "hyphenated portfolio", in: "a 2,910-megawatt portfolio", want: []float64{2910}},
		{name: "chinese", in: "约 60 兆瓦的关键 IT 负载", want: []float64{60}},
		{name: "chinese GW", in: "1.7 吉瓦的电力", want: []float64{1700}},
		{name: "german decimal comma", in: "1,7 Gigawatt Leistung", decimalComma: true, want: []float64{1700}},
		{name: "energy", in: "stores 400 MWh", want: []float64{400}, energy: true},
		{name: "not a unit inside a word", in: "the 5 mwords", want: nil},
		{name: "spelled out", in: "Twenty-five megawatts of critical IT load", want: []float64{25}},
		{name: "spelled with digits too", in: "Two hundred megawatts (200 MW) of load", want: []float64{200}},
		{name: "range by its low end", in: "the order maps to 2.5-3 gigawatts of capacity", want: []float64{2500}},
		{name: "range with to", in: "between 120 to 150 MW of IT load", want: []float64{120}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseCapacity(tt.in, tt.decimalComma)
			if len(got) != len(tt.want) {
				t.Fatalf("parseCapacity(%q) = %+v, want %v", tt.in, got, tt.want)
			}
			for i, w := range tt.want {
				if !near(got[i].MW, w) || got[i].Energy != tt.energy || got[i].Bound != tt.bound {
					t.Errorf("parseCapacity(%q)[%d] = %+v, want %v MW energy=%v bound=%q", tt.in, i, got[i], w, tt.energy, tt.bound)
				}
			}
		})
	}
}

func TestParseTerms(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  float64 // 0 = no term
		until int
	}{
		{name: "five-year", in: "a five-year contract", want: 5},
		{name: "15-year term", in: "for a 15-year term", want: 15},
		{name: "10 years list", in: "25MW, 10 years, $311 million", want: 10},
		{name: "term of", in: "over a term of five years", want: 5},
		{name: "chinese", in: "为期 10 年的租赁合同", want: 10},
		{name: "traditional", in: "為期15年", want: 15},
		{name: "german", in: "mit einer Laufzeit von 15 Jahren", want: 15},
		{name: "through", in: "a lease running through 2040", until: 2040},
		{name: "not an age", in: "founded 12 years ago", want: 0},
		{name: "not a horizon", in: "over the next two years", want: 0},
		{name: "chinese year is not a term", in: "2026年5月7日", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseTerms(tt.in)
			if tt.want == 0 && tt.until == 0 {
				if len(got) != 0 {
					t.Fatalf("parseTerms(%q) = %+v, want none", tt.in, got)
				}
				return
			}
			if len(got) == 0 || got[0].Years != tt.want || got[0].Until != tt.until {
				t.Fatalf("parseTerms(%q) = %+v, want %v years until %d", tt.in, got, tt.want, tt.until)
			}
		})
	}
}

func TestParseUnitPrices(t *testing.T) {
	tests := []struct {
		in   string
		want float64
	}{
		{"at $1.78 million/MW/year", 1.78e6},
		{"unit price $11.33 million/MW/year", 11.33e6},
		{"about $1.905 million per MW per year", 1.905e6},
		{"每兆瓦每年 178 万美元", 1.78e6},
	}
	for _, tt := range tests {
		got := parseUnitPrices(tt.in)
		if len(got) != 1 || !near(got[0].USD, tt.want) {
			t.Errorf("parseUnitPrices(%q) = %+v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseDates(t *testing.T) {
	tests := []struct {
		in    string
		want  string
		fuzzy bool
	}{
		{"on May 7, 2026, IREN", "2026-05-07", false},
		{"in November 2025", "2025-11", false},
		{"in late 2025", "2025-11", true},
		{"2026/05/23 23:10:29", "2026-05-23", false},
		{"2026年5月7日", "2026-05-07", false},
		{"signed 7 May 2026", "2026-05-07", false},
		{"Dec. 17, 2025", "2025-12-17", false},
	}
	for _, tt := range tests {
		got := parseDates(tt.in)
		if len(got) == 0 || got[0].Value != tt.want || got[0].Fuzzy != tt.fuzzy {
			t.Errorf("parseDates(%q) = %+v, want %s fuzzy=%v", tt.in, got, tt.want, tt.fuzzy)
		}
	}
	if got := parseDates("we may see 2026 bring more"); len(got) != 0 {
		t.Errorf("the verb 'may' is not a month: %+v", got)
	}
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in           string
		decimalComma bool
		want         float64
	}{
		{"2,941", false, 2941}, {"9.7", false, 9.7}, {"1,5", true, 1.5}, {"5.500", true, 5500},
		{"1.234,5", true, 1234.5}, {"1,234.5", false, 1234.5}, {"1,5", false, 1.5}, {"1.000.000", false, 1e6},
	}
	for _, tt := range tests {
		if got, ok := parseNumber(tt.in, tt.decimalComma); !ok || !near(got, tt.want) {
			t.Errorf("parseNumber(%q, %v) = %v, %v; want %v", tt.in, tt.decimalComma, got, ok, tt.want)
		}
	}
}

func FuzzParseCapacity(f *testing.F) {
	for _, s := range []string{"200 MW", "245MW", "1.7 gigawatts", "up to 5GW", "2,910-megawatt", "60 兆瓦", "1,7 Gigawatt", "MW"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, dc bool) {
		for _, c := range parseCapacity(s, dc) {
			if c.Start < 0 || c.End > len(s) || c.Start >= c.End || c.MW < 0 {
				t.Fatalf("bad capacity %+v in %q", c, s)
			}
		}
	})
}

func FuzzParseTerms(f *testing.F) {
	for _, s := range []string{"five-year", "15-year term", "10 years,", "为期 10 年", "through 2040", "15 Jahre"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tm := range parseTerms(s) {
			if tm.Start < 0 || tm.End > len(s) || (tm.Until == 0 && (tm.Years <= 0 || tm.Years > 50)) {
				t.Fatalf("bad term %+v in %q", tm, s)
			}
		}
	})
}

func FuzzParseDates(f *testing.F) {
	for _, s := range []string{"May 7, 2026", "November 2025", "late 2025", "2026/05/23", "2026年5月7日"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, d := range parseDates(s) {
			if len(d.Value) != 7 && len(d.Value) != 10 {
				t.Fatalf("bad date %+v in %q", d, s)
			}
		}
	})
}

func FuzzReadHTML(f *testing.F) {
	f.Add([]byte(`<html><head><title>t</title></head><body><article><p>IREN signed a $9.7 billion contract with Microsoft for 200 MW.</p></article></body></html>`))
	f.Add([]byte("<p>unclosed <b>tags <table><tr><td>1"))
	f.Add([]byte{0xff, 0xfe, 0x00})
	x, err := New()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ReadHTML(b, "")
		if err != nil {
			return
		}
		_ = x.FromPage(p, "https://fuzz.example/")
	})
}
