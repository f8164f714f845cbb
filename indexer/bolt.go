package indexer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

// Buckets of the embedded ledger: deals (id → Deal JSON, the same document as in
// Elasticsearch), records (extractor record id → deal id), byop (operator key
// (schemas.Key) + 0x00 + deal id → nothing), outbox (alert id → deal id, while
// a sink has not acknowledged it), the candidate index of identity resolution
// (bolt_candidates.go) and meta (key_version: the schemas.KeyVersion byop and
// the candidate index were built with). All change in the same transaction.
var (
	dealsBucket   = []byte("deals")
	recordsBucket = []byte("records")
	byOpBucket    = []byte("byop")
	outboxBucket  = []byte("outbox")
	metaBucket    = []byte("meta")
	keyVersionKey = []byte("key_version")
)

// BoltStore is the embedded ledger of `mwledger run`: one bbolt file, one key per
// deal id, the same identity resolution, merge and alerts as Elasticsearch.
// Searches scan it (fine for the tens of thousands of deals a desk keeps).
type BoltStore struct {
	db  *bolt.DB
	now func() time.Time

	mu     sync.Mutex
	policy AlertPolicy
	notify func(dealIDs []string)

	search searchCache // what queries read of every deal (bolt_search.go)
}

var _ Store = (*BoltStore)(nil)

// OpenBolt opens (or creates) the store at path. A ledger written before the
// index buckets existed gets them built on open.
func OpenBolt(path string) (*BoltStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening ledger %s: %w (is another mwledger using it?)", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		deals, err := tx.CreateBucketIfNotExists(dealsBucket)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(outboxBucket); err != nil {
			return err
		}
		if err := dropStaleKeyIndexes(tx); err != nil {
			return err
		}
		if candidatesStale(tx) {
			if err := rebuildCandidates(tx); err != nil {
				return err
			}
		}
		if tx.Bucket(byOpBucket) != nil {
			return nil
		}
		recs, err := tx.CreateBucketIfNotExists(recordsBucket)
		if err != nil {
			return err
		}
		byop, err := tx.CreateBucket(byOpBucket)
		if err != nil {
			return err
		}
		return deals.ForEach(func(k, v []byte) error {
			var d Deal
			if json.Unmarshal(v, &d) != nil {
				return nil
			}
			d.ID = string(k)
			return indexDeal(recs, byop, nil, &d)
		})
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("initialising ledger %s: %w", path, err)
	}
	return &BoltStore{db: db, now: func() time.Time { return time.Now().UTC() }}, nil
}

// dropStaleKeyIndexes deletes the indexes built on name keys (byop, the
// candidates) when they were built with another schemas.Key: OpenBolt then
// builds them again from the deals.
func dropStaleKeyIndexes(tx *bolt.Tx) error {
	meta, err := tx.CreateBucketIfNotExists(metaBucket)
	if err != nil {
		return err
	}
	want := []byte(strconv.Itoa(schemas.KeyVersion))
	if bytes.Equal(meta.Get(keyVersionKey), want) {
		return nil
	}
	for _, name := range [][]byte{byOpBucket, candidatesBucket, candidateKeysBucket} {
		if tx.Bucket(name) != nil {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
	}
	return meta.Put(keyVersionKey, want)
}

// Close closes the file.
func (s *BoltStore) Close() error { return s.db.Close() }

// SetAlerts makes every Upsert evaluate policy on the deals it changes and store
// the alerts it raises in the same transaction; notify (may be nil) is called
// with the ids of the deals that got new alerts, after the commit.
func (s *BoltStore) SetAlerts(policy AlertPolicy, notify func(dealIDs []string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policy, s.notify = policy, notify
}

func opKey(op, id string) []byte { return []byte(schemas.Key(op) + "\x00" + id) }

// indexDeal writes the lookup entries of a deal (records, byop, the candidate
// index of the same transaction, outbox).
func indexDeal(recs, byop, outbox *bolt.Bucket, d *Deal) error {
	for _, r := range d.RecordIDs {
		if err := recs.Put([]byte(r), []byte(d.ID)); err != nil {
			return err
		}
	}
	if err := byop.Put(opKey(d.Operator.Name, d.ID), nil); err != nil {
		return err
	}
	if err := indexCandidates(byop.Tx(), d); err != nil {
		return err
	}
	if outbox == nil {
		return nil
	}
	for _, a := range d.Alerts {
		var err error
		if len(a.Pending) > 0 {
			err = outbox.Put([]byte(a.ID), []byte(d.ID))
		} else {
			err = outbox.Delete([]byte(a.ID))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func getDeal(b *bolt.Bucket, id string) *Deal {
	v := b.Get([]byte(id))
	if v == nil {
		return nil
	}
	d := &Deal{}
	if err := json.Unmarshal(v, d); err != nil {
		return nil // a corrupt entry is replaced
	}
	d.ID = id
	return d
}

// Upsert resolves, merges and alerts in one transaction.
func (s *BoltStore) Upsert(ctx context.Context, cs []schemas.Contract) []error {
	errs := make([]error, len(cs))
	if err := ctx.Err(); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	s.mu.Lock()
	policy, notify := s.policy, s.notify
	s.mu.Unlock()
	now := s.now()
	var alerted []string
	err := s.db.Update(func(tx *bolt.Tx) error {
		deals, recs, byop, outbox := tx.Bucket(dealsBucket), tx.Bucket(recordsBucket), tx.Bucket(byOpBucket), tx.Bucket(outboxBucket)
		src := newBoltCandidates(tx, cs)
		w := newWorking()
		if err := src.candidates(w, cs); err != nil {
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
			v, err := json.Marshal(d)
			if err == nil {
				err = deals.Put([]byte(id), v)
			}
			if err == nil {
				err = indexDeal(recs, byop, outbox, d)
			}
			if err != nil {
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

// PendingAlerts returns alerts some sink has not acknowledged, oldest first.
func (s *BoltStore) PendingAlerts(ctx context.Context, dealIDs []string, limit int) ([]PendingAlert, error) {
	var deals []Deal
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(dealsBucket)
		seen := map[string]bool{}
		add := func(id string) {
			if seen[id] {
				return
			}
			seen[id] = true
			if d := getDeal(b, id); d != nil {
				deals = append(deals, *d)
			}
		}
		if len(dealIDs) > 0 {
			for _, id := range dealIDs {
				add(id)
			}
			return nil
		}
		return tx.Bucket(outboxBucket).ForEach(func(_, v []byte) error {
			add(string(v))
			return ctx.Err()
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reading alert outbox: %w", err)
	}
	return pendingOf(deals, limit), nil
}

// Get returns one deal by id (nil when absent).
func (s *BoltStore) Get(_ context.Context, id string) (*Deal, error) {
	var d *Deal
	err := s.db.View(func(tx *bolt.Tx) error {
		d = getDeal(tx.Bucket(dealsBucket), id)
		return nil
	})
	return d, err
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
