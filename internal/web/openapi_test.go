package web

import (
	"os"
	"strings"
	"testing"
)

// TestOpenAPIDescribesEveryParameter keeps api/openapi.yaml in step with the
// parameters the API reads and the routes it serves.
func TestOpenAPIDescribesEveryParameter(t *testing.T) {
	b, err := os.ReadFile("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, p := range append([]string{"q"}, paramNames()...) {
		if !strings.Contains(doc, "name: "+p+",") {
			t.Errorf("openapi.yaml does not describe parameter %s", p)
		}
	}
	for _, path := range []string{"/api/deals:", "/api/deals/{id}:", "/api/deals/{id}/review:", "/api/review-fields:", "/api/aggregations/{name}:", "/api/export.csv:", "/api/export.json:"} {
		if !strings.Contains(doc, "  "+path) {
			t.Errorf("openapi.yaml does not describe %s", path)
		}
	}
}

func paramNames() []string {
	var out []string
	for _, p := range params {
		out = append(out, p.name)
	}
	return out
}
