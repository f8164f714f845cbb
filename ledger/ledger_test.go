package ledger

import (
	"testing"
	"time"

	"github.com/mwledger/mwledger/schemas"
)

func f(v float64) *float64 { return &v }
func s(v string) *string   { return &v }

func rec(id, url, outlet string, mw, usd, years *float64) schemas.Contract {
	ms := "Microsoft"
	return schemas.Contract{SchemaVersion: 1, ID: id, Operator: schemas.Operator{Name: "IREN"},
		Counterparty: schemas.Counterparty{Name: &ms, Hyperscaler: true}, ContractType: schemas.TypeCloudServices,
		CapacityMW: mw, TotalValueUSD: usd, TermYears: years, Terms: []string{},
		Source: schemas.Source{URL: url, Outlet: s(outlet)}, Evidence: []string{"e " + url}, Confidence: 0.8, ExtractorVersion: "t"}
}

func TestIdentityResolution(t *testing.T) {
	now := time.Unix(0, 0).UTC()
	tests := []struct {
		name      string
		recs      []schemas.Contract
		wantDeals int
		wantID    string
	}{
		{"value-less first, then valued: one deal keeping the first id",
			[]schemas.Contract{rec("deal-a", "https://a.example/1", "A", f(200), nil, nil), rec("deal-b", "https://b.example/2", "B", f(200), f(9.7e9), f(5))}, 1, "deal-a"},
		{"valued first, then MW-less",
			[]schemas.Contract{rec("deal-b", "https://b.example/2", "B", f(200), f(9.7e9), f(5)), rec("deal-c", "https://c.example/3", "C", nil, f(9.65e9), nil)}, 1, "deal-b"},
		{"different capacity is another deal",
			[]schemas.Contract{rec("deal-b", "https://b.example/2", "B", f(200), f(9.7e9), f(5)), rec("deal-d", "https://d.example/4", "D", f(60), f(3.4e9), f(5))}, 2, ""},
		{"term conflict stays one deal",
			[]schemas.Contract{rec("deal-b", "https://b.example/2", "B", f(200), f(9.7e9), f(5)), rec("deal-e", "https://e.example/5", "E", f(200), f(9.7e9), f(15))}, 1, "deal-b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorking()
			for _, r := range tt.recs {
				w.apply(r, now)
			}
			if len(w.deals) != tt.wantDeals {
				t.Fatalf("%d deals, want %d", len(w.deals), tt.wantDeals)
			}
			if tt.wantID != "" {
				if _, ok := w.deals[tt.wantID]; !ok {
					t.Fatalf("deal id %s not kept: %v", tt.wantID, w.deals)
				}
			}
		})
	}
}

func TestUndisclosedCounterpartyBecomesKnown(t *testing.T) {
	now := time.Unix(0, 0).UTC()
	w := newWorking()
	u := rec("deal-u", "https://a.example/1", "A", f(200), f(5e9), f(15))
	u.Counterparty = schemas.Counterparty{Descriptor: s("investment-grade hyperscaler")}
	w.apply(u, now)
	named := rec("deal-n", "https://b.example/2", "B", f(200), f(5e9), f(15))
	w.apply(named, now)
	d := w.deals["deal-u"]
	if len(w.deals) != 1 || d.Counterparty.Name == nil || *d.Counterparty.Name != "Microsoft" {
		t.Fatalf("deals %v; want one deal now naming Microsoft", w.deals)
	}
	if len(d.Conflicts) != 0 {
		t.Errorf("a descriptor does not contradict a name: conflicts %v", d.Conflicts)
	}
	other := rec("deal-o", "https://c.example/3", "C", f(300), f(7.5e9), f(15))
	other.Counterparty = schemas.Counterparty{Descriptor: s("investment-grade hyperscaler")}
	w.apply(other, now)
	if len(w.deals) != 2 {
		t.Errorf("an undisclosed deal of another size must stay apart: %d deals", len(w.deals))
	}
}

