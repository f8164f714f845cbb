package ledger

import (
	"strings"
	"testing"

	"github.com/mwledger/mwledger/schemas"
)

func TestQueryMatches(t *testing.T) {
	d := aggDeal("a", "IREN", "Microsoft", true, schemas.TypeBareMetal, 200, 9.7e9, 9.7e6, "2025-11")
	d.Location, d.Hardware = s("Childress, Texas"), s("NVIDIA GB300")
	d.Evidence = []string{"IREN's $9.7B contract with Microsoft includes a 20% prepayment."}
	d.Sources = []DealSource{{Title: s("Miners turn AI landlords")}}
	tests := []struct {
		name string
		q    Query
		want bool
	}{
		{"nothing", Query{}, true},
		{"ticker-less operator, case", Query{Operator: "iren"}, true},
		{"other operator", Query{Operator: "Hut 8"}, false},
		{"MW inside", Query{MinMW: 200, MaxMW: 200}, true},
		{"MW above", Query{MinMW: 201}, false},
		{"price range", Query{MinUSDPerMWYear: 9e6, MaxUSDPerMWYear: 1e7}, true},
		{"value too high", Query{MinValue: 1e10}, false},
		{"month deal counts as the 1st", Query{AnnouncedFrom: "2025-11-01", AnnouncedTo: "2025-11-01"}, true},
		{"after the 1st", Query{AnnouncedFrom: "2025-11-02"}, false},
		{"month upper bound", Query{AnnouncedTo: "2025-11"}, true},
		{"before", Query{AnnouncedTo: "2025-10-31"}, false},
		{"location substring", Query{Location: "TEXAS"}, true},
		{"hardware substring", Query{Hardware: "gb300"}, true},
		{"hardware other", Query{Hardware: "H100"}, false},
		{"whole words across fields", Query{Text: "landlords prepayment"}, true},
		{"possessive is its own word", Query{Text: "iren's"}, true},
		{"no partial words", Query{Text: "prepay"}, false},
		{"hyperscaler", Query{HyperscalerOnly: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.q.matches(d); got != tt.want {
				t.Errorf("matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestQueryValidateFields(t *testing.T) {
	tests := []struct {
		name        string
		q           Query
		errContains string
	}{
		{"ok", Query{Sort: "confidence", Order: "asc", AnnouncedFrom: "2025-01"}, ""},
		{"sort", Query{Sort: "size"}, "sort must be"},
		{"order", Query{Order: "up"}, "order must be"},
		{"window", Query{From: 9990, Size: 20}, "must not exceed"},
		{"date", Query{AnnouncedTo: "2025/01"}, "announced_to"},
		{"negative", Query{MinValue: -1}, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.q.Validate()
			if tt.errContains == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("error %v, want %q", err, tt.errContains)
			}
		})
	}
}
