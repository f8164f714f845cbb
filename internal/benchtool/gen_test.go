package benchtool

import (
	"testing"

	"github.com/mwledger/mwledger/extractor"
)

// TestCompaniesAreTheGazetteers: the generated articles name companies as
// entities.yaml does, and a deal is flagged hyperscaler exactly when the
// gazetteer flags its customer (the alert benchmarks count on it).
func TestCompaniesAreTheGazetteers(t *testing.T) {
	g := extractor.DefaultGazetteer()
	for _, n := range Operators {
		if e := g.Lookup(n); e == nil || e.Name != n {
			t.Errorf("operator %q: gazetteer has %+v", n, e)
		}
	}
	for i, n := range Customers {
		e := g.Lookup(n)
		if e == nil || e.Name != n {
			t.Errorf("customer %q: gazetteer has %+v", n, e)
			continue
		}
		if d := DealOf(0, i*len(Operators)); d.Customer != n || d.Hyperscaler != e.Hyperscaler {
			t.Errorf("customer %q: deal flagged hyperscaler=%v, gazetteer %v", n, d.Hyperscaler, e.Hyperscaler)
		}
	}
}
