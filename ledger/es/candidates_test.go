package es

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/schemas"
)

// labelRegexp matches exactly the labels whose ledger.LabelKey is the key's.
func TestLabelRegexpMatchesTheLabelsOfItsKey(t *testing.T) {
	// Whole labels, pairwise, over tricky runes: K (Kelvin sign), ſ, σ/ς/Σ, İ/ı, ß/ẞ, µ/μ.
	labels := []string{"Microsoft", "MICROSOFT", "microsoft", "Micro$oft", "\u212Aelvin", "kelvin", "KELVIN", "ſtar", "STAR",
		"Σίσυφος", "σίσυφοσ", "ΣΊΣΥΦΟΣ", "İstanbul", "istanbul", "ıstanbul", "ISTANBUL", "Straße", "STRAẞE", "straße", "µ-cloud", "μ-CLOUD",
		"", "a.b(c)[d]{e}*+?|\\^$", "A.B(C)[D]{E}*+?|\\^$", "x\xffy", "x\xfey", "x\uFFFDy", "\u00c5ngstr\u00f6m", "\u212Bngstr\u00d6m"}
	for _, a := range labels {
		re, ok := labelRegexp(ledger.LabelKey(a))
		if !ok {
			t.Fatalf("%q: no expression", a)
		}
		// The syntax used (classes, escaped ASCII punctuation) means the same in Go's regexp.
		rx := regexp.MustCompile("^(?:" + re + ")$")
		for _, b := range labels {
			same := ledger.LabelKey(a) == ledger.LabelKey(b)
			if strings.ToValidUTF8(b, "\uFFFD") == b && rx.MatchString(b) != same {
				t.Errorf("labelRegexp(%q) = %s matches %q: %v, keys equal: %v", a, re, b, !same, same)
			}
		}
	}
	long := strings.Repeat("a", 400)
	if _, ok := labelRegexp(ledger.LabelKey(long)); ok {
		t.Errorf("a 400-letter label makes a %d-character expression: over Elasticsearch's limit", 4*400)
	}
}

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
