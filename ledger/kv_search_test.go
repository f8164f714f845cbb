package ledger

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/schemas"
)

// selectFirst puts the same first n hits in front as a full sort does, ties
// and missing keys included.
func TestSelectFirstAgreesWithSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	less := func(a, b keyed) bool {
		if a.ok != b.ok {
			return a.ok
		}
		if a.key != b.key {
			return a.key > b.key
		}
		return a.d.ID < b.d.ID
	}
	for round := range 50 {
		n := 1 + r.IntN(2000)
		hits := make([]keyed, n)
		for i := range hits {
			d := &Deal{}
			d.ID = fmt.Sprintf("deal-%05d", r.IntN(100000))
			hits[i] = keyed{float64(r.IntN(50)), r.IntN(5) > 0, d}
		}
		want := slices.Clone(hits)
		sort.Slice(want, func(i, j int) bool { return less(want[i], want[j]) })
		page := 1 + r.IntN(n)
		selectFirst(hits, page, less)
		got := hits[:page]
		sort.Slice(got, func(i, j int) bool { return less(got[i], got[j]) })
		for i := range got {
			if got[i] != want[i] && (less(got[i], want[i]) || less(want[i], got[i])) {
				t.Fatalf("round %d: hit %d of the first %d of %d differs from the sort", round, i, page, n)
			}
		}
	}
}

