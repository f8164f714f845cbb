// Package ledgertest holds scenarios that the tests of every ledger backend
// (ledger/sqlite, ledger/bolt, ledger/es; the integration tests compare two)
// run alike, so that all are held to the same behaviour.
package ledgertest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/alert"
	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/schemas"
)

// Store is a ledger store that takes reviews.
type Store interface {
	ledger.Store
	Get(ctx context.Context, id string) (*ledger.Deal, error)
	Review(ctx context.Context, id string, a ledger.ReviewAction) (*ledger.Deal, error)
	SetAlerts(policy ledger.AlertPolicy, notify func(dealIDs []string))
}

// ReviewScenario runs a reviewer's life on store: a deal whose sources
// disagree on the value is queued; a correction names the customer (a
// hyperscaler: one alert) and fixes the value; a replay changes nothing; a new
// source queues it again without undoing the correction; an accept clears the
// queue; a reset gives the sources' values back. operator must be unique to
// the run (the Elasticsearch index is shared); refresh makes writes
// searchable. It returns the deal after each step, for comparing stores.
func ReviewScenario(t *testing.T, ctx context.Context, store Store, operator string, refresh func() error) []ledger.Deal {
	t.Helper()
	policy, err := alert.NewPolicy(alert.DefaultRules(), []string{"log"})
	if err != nil {
		t.Fatal(err)
	}
	store.SetAlerts(policy, nil)
	slug := strings.ToLower(strings.ReplaceAll(operator, " ", "-"))
	rec := func(n int, url string, value float64) schemas.Contract {
		mw, years, v := 200.0, 15.0, value
		desc := "a large cloud customer"
		return schemas.Contract{SchemaVersion: 1, ID: slug + "-rec-" + string(rune('a'+n)), Operator: schemas.Operator{Name: operator},
			Counterparty: schemas.Counterparty{Descriptor: &desc}, ContractType: schemas.TypeColocation,
			CapacityMW: &mw, TotalValueUSD: &v, TermYears: &years, Terms: []string{},
			Source: schemas.Source{URL: url}, Evidence: []string{"evidence from " + url}, Confidence: 0.9, ExtractorVersion: "t"}
	}
	upsert := func(cs ...schemas.Contract) {
		t.Helper()
		for i, err := range store.Upsert(ctx, cs) {
			if err != nil {
				t.Fatalf("upsert %s: %v", cs[i].ID, err)
			}
		}
		if err := refresh(); err != nil {
			t.Fatal(err)
		}
	}
	queued := func() int {
		t.Helper()
		res, err := store.Search(ctx, ledger.Query{Operator: operator, NeedsReview: true})
		if err != nil {
			t.Fatal(err)
		}
		return res.Total
	}
	get := func(id string) ledger.Deal {
		t.Helper()
		d, err := store.Get(ctx, id)
		if err != nil || d == nil {
			t.Fatalf("get %s: %v, %v", id, d, err)
		}
		return *d
	}
	review := func(id string, a ledger.ReviewAction) ledger.Deal {
		t.Helper()
		d, err := store.Review(ctx, id, a)
		if err != nil {
			t.Fatalf("review %+v: %v", a, err)
		}
		if err := refresh(); err != nil {
			t.Fatal(err)
		}
		if got := get(id); !sameShown(got, *d) {
			t.Fatalf("the stored deal differs from the one Review returned:\n%+v\n%+v", got.Contract, d.Contract)
		}
		return *d
	}
	var steps []ledger.Deal

	// 1. Two sources, values 4% apart: one deal, conflicting, queued.
	r1, r2 := rec(0, "https://a.example/"+slug, 5e9), rec(1, "https://b.example/"+slug, 5.2e9)
	upsert(r1, r2)
	id := r1.ID
	d := get(id)
	if len(d.Sources) != 2 || !slices.Contains(d.Conflicts, schemas.FieldTotalValueUSD) || len(d.ReviewReasons) == 0 {
		t.Fatalf("step 1: sources %d, conflicts %v, reasons %v; want 2 sources and a value conflict in the queue", len(d.Sources), d.Conflicts, d.ReviewReasons)
	}
	if n := queued(); n != 1 {
		t.Fatalf("step 1: %d deal(s) in the review queue, want 1", n)
	}
	if len(d.Alerts) != 0 {
		t.Fatalf("step 1: alerts %v for an unnamed customer", d.Alerts)
	}
	steps = append(steps, d)

	// 2. A correction: the customer is Microsoft, the value $5B.
	var cs []ledger.Correction
	for _, kv := range [][2]string{{"counterparty", "Microsoft"}, {"hyperscaler", "true"}, {schemas.FieldTotalValueUSD, "5,000,000,000"}} {
		c, err := ledger.ParseCorrection(kv[0], kv[1])
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	d = review(id, ledger.ReviewAction{Corrections: cs, By: "ana", Note: "the 8-K names Microsoft"})
	if d.Counterparty.Name == nil || *d.Counterparty.Name != "Microsoft" || !d.Counterparty.Hyperscaler || *d.TotalValueUSD != 5e9 {
		t.Fatalf("step 2: counterparty %+v value %v; want Microsoft (hyperscaler), 5e9", d.Counterparty, *d.TotalValueUSD)
	}
	if d.USDPerMWYear == nil || *d.USDPerMWYear != 1666667 {
		t.Errorf("step 2: $/MW/year %v, want 1666667 (5e9 / 200 MW / 15 years)", d.USDPerMWYear)
	}
	if d.Review == nil || d.Review.Status != ledger.ReviewCorrected || d.Review.By != "ana" || d.Review.RecordCount != 2 {
		t.Fatalf("step 2: review %+v", d.Review)
	}
	if was := d.Review.Corrections[0]; was.Field != "counterparty" || was.Was != "undisclosed: a large cloud customer" {
		t.Errorf("step 2: first correction %+v; want counterparty, was the descriptor", was)
	}
	shown := 0
	for _, p := range d.Provenance {
		if p.Field == schemas.FieldTotalValueUSD && p.Shown {
			shown++
			if !slices.Equal(p.Sources, []string{ledger.ReviewSource}) {
				t.Errorf("step 2: shown value from %v, want the review", p.Sources)
			}
		}
	}
	if shown != 1 {
		t.Errorf("step 2: %d shown total_value_usd claims, want 1", shown)
	}
	if len(d.ReviewReasons) != 0 || queued() != 0 {
		t.Errorf("step 2: a reviewed deal stays queued: %v", d.ReviewReasons)
	}
	if len(d.Alerts) != 1 || d.Alerts[0].Key != "new" {
		t.Errorf("step 2: alerts %v; naming a hyperscaler must raise one new-deal alert", d.Alerts)
	}
	if res, err := store.Search(ctx, ledger.Query{Operator: operator, Counterparty: "Microsoft", HyperscalerOnly: true}); err != nil || res.Total != 1 {
		t.Errorf("step 2: searching the corrected customer: %v, %v", res.Total, err)
	}
	steps = append(steps, d)

	// 3. A replay changes nothing.
	upsert(r2)
	if got := get(id); !sameShown(got, d) || len(got.Alerts) != 1 || queued() != 0 {
		t.Errorf("step 3: a replay changed the reviewed deal: %+v", got.Contract)
	}

	// 4. A new source joins: the correction stands, the deal is queued again.
	upsert(rec(2, "https://c.example/"+slug, 5.4e9))
	d = get(id)
	if len(d.Sources) != 3 || *d.TotalValueUSD != 5e9 || d.Counterparty.Name == nil || *d.Counterparty.Name != "Microsoft" {
		t.Fatalf("step 4: sources %d value %v counterparty %+v; want 3 sources and the correction kept", len(d.Sources), *d.TotalValueUSD, d.Counterparty)
	}
	if len(d.ReviewReasons) == 0 || !strings.Contains(d.ReviewReasons[0], "1 new record(s) since the corrected review") || queued() != 1 {
		t.Errorf("step 4: reasons %v; want the deal queued for its new record", d.ReviewReasons)
	}
	if len(d.Alerts) != 1 {
		t.Errorf("step 4: alerts %d, want still 1", len(d.Alerts))
	}
	steps = append(steps, d)

	// 5. Accepted: out of the queue, corrections kept.
	d = review(id, ledger.ReviewAction{Accept: true, By: "ben"})
	if d.Review == nil || d.Review.By != "ben" || d.Review.RecordCount != 3 || len(d.Review.Corrections) != 3 || queued() != 0 {
		t.Errorf("step 5: review %+v, queued %d", d.Review, queued())
	}
	steps = append(steps, d)

	// 6. Reset: the sources speak again.
	d = review(id, ledger.ReviewAction{Reset: true, By: "ben"})
	if d.Review != nil || d.Counterparty.Name != nil || d.Counterparty.Hyperscaler || queued() != 1 {
		t.Errorf("step 6: review %+v counterparty %+v queued %d; want no review, the descriptor, queued", d.Review, d.Counterparty, queued())
	}
	if len(d.Alerts) != 1 {
		t.Errorf("step 6: alerts %d: an alert that went out stays", len(d.Alerts))
	}
	steps = append(steps, d)

	// Refusals.
	if _, err := store.Review(ctx, slug+"-no-such-deal", ledger.ReviewAction{Accept: true, By: "ana"}); !errors.Is(err, ledger.ErrNoDeal) {
		t.Errorf("reviewing a missing deal: %v, want ErrNoDeal", err)
	}
	if _, err := store.Review(ctx, id, ledger.ReviewAction{Accept: true}); err == nil {
		t.Error("a review without a reviewer was taken")
	}
	return steps
}

// sameShown compares what a deal shows and its review (not when it was written).
func sameShown(a, b ledger.Deal) bool {
	eq := func(x, y *float64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.Counterparty.Label() == b.Counterparty.Label() && a.Counterparty.Hyperscaler == b.Counterparty.Hyperscaler &&
		eq(a.TotalValueUSD, b.TotalValueUSD) && eq(a.CapacityMW, b.CapacityMW) && eq(a.USDPerMWYear, b.USDPerMWYear) &&
		(a.Review == nil) == (b.Review == nil) && (a.Review == nil || a.Review.Status == b.Review.Status && len(a.Review.Corrections) == len(b.Review.Corrections)) &&
		slices.Equal(a.ReviewReasons, b.ReviewReasons)
}
