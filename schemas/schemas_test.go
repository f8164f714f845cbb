package schemas_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/fixtures"
	"github.com/mwledger/mwledger/schemas"
)

// TestExtractedRecordsMatchSchema validates every record the extractor writes for
// the fixtures, as it goes on the wire, against schemas/contract.schema.json.
func TestExtractedRecordsMatchSchema(t *testing.T) {
	x, err := extractor.New()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, name := range fixtures.Cases() {
		a, err := fixtures.Article(name)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if err := schemas.Validate("article.schema.json", raw); err != nil {
			t.Errorf("%s: article message: %v", name, err)
		}
		cs, err := x.Extract(t.Context(), a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, c := range cs {
			v, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if err := schemas.Validate("contract.schema.json", v); err != nil {
				t.Errorf("%s: record %s: %v", name, c.ID, err)
			}
			n++
		}
	}
	if n < 50 {
		t.Errorf("only %d records validated; the fixtures hold more deals than that", n)
	}
}

func TestSchemaRejectsBadRecords(t *testing.T) {
	tests := []struct {
		name, msg, errContains string
	}{
		{"not json", `{`, "invalid json"},
		{"wrong version", `{"schema_version":2}`, "does not match"},
		{"bad type", `{"schema_version":1,"id":"deal-0000000000000000","operator":{"name":"X"},"counterparty":{"name":null,"descriptor":null,"hyperscaler":false},"contract_type":"lease","capacity_mw":null,"total_value_usd":null,"term_years":null,"usd_per_mw_year":null,"terms":[],"aggregate":false,"source":{"url":"https://a.example/u"},"evidence":[],"confidence":0.5,"extractor_version":"v"}`, "does not match"},
	}
	good := strings.Replace(tests[2].msg, `"lease"`, `"colocation"`, 1)
	if err := schemas.Validate("contract.schema.json", []byte(good)); err != nil {
		t.Fatalf("the control record is rejected: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := schemas.Validate("contract.schema.json", []byte(tt.msg))
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("Validate = %v, want error containing %q", err, tt.errContains)
			}
		})
	}
}
