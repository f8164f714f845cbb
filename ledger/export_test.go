package ledger

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/mwledger/mwledger/schemas"
)

// Hooks for the external tests of this directory (package indexer_test):
// identity_es_test.go holds the Elasticsearch store of ledger/es to the
// reference resolution and the streams defined here.
var (
	GenDeal        = genDeal
	IdentityStream = identityStream
	Batches        = batches
	ComparableDeal = comparableDeal
	Sized          = sized
	IdentitySeed   = identitySeed
	EnvInt         = envInt
	RunStream      = runStream
	Rec            = rec
	F              = f
)

// RefLedger is the reference ledger (refLedger).
type RefLedger struct{ r *refLedger }

// NewRefLedger is an empty reference ledger.
func NewRefLedger() *RefLedger {
	return &RefLedger{&refLedger{deals: map[string]*Deal{}}}
}

// Preload adds the generated deals 0..n-1 over ops operators (preloadRef).
func (r *RefLedger) Preload(t *testing.T, n, ops int) { preloadRef(t, r.r, n, ops) }

// Upsert applies a batch and returns the ids of the deals it wrote.
func (r *RefLedger) Upsert(t *testing.T, cs []schemas.Contract, now time.Time) []string {
	_, written := r.r.upsert(t, cs, now)
	return written
}

// Deals are the reference's deals by id.
func (r *RefLedger) Deals() map[string]*Deal { return r.r.deals }

// NewDeal is the deal record c starts at time now, as a store writes it.
func NewDeal(c schemas.Contract, now time.Time) Deal { return merge(nil, c.ID, c, "new", now) }

// NewMemKVStore is a KVStore over an in-memory KVDB (memKV) and a function
// that writes deals into it as they are, without identity resolution: a
// large ledger for search benchmarks in seconds.
func NewMemKVStore() (*KVStore, func(ds []Deal) error) {
	m := newMemKV()
	s := NewKVStore(m)
	put := func(ds []Deal) error {
		return m.Update(context.Background(), func(tx KVTx) error {
			for i := range ds {
				v, err := json.Marshal(&ds[i])
				if err != nil {
					return err
				}
				if err := tx.Put(BucketDeals, []byte(ds[i].ID), v); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return s, put
}
