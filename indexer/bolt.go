package indexer

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mwledger/mwledger/internal/pipeline"
	"github.com/mwledger/mwledger/schemas"
)

var dealsBucket = []byte("deals")

// BoltStore is the embedded ledger of `mwledger run`: one bbolt file, one key per
// deal id, the same merge as Elasticsearch. Searches scan it (fine for the tens
// of thousands of deals a desk keeps).
type BoltStore struct {
	db  *bolt.DB
	now func() time.Time
}

var _ Store = (*BoltStore)(nil)

// OpenBolt opens (or creates) the store at path.
func OpenBolt(path string) (*BoltStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening ledger %s: %w (is another mwledger using it?)", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(dealsBucket)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("initialising ledger %s: %w", path, err)
	}
	return &BoltStore{db: db, now: func() time.Time { return time.Now().UTC() }}, nil
}

// Close closes the file.
func (s *BoltStore) Close() error { return s.db.Close() }

// Upsert merges the records in one transaction.
func (s *BoltStore) Upsert(ctx context.Context, cs []schemas.Contract) []error {
	errs := make([]error, len(cs))
	if err := ctx.Err(); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	now := s.now()
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(dealsBucket)
		for i, c := range cs {
			var old *Deal
			if v := b.Get([]byte(c.ID)); v != nil {
				old = &Deal{}
				if err := json.Unmarshal(v, old); err != nil {
					old = nil // a corrupt entry is replaced
				}
			}
			d := merge(old, c, now)
			v, err := json.Marshal(d)
			if err != nil {
				errs[i] = pipeline.Permanent("index", "encode", err)
				continue
			}
			if err := b.Put([]byte(c.ID), v); err != nil {
				errs[i] = pipeline.Permanent("index", "store_rejected", err)
			}
		}
		return nil
	})
	if err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = pipeline.Retryable("index", "store_unavailable", err)
			}
		}
	}
	return errs
}

// Search scans the ledger.
func (s *BoltStore) Search(ctx context.Context, q Query) (Result, error) {
	if err := q.Validate(); err != nil {
		return Result{}, err
	}
	var hits []Deal
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(dealsBucket).ForEach(func(_, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			var d Deal
			if err := json.Unmarshal(v, &d); err != nil {
				return nil
			}
			if q.matches(d) {
				hits = append(hits, d)
			}
			return nil
		})
	})
	if err != nil {
		return Result{}, fmt.Errorf("searching ledger: %w", err)
	}
	sort.SliceStable(hits, func(i, j int) bool {
		a, aok := q.sortKey(hits[i])
		b, bok := q.sortKey(hits[j])
		if aok != bok {
			return aok
		}
		if a != b {
			return a > b
		}
		return hits[i].ID < hits[j].ID
	})
	res := Result{Total: len(hits), Deals: []Deal{}}
	from := min(q.From, len(hits))
	to := min(from+q.size(), len(hits))
	res.Deals = append(res.Deals, hits[from:to]...)
	return res, nil
}

// Count is the number of deals in the ledger.
func (s *BoltStore) Count() (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(dealsBucket).Stats().KeyN
		return nil
	})
	return n, err
}
