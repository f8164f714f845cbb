package web

import (
	"testing"

	"github.com/mwledger/mwledger/extractor"
)

// TestSampleCompaniesMatchTheGazetteer: the sample records name, tick and
// flag their companies as extractor/data/entities.yaml does (a second list
// that disagreed — NVIDIA's hyperscaler flag, Bitfarms' ticker — made the
// demo ledger and the alert tests say other things than extraction would).
func TestSampleCompaniesMatchTheGazetteer(t *testing.T) {
	g := extractor.DefaultGazetteer()
	for _, o := range sampleOperators {
		e := g.Lookup(o.name)
		if e == nil || e.Name != o.name || e.Ticker == nil || *e.Ticker != o.ticker {
			t.Errorf("sample operator %s (%s): gazetteer has %+v", o.name, o.ticker, e)
		}
	}
	for _, c := range sampleCounterparties {
		if c.name == "" {
			continue
		}
		e := g.Lookup(c.name)
		if e == nil || e.Name != c.name || e.Hyperscaler != c.hyper {
			t.Errorf("sample counterparty %s (hyperscaler %v): gazetteer has %+v", c.name, c.hyper, e)
		}
	}
}
