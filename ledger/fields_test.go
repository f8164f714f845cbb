package ledger

import (
	"slices"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/schemas"
)

// The indexer's lists of fields are made from schemas.Fields or checked
// against it here: a field renamed or added in the registry fails this test
// until every list agrees.
func TestFieldListsMatchRegistry(t *testing.T) {
	var merged []string
	for _, f := range fields {
		merged = append(merged, f.name)
	}
	var reviewed []string // every correctable field but the two without provenance
	for _, f := range ReviewFields {
		if f != "operator" && f != "hyperscaler" {
			reviewed = append(reviewed, f)
		}
	}
	if !slices.Equal(merged, reviewed) {
		t.Errorf("merged fields %v\nare not the corrected fields with provenance %v", merged, reviewed)
	}
	for name := range fieldMax {
		if !schemas.IsNumber(name) {
			t.Errorf("fieldMax bounds %q, not a numeric field of schemas.Fields", name)
		}
	}
	for _, name := range schemas.FieldNames(func(f schemas.Field) bool { return f.Kind == schemas.KindNumber }) {
		if _, ok := fieldMax[name]; !ok {
			t.Errorf("numeric field %s has no bound in fieldMax", name)
		}
	}
	// Lists of deal fields: each name is a field of the stored deal (the
	// record's fields, from the registry, and the deal's own).
	deal := schemas.JSONNames(Deal{})
	if !slices.Equal(deal[:len(schemas.Fields)], schemas.FieldNames(func(schemas.Field) bool { return true })) {
		t.Errorf("Deal does not begin with the registry's fields: %v", deal)
	}
	for _, f := range schemas.JSONNames(Figures{}) {
		if !schemas.IsNumber(f) {
			t.Errorf("Figures.%s is not a numeric field of schemas.Fields", f)
		}
	}
	for list, names := range map[string][]string{"SummaryFields": SummaryFields} {
		for _, n := range names {
			top, _, _ := strings.Cut(n, ".")
			if !slices.Contains(deal, top) {
				t.Errorf("%s names %q, not a field of Deal", list, n)
			}
		}
	}
}
