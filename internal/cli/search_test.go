package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"github.com/mwledger/mwledger/internal/testkit"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/internal/app"
	"github.com/mwledger/mwledger/ledger"
)

// sampleLedger writes an embedded (SQLite) ledger of n generated deals and returns its path.
func sampleLedger(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ledger.db")
	b, err := app.OpenLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range b.Upsert(context.Background(), testkit.SampleContracts("cli", n, 3)) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), err
}

func TestSearchOutputs(t *testing.T) {
	ledgerPath := sampleLedger(t, 60)
	tests := []struct {
		name        string
		args        []string
		check       func(t *testing.T, out string)
		errContains string
	}{
		{"table", []string{"--operator", "IREN"}, func(t *testing.T, out string) {
			if !strings.Contains(out, "OPERATOR") || !strings.Contains(out, "deal(s)") {
				t.Errorf("table:\n%s", out)
			}
		}, ""},
		{"json", []string{"--json", "--type", "colocation", "--sort", "mw", "--order", "asc"}, func(t *testing.T, out string) {
			var r ledger.Result
			if err := json.Unmarshal([]byte(out), &r); err != nil || r.Total == 0 {
				t.Fatalf("json: %v %d", err, r.Total)
			}
			for _, d := range r.Deals {
				if d.ContractType != "colocation" {
					t.Errorf("deal %s is %s", d.ID, d.ContractType)
				}
			}
		}, ""},
		{"csv, all deals", []string{"--csv", "--all", "--min-value", "1"}, func(t *testing.T, out string) {
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil || len(rows) < 10 {
				t.Fatalf("csv: %v, %d rows", err, len(rows))
			}
			h := rows[0]
			col := map[string]int{}
			for i, c := range h {
				col[c] = i
			}
			for _, want := range []string{"id", "operator", "counterparty", "capacity_mw", "total_value_usd", "usd_per_mw_year", "sources_count", "source_urls"} {
				if _, ok := col[want]; !ok {
					t.Errorf("no column %s in %v", want, h)
				}
			}
			for _, r := range rows[1:] {
				if v := r[col["total_value_usd"]]; strings.ContainsAny(v, "$BM,e") {
					t.Errorf("value %q is formatted", v)
				}
				if r[col["sources_count"]] == "0" || !strings.HasPrefix(r[col["source_urls"]], "https://") {
					t.Errorf("sources: %v", r)
				}
			}
		}, ""},
		{"aggregation", []string{"--agg", "by-type"}, func(t *testing.T, out string) {
			if !strings.Contains(out, "colocation") || !strings.Contains(out, "MEDIAN") {
				t.Errorf("agg:\n%s", out)
			}
		}, ""},
		{"tiers as json", []string{"--agg", "tiers", "--json"}, func(t *testing.T, out string) {
			var r ledger.AggResult
			if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Rows) == 0 || r.Rows[0].Tier != 1 {
				t.Errorf("tiers: %v %+v", err, r)
			}
		}, ""},
		{"bad date", []string{"--since", "last week"}, nil, "announced_from"},
		{"bad agg", []string{"--agg", "by-moon"}, nil, "--agg must be one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCLI(t, append([]string{"search", "--store", "embedded", "--ledger", ledgerPath}, tt.args...)...)
			if tt.errContains != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errContains) {
					t.Fatalf("error %v, want %q", err, tt.errContains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, out)
		})
	}
}

func TestReviewList(t *testing.T) {
	ledgerPath := sampleLedger(t, 60)
	out, err := runCLI(t, "review", "list", "--ledger", ledgerPath, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r ledger.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Total == 0 {
		t.Fatalf("review list: %v, %d deals", err, r.Total)
	}
	for i, d := range r.Deals {
		if len(d.ReviewReasons) == 0 {
			t.Errorf("deal %s listed without a reason", d.ID)
		}
		if i > 0 && d.Confidence < r.Deals[i-1].Confidence {
			t.Errorf("not sorted by confidence ascending")
		}
	}
}
