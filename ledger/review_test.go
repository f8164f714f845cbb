package ledger_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/ledger/bolt"
	"github.com/mwledger/mwledger/ledger/ledgertest"
)

func TestReviewOnTheEmbeddedStore(t *testing.T) {
	s, err := bolt.Open(filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ledgertest.ReviewScenario(t, context.Background(), s, "Review Op", func() error { return nil })
}

func TestParseCorrection(t *testing.T) {
	tests := []struct {
		field, value, want, err string
	}{
		{"capacity_mw", "200", "200", ""},
		{"total_value_usd", "9,700,000,000", "9700000000", ""},
		{"total_value_usd", "9.7e9", "9700000000", ""},
		{"term_years", "-", "", ""},
		{"Capacity_MW", " 245 ", "245", ""},
		{"announced_on", "2025-11", "2025-11", ""},
		{"announced_on", "2025-11-03", "2025-11-03", ""},
		{"announced_on", "Nov 3", "", "YYYY-MM-DD"},
		{"contract_type", "bare_metal", "bare_metal", ""},
		{"contract_type", "lease", "", "not one of"},
		{"contract_type", "", "unknown", ""},
		{"counterparty", "Undisclosed:  investment-grade hyperscaler", "undisclosed: investment-grade hyperscaler", ""},
		{"counterparty", "undisclosed:", "", "needs a descriptor"},
		{"hyperscaler", "yes", "", "true or false"},
		{"hyperscaler", "1", "true", ""},
		{"capacity_mw", "two hundred", "", "not a non-negative number"},
		{"capacity_mw", "-5", "", "not a non-negative number"},
		{"capacity_mw", "NaN", "", "not a non-negative number"},
		{"total_value_usd", "Inf", "", "not a non-negative number"},
		{"total_value_usd", "1e400", "", "not a non-negative number"},
		{"operator", "", "", "cannot be empty"},
		{"id", "x", "", "cannot correct"},
	}
	for _, tt := range tests {
		c, err := ledger.ParseCorrection(tt.field, tt.value)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s=%q: error %v, want %q", tt.field, tt.value, err, tt.err)
			}
			continue
		}
		if err != nil || c.Value != tt.want {
			t.Errorf("%s=%q: %q, %v; want %q", tt.field, tt.value, c.Value, err, tt.want)
		}
	}
}
