package ledger

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mwledger/mwledger/schemas"
)

func contract(id, url, op, cp string, mw, usd float64) schemas.Contract {
	name := cp
	return schemas.Contract{
		SchemaVersion: 1, ID: id, Operator: schemas.Operator{Name: op},
		Counterparty: schemas.Counterparty{Name: &name, Hyperscaler: cp == "Microsoft"},
		ContractType: schemas.TypeColocation, CapacityMW: &mw, TotalValueUSD: &usd, Terms: []string{},
		Source: schemas.Source{URL: url}, Evidence: []string{"e"}, Confidence: 0.9, ExtractorVersion: "t",
	}
}

func TestBoltUpsertIsIdempotentAndMergesSources(t *testing.T) {
	s, err := openTest(filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	a := contract("deal-1", "https://a.example/1", "IREN", "Microsoft", 200, 9.7e9)
	b := contract("deal-1", "https://b.example/2", "IREN", "Microsoft", 200, 9.7e9)
	c := contract("deal-2", "https://b.example/2", "Hut 8", "Fluidstack", 245, 7e9)
	for round := 0; round < 2; round++ { // the second round is a replay
		for _, err := range s.Upsert(ctx, []schemas.Contract{a, b, c}) {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	n, err := s.Count()
	if err != nil || n != 2 {
		t.Fatalf("count = %d, %v; want 2 deals", n, err)
	}
	res, err := s.Search(ctx, Query{Operator: "iren"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 1 || len(res.Deals[0].Sources) != 2 {
		t.Fatalf("IREN deal = %+v, want one deal with two sources", res)
	}
	if res.Deals[0].Sources[0].URL != "https://a.example/1" {
		t.Errorf("sources not sorted by URL: %+v", res.Deals[0].Sources)
	}
	hs, _ := s.Search(ctx, Query{HyperscalerOnly: true})
	big, _ := s.Search(ctx, Query{MinMW: 210})
	if hs.Total != 1 || big.Total != 1 || big.Deals[0].ID != "deal-2" {
		t.Errorf("filters: hyperscaler %d, min-mw %+v", hs.Total, big)
	}
	sorted, _ := s.Search(ctx, Query{Sort: "mw"})
	if sorted.Deals[0].ID != "deal-2" {
		t.Errorf("sort by MW: first is %s", sorted.Deals[0].ID)
	}
}

func TestQueryValidate(t *testing.T) {
	if err := (&Query{ContractType: "lease"}).Validate(); err == nil {
		t.Error("contract type lease accepted")
	}
	if err := (&Query{Sort: "random"}).Validate(); err == nil {
		t.Error("sort random accepted")
	}
	if err := (&Query{ContractType: "bare_metal", Sort: "mw"}).Validate(); err != nil {
		t.Error(err)
	}
}
