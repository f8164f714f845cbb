package ledger

import (
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/schemas"
)

func aggDeal(id, op, cp string, hyper bool, typ string, mw, value, price float64, on string) Deal {
	d := Deal{Contract: schemas.Contract{ID: id, Operator: schemas.Operator{Name: op},
		Counterparty: schemas.Counterparty{Name: s(cp), Hyperscaler: hyper}, ContractType: typ,
		CapacityMW: f(mw), TotalValueUSD: f(value), USDPerMWYear: f(price)}, Status: "active"}
	if on != "" {
		d.AnnouncedOn = s(on)
	}
	return d
}

func TestAggregate(t *testing.T) {
	deals := []Deal{
		aggDeal("a", "IREN", "Microsoft", true, schemas.TypeBareMetal, 200, 9.7e9, 9.7e6, "2025-11-03"),
		aggDeal("b", "IREN", "NVIDIA", false, schemas.TypeCloudServices, 60, 3.4e9, 11.33e6, "2026-05"),
		aggDeal("c", "Hut 8", "Fluidstack", false, schemas.TypeColocation, 245, 7e9, 1.9e6, "2025-12"),
		aggDeal("d", "Cipher Mining", "Amazon", true, schemas.TypeColocation, 300, 5.5e9, 1.2e6, ""),
		aggDeal("e", "Cipher Mining", "Amazon", true, schemas.TypeColocation, 100, 1e9, 1.4e6, "2025-11"),
	}
	guaranteed := aggDeal("g", "TeraWulf", "Fluidstack", false, schemas.TypeColocation, 168, 3.8e9, 1.5e6, "2025-08")
	guaranteed.Guarantor = &schemas.Party{Name: "Google"}
	undisclosed := aggDeal("u", "Applied Digital", "", false, schemas.TypeColocation, 200, 5e9, 1.67e6, "2025-10")
	undisclosed.Counterparty = schemas.Counterparty{Descriptor: s("investment-grade hyperscaler")}
	deals = append(deals, guaranteed, undisclosed)
	cancelled := aggDeal("x", "IREN", "Meta", true, schemas.TypeColocation, 999, 1, 1, "2025-01")
	cancelled.Status = "cancelled"
	deals = append(deals, cancelled)

	tests := []struct {
		name     string
		wantKeys []string
		check    func(t *testing.T, r AggResult)
	}{
		{"by-type", []string{"bare_metal", "cloud_services", "colocation"}, func(t *testing.T, r AggResult) {
			c := r.Rows[2]
			if c.Deals != 5 || c.USDPerMWYear.Count != 5 || *c.USDPerMWYear.Median != 1.5e6 || *c.USDPerMWYear.Min != 1.2e6 || *c.USDPerMWYear.Max != 1.9e6 || *c.USDPerMWYear.Mean != 1.534e6 {
				t.Errorf("colocation row %+v", c)
			}
			if r.Skipped != 1 || r.Deals != 7 {
				t.Errorf("deals %d skipped %d, want 7 and 1 (cancelled)", r.Deals, r.Skipped)
			}
		}},
		{"by-counterparty", []string{"Amazon", "Fluidstack", "Microsoft", "NVIDIA", "investment-grade hyperscaler"}, func(t *testing.T, r AggResult) {
			if a := r.Rows[0]; a.MW != 400 || a.ValueUSD != 6.5e9 || *a.USDPerMWYear.Median != 1.3e6 {
				t.Errorf("amazon row %+v", a)
			}
		}},
		{"by-quarter", []string{"2025-Q3", "2025-Q4", "2026-Q2", "unknown"}, func(t *testing.T, r AggResult) {
			if r.Rows[1].Deals != 4 {
				t.Errorf("2025-Q4 row %+v", r.Rows[1])
			}
		}},
		{"by-operator", []string{"Cipher Mining", "IREN", "Hut 8", "Applied Digital", "TeraWulf"}, nil},
		// Guaranteed and undisclosed investment-grade deals count as tier 1;
		// a tie on hyperscaler MW goes to the larger total MW.
		{"tiers", []string{"Cipher Mining", "IREN", "Applied Digital", "TeraWulf", "Hut 8"}, func(t *testing.T, r AggResult) {
			if r.Rows[0].Tier != 1 || r.Rows[0].HyperscalerMW != 400 || r.Rows[1].Tier != 1 || r.Rows[1].HyperscalerMW != 200 || r.Rows[3].Tier != 1 || r.Rows[4].Tier != 2 {
				t.Errorf("tiers %+v", r.Rows)
			}
			if !reflect.DeepEqual(r.Rows[1].Counterparties, []string{"Microsoft", "NVIDIA"}) {
				t.Errorf("IREN counterparties %v", r.Rows[1].Counterparties)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Aggregate(tt.name, deals)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, row := range r.Rows {
				keys = append(keys, row.Key)
			}
			if !reflect.DeepEqual(keys, tt.wantKeys) {
				t.Fatalf("keys %v, want %v", keys, tt.wantKeys)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
	if _, err := Aggregate("nope", deals); err == nil {
		t.Error("unknown aggregation accepted")
	}
}

func TestWordsAndDateBounds(t *testing.T) {
	if got := words("IREN's $9.7B deal with U.S. Microsoft, 1,000 MW; GB300 at Childress-Texas 算力"); !reflect.DeepEqual(got,
		[]string{"iren's", "9.7b", "deal", "with", "u.s", "microsoft", "1,000", "mw", "gb300", "at", "childress", "texas", "算", "力"}) {
		t.Errorf("words = %q", got)
	}
	tests := []struct {
		in          string
		upper       bool
		want        string
		errContains string
	}{
		{"2025-02", true, "2025-02-28", ""},
		{"2024-02", true, "2024-02-29", ""},
		{"2025-02", false, "2025-02-01", ""},
		{"2025-02-14", true, "2025-02-14", ""},
		{"Feb 2025", false, "", "not YYYY-MM-DD"},
	}
	for _, tt := range tests {
		got, err := dateBound(tt.in, tt.upper)
		if tt.errContains != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Errorf("dateBound(%q) error %v, want %q", tt.in, err, tt.errContains)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("dateBound(%q, %v) = %q, %v; want %q", tt.in, tt.upper, got, err, tt.want)
		}
	}
}

// TestESMedianFormula: the Go median is the one Elasticsearch's exact
// percentiles compute (lo + 0.5*(hi-lo) between the two middle values), bit
// for bit; (lo+hi)/2 is not always the same double.
func TestESMedianFormula(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	differ := 0
	for range 10000 {
		xs := []float64{5e5 + r.Float64()*2e7, 5e5 + r.Float64()*2e7}
		sort.Float64s(xs)
		got := median(xs)
		if want := xs[0] + 0.5*(xs[1]-xs[0]); got != want {
			t.Fatalf("median(%v) = %v, want %v", xs, got, want)
		}
		if got != (xs[0]+xs[1])/2 {
			differ++
		}
	}
	if differ == 0 {
		t.Error("(lo+hi)/2 never differed: the test does not show why the formula matters")
	}
	if median([]float64{1, 2, 10}) != 2 || median([]float64{7}) != 7 {
		t.Error("odd counts take the middle value")
	}
	t.Logf("(lo+hi)/2 differs from lo+(hi-lo)/2 for %d of 10000 pairs", differ)
}
