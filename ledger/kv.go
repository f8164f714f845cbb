package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

// The embedded ledgers (bbolt, SQLite) keep the same indexes, written by the
// same code over a key-value transaction (KVTx):
//
//	deals           deal id → Deal JSON (the same document as in Elasticsearch)
//	records         extractor record id → deal id
//	byop            operator key (schemas.Key) + 0x00 + deal id → nothing
//	outbox          alert id → deal id, while a sink has not acknowledged it
//	candidates      the candidate index of identity resolution (kv_candidates.go)
//	candidate_keys  deal id → the candidate keys written for it
//	meta            key_version: the schemas.KeyVersion byop and the candidates were built with
//
// All change in the deal's transaction.
type Bucket int

const (
	BucketDeals Bucket = iota
	BucketRecords
	BucketByOp
	BucketOutbox
	BucketCandidates
	BucketCandidateKeys
	BucketMeta
	NumBuckets
)

var keyVersionKey = []byte("key_version")

// KVTx is one transaction of an embedded ledger. Reads do not return errors:
// a backend whose reads can fail (SQLite) keeps the first failure and fails
// the transaction with it (see KVDB).
type KVTx interface {
	// Get returns the value of key (nil when absent), valid until the
	// transaction ends.
	Get(b Bucket, key []byte) []byte
	Put(b Bucket, key, value []byte) error
	Delete(b Bucket, key []byte) error
	// Scan calls fn with each entry whose key is ≥ start, in key order, until
	// fn returns false.
	Scan(b Bucket, start []byte, fn func(k, v []byte) bool)
	// Count is the number of entries of b.
	Count(b Bucket) int
	// Clear deletes every entry of b.
	Clear(b Bucket) error
	// Generation changes with every committed write (whoever wrote it).
	Generation() uint64
}

// KVDB runs transactions: update is one writer at a time and commits when
// fn returns nil; view reads a consistent snapshot.
type KVDB interface {
	Update(ctx context.Context, fn func(KVTx) error) error
	View(ctx context.Context, fn func(KVTx) error) error
}

// KVStore is the embedded ledger written once over KVDB: the same identity
// resolution, merge, reviews and alerts as Elasticsearch. Searches filter an
// in-memory view of the deals (kv_search.go).
type KVStore struct {
	kv  KVDB
	now func() time.Time

	mu     sync.Mutex
	policy AlertPolicy
	notify func(dealIDs []string)

	search searchCache // what queries read of every deal (kv_search.go)
}

// NewKVStore is the ledger over db, whose indexes InitKV brought up to date.
func NewKVStore(db KVDB) *KVStore {
	return &KVStore{kv: db, now: func() time.Time { return time.Now().UTC() }}
}

// InitKV brings the indexes of a ledger up to date: those built on name keys
// are rebuilt when schemas.Key changed (or reindex says byop never existed),
// and the candidate index when it does not list every deal.
func InitKV(tx KVTx, reindex bool) error {
	want := []byte(strconv.Itoa(schemas.KeyVersion))
	if string(tx.Get(BucketMeta, keyVersionKey)) != string(want) {
		for _, b := range []Bucket{BucketByOp, BucketCandidates, BucketCandidateKeys} {
			if err := tx.Clear(b); err != nil {
				return err
			}
		}
		if err := tx.Put(BucketMeta, keyVersionKey, want); err != nil {
			return err
		}
		reindex = true
	}
	if reindex || tx.Count(BucketCandidateKeys) != tx.Count(BucketDeals) {
		if err := rebuildCandidates(tx); err != nil {
			return err
		}
	}
	if !reindex {
		return nil
	}
	var deals []*Deal
	tx.Scan(BucketDeals, nil, func(k, v []byte) bool {
		d := &Deal{}
		if json.Unmarshal(v, d) == nil {
			d.ID = string(k)
			deals = append(deals, d)
		}
		return true
	})
	for _, d := range deals {
		if err := indexRecords(tx, d); err != nil {
			return err
		}
		if err := tx.Put(BucketByOp, opKey(d.Operator.Name, d.ID), nil); err != nil {
			return err
		}
	}
	return nil
}

