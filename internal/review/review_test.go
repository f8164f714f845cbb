package review

import (
	"slices"
	"testing"

	"github.com/mwledger/mwledger/ledger"
)

func TestCanonicalCorrections(t *testing.T) {
	c := func(f, v string) ledger.Correction { return ledger.Correction{Field: f, Value: v} }
	for _, tc := range []struct {
		name     string
		in, want []ledger.Correction
	}{
		{"an alias becomes the name, and the counterparty's flag is added",
			[]ledger.Correction{c("counterparty", "MSFT"), c("term_years", "10")},
			[]ledger.Correction{c("counterparty", "Microsoft"), c("term_years", "10"), c("hyperscaler", "true")}},
		{"an unknown company is kept as written and is no hyperscaler",
			[]ledger.Correction{c("counterparty", "Northwind Compute")},
			[]ledger.Correction{c("counterparty", "Northwind Compute"), c("hyperscaler", "false")}},
		{"a flag the reviewer gave is not overridden",
			[]ledger.Correction{c("counterparty", "Amazon"), c("hyperscaler", "false")},
			[]ledger.Correction{c("counterparty", "Amazon"), c("hyperscaler", "false")}},
		{"an undisclosed counterparty is no hyperscaler unless said",
			[]ledger.Correction{c("counterparty", "undisclosed: a large tech company")},
			[]ledger.Correction{c("counterparty", "undisclosed: a large tech company"), c("hyperscaler", "false")}},
		{"operators are spelled as the gazetteer does; no flag",
			[]ledger.Correction{c("operator", "Hut 8 Corp")},
			[]ledger.Correction{c("operator", "Hut 8")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CanonicalCorrections(tc.in)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
