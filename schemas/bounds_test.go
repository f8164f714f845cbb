package schemas_test

import (
	"math"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/schemas"
)

// TestSchemaBoundsFigures: a record published to mwledger.contracts by anyone
// with access to the topic cannot carry 1.7e308 MW (sums over the ledger would
// be infinite); 1e14 passes, 1e15 does not.
func TestSchemaBoundsFigures(t *testing.T) {
	base := `{"schema_version":1,"id":"deal-0000000000000000","operator":{"name":"X"},"counterparty":{"name":null,"descriptor":null,"hyperscaler":false},"contract_type":"colocation","capacity_mw":MW,"total_value_usd":null,"term_years":null,"usd_per_mw_year":null,"terms":[],"aggregate":false,"source":{"url":"https://a.example/x"},"evidence":[],"confidence":0.5,"extractor_version":"v"}`
	for _, tc := range []struct {
		mw string
		ok bool
	}{{"200", true}, {"1e14", true}, {"1e15", false}, {"1.7e308", false}, {"0", false}} {
		err := schemas.Validate("contract.schema.json", []byte(strings.Replace(base, "MW", tc.mw, 1)))
		if (err == nil) != tc.ok {
			t.Errorf("capacity_mw %s: err %v, want ok=%v", tc.mw, err, tc.ok)
		}
	}
	tiny, value, years := 1e-300, 1e14, 1.0
	if p := schemas.DerivedUSDPerMWYear(&value, &tiny, &years); p != nil && (math.IsInf(*p, 0) || math.IsNaN(*p)) {
		t.Errorf("derived price %v: not finite", *p)
	}
}

// TestSchemaSourceURLIsWeb: a record whose source URL is a local path or
// another scheme is refused before it reaches the ledger (review --fixture
// would otherwise read that path).
func TestSchemaSourceURLIsWeb(t *testing.T) {
	base := `{"schema_version":1,"id":"deal-0000000000000000","operator":{"name":"X"},"counterparty":{"name":null,"descriptor":null,"hyperscaler":false},"contract_type":"colocation","capacity_mw":null,"total_value_usd":null,"term_years":null,"usd_per_mw_year":null,"terms":[],"aggregate":false,"source":{"url":URL},"evidence":[],"confidence":0.5,"extractor_version":"v"}`
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{`"https://news.example/a"`, true}, {`"http://127.0.0.1:8080/x"`, true},
		{`"/home/u/.ssh/id_rsa"`, false}, {`"file:///etc/passwd"`, false}, {`"javascript:alert(1)"`, false},
		{`"https://"`, false}, {`"https:///etc/passwd"`, false},
	} {
		err := schemas.Validate("contract.schema.json", []byte(strings.Replace(base, "URL", tc.url, 1)))
		if (err == nil) != tc.ok {
			t.Errorf("source.url %s: err %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
}