// The view's indexes only narrow: every query gives what a scan of every
// deal with the reference semantics (Query.matches, Query.sortKey) gives,
// in the same order, over deals with the awkward cases (month dates, bad
// dates, missing figures, tickers, names in other cases and scripts, source
// claims of other counterparties, undisclosed descriptors).
func TestKVSearchAgreesWithScan(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pick := func(xs ...string) *string {
		if x := xs[r.IntN(len(xs))]; x != "-" {
			return &x
		}
		return nil
	}
	num := func(xs ...float64) *float64 {
		if r.IntN(5) == 0 {
			return nil
		}
		x := xs[r.IntN(len(xs))]
		return &x
	}
	ops := []string{"IREN", "iren", "Hut 8", "HUT 8", "Straße AI", "STRASSE AI", "ſtar", "Star"}
	cps := []string{"Microsoft", "microsoft", "MICROSOFT", "Anthropic", "Ünity", "ünity", "-"}
	var deals []Deal
	s, put := NewMemKVStore()
	for i := range 3000 {
		var d Deal
		d.ID = fmt.Sprintf("d-%05d", r.IntN(1000000))
		d.Operator = schemas.Operator{Name: ops[r.IntN(len(ops))], Ticker: pick("IREN", "hut", "-", "-")}
		d.Counterparty = schemas.Counterparty{Name: pick(cps...), Hyperscaler: r.IntN(3) == 0}
		if d.Counterparty.Name == nil {
			d.Counterparty.Descriptor = pick("investment-grade hyperscaler", "Microsoft", "-")
		}
		for range r.IntN(3) {
			d.Provenance = append(d.Provenance, FieldClaim{Field: "counterparty", Value: *pick("Microsoft", "undisclosed: anthropic", "UNDISCLOSED: Microsoft", "Meta")})
		}
		d.ContractType = []string{schemas.TypeColocation, schemas.TypeBareMetal, schemas.TypeCloudServices, schemas.TypeUnknown}[r.IntN(4)]
		d.CapacityMW, d.USDPerMWYear, d.TotalValueUSD = num(50, 100, 200, 300), num(1e6, 1.5e6, 2e6), num(1e8, 5e8, 1e9, 1e9)
		d.Confidence = float64(r.IntN(4)) / 4
		d.AnnouncedOn = pick("2024-12", "2025-01", "2025-01-01", "2025-03-15", "2025-06-30", "2025-06", "2025-07-01", "2025-13-01", "-")
		d.Location = pick("Childress, Texas", "ABILENE, TEXAS", "Quebec", "", "-")
		d.Hardware = pick("GB300", "gb200 NVL72", "H100", "-")
		d.Evidence = []string{*pick("confirmed deal", "Confirmed with Anthropic", "anthropic capacity", "x")}
		if r.IntN(4) == 0 {
			d.ReviewReasons = []string{"low_confidence"}
		}
		if i%1000 == 999 { // one generation, then another: the view reloads
			if err := put(deals); err != nil {
				t.Fatal(err)
			}
		}
		deals = append(deals, d)
	}
	if err := put(deals); err != nil {
		t.Fatal(err)
	}
	byID := map[string]Deal{}
	for _, d := range deals {
		byID[d.ID] = d // a repeated id: the last write
	}
	queries := []Query{{}, {Sort: "announced", Order: "asc"}, {Operator: "iren"}, {Operator: "strasse ai"}, {Operator: "STAR"}, {Operator: "Hut"},
		{Operator: "HUT", Sort: "mw"}, {Operator: "nobody"}, {Counterparty: "microsoft"}, {Counterparty: "Anthropic", Sort: "confidence"},
		{Counterparty: "ÜNITY"}, {Counterparty: "investment-grade hyperscaler"}, {Counterparty: "meta", HyperscalerOnly: true},
		{AnnouncedFrom: "2025-01", AnnouncedTo: "2025-06", Sort: "announced"}, {AnnouncedFrom: "2025-01-02"}, {AnnouncedTo: "2025-01"},
		{AnnouncedFrom: "2025-07-01", AnnouncedTo: "2025-01-01"}, {AnnouncedFrom: "2025-12"}, {Location: "texas"}, {Location: "TEXAS", Hardware: "gb"},
		{Hardware: "nvl72", Sort: "usd_per_mw_year", Order: "asc"}, {Location: "mars"}, {Text: "confirmed anthropic"}, {Text: "capacity", Counterparty: "Microsoft"},
		{ContractType: schemas.TypeColocation, MinMW: 100}, {MinUSDPerMWYear: 1e6, MaxUSDPerMWYear: 1.5e6}, {MaxValue: 5e8, NeedsReview: true},
		{HyperscalerOnly: true, Sort: "mw", From: 100, Size: 20}, {Counterparty: "Microsoft", From: 100}, {MinValue: 1, Sort: "value", Order: "asc", Size: 500},
	}
	ctx := context.Background()
	for _, q := range queries {
		var want []Deal
		for _, d := range byID {
			if q.matches(d) {
				want = append(want, d)
			}
		}
		sort.Slice(want, func(i, j int) bool {
			a, aok := q.sortKey(&want[i])
			b, bok := q.sortKey(&want[j])
			if aok != bok {
				return aok
			}
			if a != b {
				return (q.Order == "asc") == (a < b)
			}
			return want[i].ID < want[j].ID
		})
		res, err := s.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		from := min(q.From, len(want))
		page := want[from:min(from+q.PageSize(), len(want))]
		if res.Total != len(want) || len(res.Deals) != len(page) {
			t.Fatalf("%+v: total %d, %d deals; want %d, %d", q, res.Total, len(res.Deals), len(want), len(page))
		}
		for i := range page {
			if res.Deals[i].ID != page[i].ID {
				t.Fatalf("%+v: deal %d is %s, want %s", q, i, res.Deals[i].ID, page[i].ID)
			}
		}
		var scanned []string
		if err := s.ScanSummary(ctx, q, func(d Deal) error { scanned = append(scanned, d.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		wantIDs := make([]string, len(want))
		for i := range want {
			wantIDs[i] = want[i].ID
		}
		slices.Sort(scanned)
		slices.Sort(wantIDs)
		if !slices.Equal(scanned, wantIDs) {
			t.Fatalf("%+v: ScanSummary gave %d deals, want %d", q, len(scanned), len(wantIDs))
		}
	}
}

func TestFoldKey(t *testing.T) {
	for _, p := range [][2]string{{"Microsoft", "MICROSOFT"}, {"ſtar", "STAR"}, {"Ünity", "üNITY"}, {"K", "\u212a"}, {"k", "\u212a"},
		{"\xff", "\xfe"}, {"sk", "ſ\u212a"}, {"Hut 8", "hUT 8"}} {
		if !strings.EqualFold(p[0], p[1]) || foldKey(p[0]) != foldKey(p[1]) {
			t.Errorf("%q, %q: EqualFold %v, keys %q %q", p[0], p[1], strings.EqualFold(p[0], p[1]), foldKey(p[0]), foldKey(p[1]))
		}
	}
	if foldKey("Straße") == foldKey("STRASSE") {
		t.Error("Straße and STRASSE share a key; EqualFold tells them apart")
	}
}