func TestProvenanceAuthorityAndConflicts(t *testing.T) {
	now := time.Unix(0, 0).UTC()
	rewrite := rec("deal-1", "https://www.chainfeed.example/x", "ChainFeed", f(200), f(9.7e9), f(15))
	blog := rec("deal-1", "https://blog.example/y", "Blog", f(200), f(9.7e9), f(15))
	pr := rec("deal-1", "https://www.globenewswire.example/news-release/iren", "GlobeNewswire", f(200), f(9.7e9), f(5))
	var d *Deal
	for _, r := range []schemas.Contract{rewrite, blog, pr} {
		m := merge(d, "deal-1", r, "id", now)
		d = &m
	}
	if *d.TermYears != 5 {
		t.Errorf("term shown %v, want 5 from the press release (authority beats the majority)", *d.TermYears)
	}
	if len(d.Conflicts) != 1 || d.Conflicts[0] != "term_years" {
		t.Errorf("conflicts %v, want [term_years]", d.Conflicts)
	}
	var claims []string
	for _, p := range d.Provenance {
		if p.Field == "term_years" {
			claims = append(claims, p.Value)
		}
	}
	if len(claims) != 2 {
		t.Errorf("term claims %v, want both kept", claims)
	}
	if d.Source.URL != pr.Source.URL {
		t.Errorf("shown source %s, want the press release", d.Source.URL)
	}
	// Replaying any record changes nothing but the time.
	again := merge(d, "deal-1", blog, "id", now)
	if !sameDeal(d, &again) {
		t.Error("replaying a record changed the deal")
	}
}

func TestAuthorityOf(t *testing.T) {
	tests := []struct {
		url, outlet, op string
		want            int
	}{
		{"https://www.sec.gov/Archives/edgar/data/1/x.htm", "", "IREN", AuthorityFiling},
		{"https://www.prnewswire.com/news-releases/x", "", "IREN", AuthorityOperator},
		{"https://x.example/y", "Business Wire", "IREN", AuthorityOperator},
		{"https://investors.hut8.com/news/x", "", "Hut 8", AuthorityOperator},
		{"https://ir.iren.example/news-releases/x", "", "IREN", AuthorityOperator},
		{"https://www.coindesk.example/markets/iren", "CoinDesk", "IREN", AuthorityReport},
	}
	for _, tt := range tests {
		c := schemas.Contract{Operator: schemas.Operator{Name: tt.op}, Source: schemas.Source{URL: tt.url}}
		if tt.outlet != "" {
			c.Source.Outlet = &tt.outlet
		}
		if got, why := authorityOf(c); got != tt.want {
			t.Errorf("%s: authority %d (%s), want %d", tt.url, got, why, tt.want)
		}
	}
}

func TestLifecycleEvents(t *testing.T) {
	now := time.Unix(0, 0).UTC()
	w := newWorking()
	orig := rec("deal-o", "https://a.example/1", "A", f(250), f(7e9), f(15))
	w.apply(orig, now)
	up := rec("deal-x", "https://b.example/up", "B", nil, nil, nil)
	up.Event = &schemas.Event{Type: schemas.EventUpsize, On: s("2025-08-20"), AddedMW: f(150)}
	w.apply(up, now)
	up2 := up
	up2.Source.URL = "https://c.example/up"
	up2.Event = &schemas.Event{Type: schemas.EventUpsize, NewCapacityMW: f(400)}
	w.apply(up2, now)
	cancel := rec("deal-y", "https://d.example/cancel", "D", f(400), nil, nil)
	cancel.Event = &schemas.Event{Type: schemas.EventCancellation, On: s("2026-01")}
	w.apply(cancel, now)
	if len(w.deals) != 1 {
		t.Fatalf("events made deals of their own: %d deals", len(w.deals))
	}
	d := w.deals["deal-o"]
	if len(d.Events) != 2 || len(d.Events[0].Sources) != 2 {
		t.Fatalf("events %+v; want the upsize (two sources) and the cancellation", d.Events)
	}
	if d.Current == nil || *d.Current.CapacityMW != 400 || *d.CapacityMW != 250 {
		t.Errorf("capacity shown %v, current %+v; want 250 and 400", *d.CapacityMW, d.Current)
	}
	if d.Status != StatusCancelled {
		t.Errorf("status %s", d.Status)
	}
}

func TestAggregateLinksParts(t *testing.T) {
	now := time.Unix(0, 0).UTC()
	w := newWorking()
	agg := rec("deal-agg", "https://a.example/1", "A", f(368), f(13.2e9), nil)
	agg.Aggregate = true
	w.apply(agg, now)
	w.apply(rec("deal-p1", "https://b.example/1", "B", f(200), f(9.5e9), f(10)), now)
	w.apply(rec("deal-p2", "https://c.example/1", "C", f(168), f(3.7e9), f(10)), now)
	w.finish(nil, now)
	if got := w.deals["deal-agg"].Parts; len(got) != 2 {
		t.Fatalf("aggregate parts %v, want the two contracts summing to 368 MW", got)
	}
	if got := w.deals["deal-p1"].PartOf; len(got) != 1 || got[0] != "deal-agg" {
		t.Errorf("part_of %v", got)
	}
}
