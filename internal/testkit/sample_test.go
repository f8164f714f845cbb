package testkit

import (
	"testing"
)

// Every company the generators name is one of the gazetteer's under its
// canonical name (company panics otherwise), and the generated articles put
// the hyperscalers first, as DealOfHyperscaler assumes.
func TestCompaniesAreTheGazetteers(t *testing.T) {
	for _, list := range [][]string{Operators, Customers, sampleOperators, sampleCounterparties} {
		for _, n := range list {
			if n == "" {
				continue
			}
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Error(r)
					}
				}()
				company(n)
			}()
		}
	}
	for i, n := range Customers {
		if want := i < 5; company(n).Hyperscaler != want {
			t.Errorf("customer %d %q: hyperscaler %v, DealOfHyperscaler needs %v", i, n, company(n).Hyperscaler, want)
		}
		if d := DealOf(0, i*len(Operators)); d.Customer != n || d.Hyperscaler != company(n).Hyperscaler {
			t.Errorf("customer %q: deal %+v", n, d)
		}
	}
	for i := range 200 {
		if d := DealOfHyperscaler(7, i); !d.Hyperscaler {
			t.Errorf("DealOfHyperscaler(7, %d) = %+v", i, d)
		}
	}
}

// Sample records carry the gazetteer's ticker and flag: NVIDIA is a
// hyperscaler and Bitfarms trades as KEEL (a second hand-kept list had them
// otherwise, so the demo ledger and the alert tests disagreed with
// extraction).
func TestSampleCompaniesFromTheGazetteer(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range SampleContracts("g", 400, 3) {
		e := company(c.Operator.Name)
		if c.Operator.Ticker == nil || e.Ticker == nil || *c.Operator.Ticker != *e.Ticker {
			t.Errorf("operator %s: ticker %v, gazetteer %v", c.Operator.Name, c.Operator.Ticker, e.Ticker)
		}
		if c.Counterparty.Name == nil {
			if !c.Counterparty.Hyperscaler {
				t.Errorf("undisclosed counterparty not flagged hyperscaler: %+v", c.Counterparty)
			}
			continue
		}
		n := *c.Counterparty.Name
		seen[n] = c.Counterparty.Hyperscaler
		if c.Counterparty.Hyperscaler != company(n).Hyperscaler {
			t.Errorf("counterparty %s: hyperscaler %v, gazetteer %v", n, c.Counterparty.Hyperscaler, company(n).Hyperscaler)
		}
	}
	if hyper, ok := seen["NVIDIA"]; !ok || !hyper {
		t.Errorf("NVIDIA in 400 samples: %v, hyperscaler %v", ok, hyper)
	}
}
