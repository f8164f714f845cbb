package indexer

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// boltBuckets names the bbolt bucket of each index (see kv.go).
var boltBuckets = [nBuckets][]byte{
	bDeals:         []byte("deals"),
	bRecords:       []byte("records"),
	bByOp:          []byte("byop"),
	bOutbox:        []byte("outbox"),
	bCandidates:    []byte("candidates.v1"),
	bCandidateKeys: []byte("candidate_keys.v1"),
	bMeta:          []byte("meta"),
}

// BoltStore is the embedded ledger in a bbolt file (the format of mwledger
// before SQLite): one key per deal id, the same identity resolution, merge and
// alerts as Elasticsearch. bbolt locks the file: one process at a time.
type BoltStore struct {
	kvStore
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
		reindex := tx.Bucket(boltBuckets[bByOp]) == nil
		for _, name := range boltBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return initKV(boltTx{tx}, reindex)
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("initialising ledger %s: %w", path, err)
	}
	return &BoltStore{kvStore: newKVStore(boltDB{db}), db: db}, nil
}

// Close closes the file.
func (s *BoltStore) Close() error { return s.db.Close() }

type boltDB struct{ db *bolt.DB }

func (b boltDB) update(_ context.Context, fn func(kvTx) error) error {
	return b.db.Update(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (b boltDB) view(_ context.Context, fn func(kvTx) error) error {
	return b.db.View(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

type boltTx struct{ tx *bolt.Tx }

var _ kvTx = boltTx{}

func (t boltTx) b(b bucket) *bolt.Bucket { return t.tx.Bucket(boltBuckets[b]) }

func (t boltTx) get(b bucket, key []byte) []byte { return t.b(b).Get(key) }

func (t boltTx) put(b bucket, key, value []byte) error { return t.b(b).Put(key, value) }

func (t boltTx) del(b bucket, key []byte) error { return t.b(b).Delete(key) }

func (t boltTx) scan(b bucket, start []byte, fn func(k, v []byte) bool) {
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

func (t boltTx) count(b bucket) int { return t.b(b).Stats().KeyN }

func (t boltTx) clear(b bucket) error {
	name := boltBuckets[b]
	if t.tx.Bucket(name) != nil {
		if err := t.tx.DeleteBucket(name); err != nil {
			return err
		}
	}
	_, err := t.tx.CreateBucket(name)
	return err
}

func (t boltTx) generation() uint64 { return uint64(t.tx.ID()) }
