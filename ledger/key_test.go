package ledger

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mwledger/mwledger/schemas"
)

// The ledger writes each name's key beside it, and compares operators by it:
// two operators named wholly in different non-Latin scripts are two operators
// (the old read-time squash made both "" and merged their deals).
func TestLedgerWritesNameKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db")
	s, err := openTest(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a := contract("deal-1", "https://a.example/1", "ＩＲＥＮ Ltd.", "Microsoft Corp", 200, 9.7e9)
	b := contract("deal-2", "https://b.example/2", "鸿海", "Fluidstack", 245, 7e9)
	c := contract("deal-3", "https://c.example/3", "Яндекс", "Fluidstack", 245, 7e9)
	for _, err := range s.Upsert(ctx, []schemas.Contract{a, b, c}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.Get(ctx, "deal-1")
	if err != nil || d == nil {
		t.Fatalf("Get = %v, %v", d, err)
	}
	if d.Operator.Key != "irenltd" || d.Counterparty.Key != "microsoftcorp" {
		t.Errorf("keys = %q, %q; want irenltd, microsoftcorp", d.Operator.Key, d.Counterparty.Key)
	}
	if n, _ := s.Count(); n != 3 {
		t.Errorf("%d deals, want 3: operators in two scripts were merged", n)
	}

	// A ledger whose indexes were built with another key is reindexed on
	// open: a replay still resolves to the same deals.
	if err := s.kv.Update(ctx, func(tx KVTx) error { return tx.Put(BucketMeta, keyVersionKey, []byte("0")) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = openTest(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a.Source.URL = "https://d.example/4"
	for _, err := range s.Upsert(ctx, []schemas.Contract{a, b, c}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.Count(); n != 3 {
		t.Errorf("%d deals after reopening, want 3", n)
	}
	if d, _ := s.Get(ctx, "deal-1"); d == nil || len(d.Sources) != 2 {
		t.Errorf("deal-1 = %+v, want two sources", d)
	}
}
