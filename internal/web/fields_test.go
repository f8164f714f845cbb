package web

import (
	"slices"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/schemas"
)

// The CSV export has a column for every golden field of the registry, and
// every column is a deal field or named after one (operator_ticker).
func TestCSVHeaderMatchesRegistry(t *testing.T) {
	for _, f := range schemas.FieldNames(func(f schemas.Field) bool { return f.Golden }) {
		if !slices.Contains(CSVHeader, f) {
			t.Errorf("CSVHeader has no column %s (schemas.Fields)", f)
		}
	}
	deal := schemas.JSONNames(ledger.Deal{})
	for _, col := range CSVHeader {
		if !slices.ContainsFunc(deal, func(d string) bool { return strings.HasPrefix(col, d) }) {
			t.Errorf("CSV column %q is not named after a deal field", col)
		}
	}
}
