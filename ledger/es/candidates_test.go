package es

import (
	"slices"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/schemas"
)

// partialSource names fields of the stored deal.
func TestPartialSourceNamesDealFields(t *testing.T) {
	deal := schemas.JSONNames(ledger.Deal{})
	for _, n := range partialSource {
		top, _, _ := strings.Cut(n, ".")
		if !slices.Contains(deal, top) {
			t.Errorf("partialSource names %q, not a field of Deal", n)
		}
	}
}
