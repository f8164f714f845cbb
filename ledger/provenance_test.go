package ledger_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/ledger/bolt"
	"github.com/mwledger/mwledger/schemas"
)

// TestAuthorityFromTheFetchedHost: a page fetched from any host that names a
// sec.gov URL as its canonical got filing authority, outranked the real
// report and rewrote the deal (term 15 → 1 year). With the fetched URL on the
// record, its authority is the fetched host's: the report's term stands, and
// the source says why it ranks as it does.
func TestAuthorityFromTheFetchedHost(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	s := func(v string) *string { return &v }
	record := func(url, fetched string, years float64, published string) schemas.Contract {
		return schemas.Contract{SchemaVersion: 1, ID: "deal-00000000000000aa", ContractType: schemas.TypeColocation,
			Operator: schemas.Operator{Name: "Cipher Mining"}, Counterparty: schemas.Counterparty{Name: s("Amazon"), Hyperscaler: true},
			CapacityMW: f(300), TotalValueUSD: f(5.5e9), TermYears: f(years), Terms: []string{}, Evidence: []string{"x"},
			Source: schemas.Source{URL: url, FetchedURL: fetched, PublishedAt: s(published)}, Confidence: 0.9, ExtractorVersion: "t"}
	}
	report := record("https://news.example/cipher-aws", "https://news.example/cipher-aws", 15, "2025-11-03")
	for _, tc := range []struct {
		name      string
		forged    schemas.Contract
		wantYears float64
		wantAuth  int
	}{
		{"fetched elsewhere, canonical sec.gov", record("https://www.sec.gov/Archives/edgar/data/1/x.htm", "http://evil.example/x", 1, "2025-11-04"), 15, ledger.AuthorityReport},
		{"a real filing", record("https://www.sec.gov/Archives/edgar/data/1/x.htm", "https://www.sec.gov/Archives/edgar/data/1/x.htm", 1, "2025-11-04"), 1, ledger.AuthorityFiling},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := bolt.Open(filepath.Join(t.TempDir(), "l.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for _, err := range st.Upsert(context.Background(), []schemas.Contract{report, tc.forged}) {
				if err != nil {
					t.Fatal(err)
				}
			}
			d, err := st.Get(context.Background(), report.ID)
			if err != nil || d == nil {
				t.Fatalf("deal: %v", err)
			}
			if d.TermYears == nil || *d.TermYears != tc.wantYears {
				t.Errorf("term %v, want %v", d.TermYears, tc.wantYears)
			}
			for _, src := range d.Sources {
				if src.URL == tc.forged.Source.URL {
					if src.Authority != tc.wantAuth || src.FetchedURL != tc.forged.Source.FetchedURL {
						t.Errorf("source %s: authority %d (%s), fetched %q; want %d and the fetched URL kept", src.URL, src.Authority, src.AuthorityReason, src.FetchedURL, tc.wantAuth)
					}
				}
			}
		})
	}
}
