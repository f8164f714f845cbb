package indexer

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// boltBuckets names the bbolt Bucket of each index (see kv.go).
var boltBuckets = [NumBuckets][]byte{
	BucketDeals:         []byte("deals"),
	BucketRecords:       []byte("records"),
	BucketByOp:          []byte("byop"),
	BucketOutbox:        []byte("outbox"),
	BucketCandidates:    []byte("candidates.v1"),
	BucketCandidateKeys: []byte("candidate_keys.v1"),
	BucketMeta:          []byte("meta"),
}

// BoltStore is the embedded ledger in a bbolt file (the format of mwledger
// before SQLite): one key per deal id, the same identity resolution, merge and
// alerts as Elasticsearch. bbolt locks the file: one process at a time.
type BoltStore struct {
	*KVStore
	db *bolt.DB
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
		reindex := tx.Bucket(boltBuckets[BucketByOp]) == nil
		for _, name := range boltBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return InitKV(boltTx{tx}, reindex)
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("initialising ledger %s: %w", path, err)
	}
	return &BoltStore{KVStore: NewKVStore(boltDB{db}), db: db}, nil
}

// Close closes the file.
func (s *BoltStore) Close() error { return s.db.Close() }

type boltDB struct{ db *bolt.DB }

func (b boltDB) Update(_ context.Context, fn func(KVTx) error) error {
	return b.db.Update(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (b boltDB) View(_ context.Context, fn func(KVTx) error) error {
	return b.db.View(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

type boltTx struct{ tx *bolt.Tx }

var _ KVTx = boltTx{}

func (t boltTx) b(b Bucket) *bolt.Bucket { return t.tx.Bucket(boltBuckets[b]) }

func (t boltTx) Get(b Bucket, key []byte) []byte { return t.b(b).Get(key) }

func (t boltTx) Put(b Bucket, key, value []byte) error { return t.b(b).Put(key, value) }

func (t boltTx) Delete(b Bucket, key []byte) error { return t.b(b).Delete(key) }

func (t boltTx) Scan(b Bucket, start []byte, fn func(k, v []byte) bool) {
	c := t.b(b).Cursor()
	var k, v []byte
	if start == nil {
		k, v = c.First()
	} else {
		k, v = c.Seek(start)
	}
	for ; k != nil; k, v = c.Next() {
		if !fn(k, v) {
			return
		}
	}
}

func (t boltTx) Count(b Bucket) int { return t.b(b).Stats().KeyN }

func (t boltTx) Clear(b Bucket) error {
	name := boltBuckets[b]
	if t.tx.Bucket(name) != nil {
		if err := t.tx.DeleteBucket(name); err != nil {
			return err
		}
	}
	_, err := t.tx.CreateBucket(name)
	return err
}

func (t boltTx) Generation() uint64 { return uint64(t.tx.ID()) }
