package bolt

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mwledger/mwledger/ledger"
)

// boltBuckets names the bbolt Bucket of each index (see kv.go).
var boltBuckets = [ledger.NumBuckets][]byte{
	ledger.BucketDeals:         []byte("deals"),
	ledger.BucketRecords:       []byte("records"),
	ledger.BucketByOp:          []byte("byop"),
	ledger.BucketOutbox:        []byte("outbox"),
	ledger.BucketCandidates:    []byte("candidates.v1"),
	ledger.BucketCandidateKeys: []byte("candidate_keys.v1"),
	ledger.BucketMeta:          []byte("meta"),
}

// Store is the embedded ledger in a bbolt file (the format of mwledger
// before SQLite): one key per deal id, the same identity resolution, merge and
// alerts as Elasticsearch. bbolt locks the file: one process at a time.
type Store struct {
	*ledger.KVStore
	db *bolt.DB
}

var (
	_ ledger.EmbeddedLedger = (*Store)(nil)
	_ ledger.KVDB           = boltDB{}
)

// Open opens (or creates) the store at path. A ledger written before the
// index buckets existed gets them built on open.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening ledger %s: %w (is another mwledger using it?)", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		reindex := tx.Bucket(boltBuckets[ledger.BucketByOp]) == nil
		for _, name := range boltBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return ledger.InitKV(boltTx{tx}, reindex)
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("initialising ledger %s: %w", path, err)
	}
	return &Store{KVStore: ledger.NewKVStore(boltDB{db}), db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

type boltDB struct{ db *bolt.DB }

func (b boltDB) Update(_ context.Context, fn func(ledger.KVTx) error) error {
	return b.db.Update(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (b boltDB) View(_ context.Context, fn func(ledger.KVTx) error) error {
	return b.db.View(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

type boltTx struct{ tx *bolt.Tx }

var _ ledger.KVTx = boltTx{}

func (t boltTx) b(b ledger.Bucket) *bolt.Bucket { return t.tx.Bucket(boltBuckets[b]) }

func (t boltTx) Get(b ledger.Bucket, key []byte) []byte { return t.b(b).Get(key) }

func (t boltTx) Put(b ledger.Bucket, key, value []byte) error { return t.b(b).Put(key, value) }

func (t boltTx) Delete(b ledger.Bucket, key []byte) error { return t.b(b).Delete(key) }

func (t boltTx) Scan(b ledger.Bucket, start []byte, fn func(k, v []byte) bool) {
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

func (t boltTx) Count(b ledger.Bucket) int { return t.b(b).Stats().KeyN }

func (t boltTx) Clear(b ledger.Bucket) error {
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
