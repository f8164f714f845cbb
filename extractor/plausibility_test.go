package extractor

import (
	"strings"
	"testing"
)

func TestPlausibilityWarnings(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		html    string
		warning string // "" = none expected
		years   float64
	}{
		{
			name:  "through a year",
			html:  `<p>On May 7, 2025, Hut 8 signed a lease with Fluidstack for 100 MW worth $3 billion, running through 2040.</p>`,
			years: 15,
		},
		{
			name:    "unit price outside the bands",
			html:    `<p>Hut 8 signed a 15-year lease with Fluidstack for 100 MW worth $300 billion.</p>`,
			warning: "outside the known bands",
			years:   15,
		},
		{
			name:    "stated price disagrees",
			html:    `<p>Hut 8 signed a 15-year lease with Fluidstack for 100 MW worth $3 billion, or $2.5 million per MW per year.</p>`,
			warning: "differs from the derived",
			years:   15,
		},
		{
			name:    "an upper bound",
			html:    `<p>Hut 8 signed a 15-year lease with Fluidstack for up to 100 MW worth $3 billion.</p>`,
			warning: "capacity is a bound",
			years:   15,
		},
		{
			name:    "euros are not dollars",
			html:    `<p>Hut 8 a signé avec Fluidstack un bail de 15 ans portant sur 100 MW pour 2,5 milliards d'euros.</p>`,
			warning: "stated in EUR",
			years:   15,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := onlyRecord(t, x, tt.html)
			joined := strings.Join(c.Warnings, "; ")
			if tt.warning == "" && len(c.Warnings) > 0 || tt.warning != "" && !strings.Contains(joined, tt.warning) {
				t.Errorf("warnings = %q, want %q", joined, tt.warning)
			}
			if tt.warning != "" && c.Confidence >= 0.9 {
				t.Errorf("confidence %.2f not lowered by the warning", c.Confidence)
			}
			if v(c.TermYears) != tt.years {
				t.Errorf("term = %v, want %v", v(c.TermYears), tt.years)
			}
			if c.FieldEvidence["operator"] == "" || c.FieldEvidence["total_value_usd"] == "" && c.TotalValueUSD != nil {
				t.Errorf("field evidence missing: %v", c.FieldEvidence)
			}
		})
	}
}