// SetAlerts makes every Upsert evaluate policy on the deals it changes and store
// the alerts it raises in the same transaction; notify (may be nil) is called
// with the ids of the deals that got new alerts, after the commit.
func (s *KVStore) SetAlerts(policy AlertPolicy, notify func(dealIDs []string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policy, s.notify = policy, notify
}

func (s *KVStore) alerts() (AlertPolicy, func([]string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.policy, s.notify
}

func opKey(op, id string) []byte { return []byte(schemas.Key(op) + "\x00" + id) }

func indexRecords(tx KVTx, d *Deal) error {
	for _, r := range d.RecordIDs {
		if err := tx.Put(BucketRecords, []byte(r), []byte(d.ID)); err != nil {
			return err
		}
	}
	return nil
}

// putDeal writes a deal and its lookup entries (records, byop, the candidate
// index, outbox).
func putDeal(tx KVTx, d *Deal) error {
	v, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if err := tx.Put(BucketDeals, []byte(d.ID), v); err != nil {
		return err
	}
	if err := indexRecords(tx, d); err != nil {
		return err
	}
	if err := tx.Put(BucketByOp, opKey(d.Operator.Name, d.ID), nil); err != nil {
		return err
	}
	if err := indexCandidates(tx, d); err != nil {
		return err
	}
	for _, a := range d.Alerts {
		var err error
		if len(a.Pending) > 0 {
			err = tx.Put(BucketOutbox, []byte(a.ID), []byte(d.ID))
		} else {
			err = tx.Delete(BucketOutbox, []byte(a.ID))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// getDeal reads one deal (nil when absent; a corrupt entry is nil too and
// is replaced by the next write).
func getDeal(tx KVTx, id string) *Deal {
	return decodeDeal(id, tx.Get(BucketDeals, []byte(id)))
}

func decodeDeal(id string, v []byte) *Deal {
	if v == nil {
		return nil
	}
	d := &Deal{}
	if err := json.Unmarshal(v, d); err != nil {
		return nil
	}
	d.ID = id
	return d
}

// Upsert resolves, merges and alerts in one transaction.
func (s *KVStore) Upsert(ctx context.Context, cs []schemas.Contract) []error {
	errs := make([]error, len(cs))
	if err := ctx.Err(); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	policy, notify := s.alerts()
	now := s.now()
	var alerted []string
	err := s.kv.Update(ctx, func(tx KVTx) error {
		for i := range errs {
			errs[i] = nil // a retried transaction starts again
		}
		alerted = alerted[:0]
		src := newKVCandidates(tx, cs)
		w := newWorking()
		if err := src.Candidates(w, cs); err != nil {
			return err
		}
		recordsOf := map[string][]int{}
		for i, c := range cs {
			id := w.apply(c, now)
			recordsOf[id] = append(recordsOf[id], i)
		}
		if err := completeGroups(w, w, src); err != nil {
			return err
		}
		for _, id := range w.finish(policy, now) {
			d := w.deals[id]
			if err := putDeal(tx, d); err != nil {
				for _, i := range recordsOf[id] {
					errs[i] = stream.Permanent("index", "store_rejected", err)
				}
				continue
			}
			if len(d.Alerts) > alertCount(w.before[id]) {
				alerted = append(alerted, id)
			}
		}
		return nil
	})
	if err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = stream.Retryable("index", "store_unavailable", err)
			}
		}
		return errs
	}
	if len(alerted) > 0 && notify != nil {
		notify(alerted)
	}
	return errs
}

// Review applies a reviewer's action to deal id in one transaction; alerts the
// corrected deal now deserves are raised in the same write.
func (s *KVStore) Review(ctx context.Context, id string, a ReviewAction) (*Deal, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	policy, notify := s.alerts()
	now := s.now()
	var out *Deal
	alerted := false
	err := s.kv.Update(ctx, func(tx KVTx) error {
		old := getDeal(tx, id)
		if old == nil {
			return fmt.Errorf("review %s: %w", id, ErrNoDeal)
		}
		d := ApplyReview(old, a, policy, now)
		if old.Operator.Name != d.Operator.Name {
			if err := tx.Delete(BucketByOp, opKey(old.Operator.Name, id)); err != nil {
				return err
			}
		}
		if err := putDeal(tx, &d); err != nil {
			return err
		}
		alerted = len(d.Alerts) > len(old.Alerts)
		out = &d
		return nil
	})
	if err != nil {
		return nil, err
	}
	if alerted && notify != nil {
		notify([]string{id})
	}
	return out, nil
}

// AckAlerts records many deliveries in one transaction.
func (s *KVStore) AckAlerts(ctx context.Context, acks []Ack) error {
	ids, groups := AcksByDeal(acks)
	return s.kv.Update(ctx, func(tx KVTx) error {
		for _, id := range ids {
			d := getDeal(tx, id)
			if d == nil {
				return fmt.Errorf("acknowledging alerts: deal %s not found", id)
			}
			if !ApplyAcks(d, groups[id]) {
				continue
			}
			if err := putDeal(tx, d); err != nil {
				return err
			}
		}
		return nil
	})
}

// PendingAlerts returns alerts some sink has not acknowledged, oldest first.
func (s *KVStore) PendingAlerts(ctx context.Context, dealIDs []string, limit int) ([]PendingAlert, error) {
	var deals []Deal
	err := s.kv.View(ctx, func(tx KVTx) error {
		deals = deals[:0]
		seen := map[string]bool{}
		add := func(id string) {
			if seen[id] {
				return
			}
			seen[id] = true
			if d := getDeal(tx, id); d != nil {
				deals = append(deals, *d)
			}
		}
		if len(dealIDs) > 0 {
			for _, id := range dealIDs {
				add(id)
			}
			return nil
		}
		var ids []string
		tx.Scan(BucketOutbox, nil, func(_, v []byte) bool {
			ids = append(ids, string(v))
			return ctx.Err() == nil
		})
		for _, id := range ids {
			add(id)
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reading alert outbox: %w", err)
	}
	return PendingAlertsOf(deals, limit), nil
}

// Get returns one deal by id (nil when absent).
func (s *KVStore) Get(ctx context.Context, id string) (*Deal, error) {
	var d *Deal
	err := s.kv.View(ctx, func(tx KVTx) error {
		d = getDeal(tx, id)
		return nil
	})
	return d, err
}

// Count is the number of deals in the ledger.
func (s *KVStore) Count() (int, error) {
	n := 0
	err := s.kv.View(context.Background(), func(tx KVTx) error {
		n = tx.Count(BucketDeals)
		return nil
	})
	return n, err
}

// CopyLedger copies every deal of from into to (indexes included, in one
// transaction of each) and returns the number of deals copied: a ledger
// moves from one backend to another.
func CopyLedger(ctx context.Context, from, to *KVStore) (int, error) {
	n := 0
	err := from.kv.View(ctx, func(rtx KVTx) error {
		return to.kv.Update(ctx, func(wtx KVTx) error {
			n = 0
			var werr error
			rtx.Scan(BucketDeals, nil, func(k, v []byte) bool {
				if werr = ctx.Err(); werr != nil {
					return false
				}
				d := decodeDeal(string(k), v)
				if d == nil {
					return true // unreadable in from too: no deal
				}
				if werr = putDeal(wtx, d); werr != nil {
					return false
				}
				n++
				return true
			})
			return werr
		})
	})
	return n, err
}
