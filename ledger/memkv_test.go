package ledger

import (
	"context"
	"sort"
	"sync"
)

// memKV is an in-memory KVDB for this package's tests: the embedded
// ledger's logic (KVStore) without a backend package (ledger/bolt and
// ledger/sqlite import indexer, so its own tests cannot use them). Writes
// are undone when the transaction fails.
type memKV struct {
	mu  sync.RWMutex
	b   [NumBuckets]map[string][]byte
	gen uint64
	// sorted keys per bucket, rebuilt when a key was added or removed
	keys  [NumBuckets][]string
	dirty [NumBuckets]bool
}

func newMemKV() *memKV {
	m := &memKV{}
	for i := range m.b {
		m.b[i] = map[string][]byte{}
	}
	return m
}

func (m *memKV) Update(_ context.Context, fn func(KVTx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	tx := &memTx{m: m, write: true}
	if err := fn(tx); err != nil {
		for i := len(tx.undo) - 1; i >= 0; i-- {
			u := tx.undo[i]
			if u.had {
				m.set(u.b, u.k, u.v)
			} else {
				m.unset(u.b, u.k)
			}
		}
		return err
	}
	if len(tx.undo) > 0 {
		m.gen++
	}
	return nil
}

func (m *memKV) View(_ context.Context, fn func(KVTx) error) error {
	m.mu.Lock() // scans may rebuild the sorted keys
	defer m.mu.Unlock()
	return fn(&memTx{m: m})
}

func (m *memKV) set(b Bucket, k string, v []byte) {
	if _, ok := m.b[b][k]; !ok {
		m.dirty[b] = true
	}
	m.b[b][k] = v
}

func (m *memKV) unset(b Bucket, k string) {
	if _, ok := m.b[b][k]; ok {
		m.dirty[b] = true
		delete(m.b[b], k)
	}
}

func (m *memKV) sorted(b Bucket) []string {
	if m.dirty[b] || m.keys[b] == nil {
		ks := make([]string, 0, len(m.b[b]))
		for k := range m.b[b] {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		m.keys[b], m.dirty[b] = ks, false
	}
	return m.keys[b]
}

type memUndo struct {
	b   Bucket
	k   string
	v   []byte
	had bool
}

type memTx struct {
	m     *memKV
	write bool
	undo  []memUndo
}

var (
	_ KVDB = (*memKV)(nil)
	_ KVTx = (*memTx)(nil)
)

func (t *memTx) Get(b Bucket, key []byte) []byte {
	v, ok := t.m.b[b][string(key)]
	if !ok {
		return nil
	}
	if v == nil {
		return []byte{}
	}
	return v
}

func (t *memTx) keep(b Bucket, k string) {
	v, had := t.m.b[b][k]
	t.undo = append(t.undo, memUndo{b, k, v, had})
}

func (t *memTx) Put(b Bucket, key, value []byte) error {
	if !t.write {
		panic("memKV: Put in a read transaction")
	}
	k := string(key)
	t.keep(b, k)
	t.m.set(b, k, append([]byte{}, value...))
	return nil
}

func (t *memTx) Delete(b Bucket, key []byte) error {
	if !t.write {
		panic("memKV: Delete in a read transaction")
	}
	k := string(key)
	t.keep(b, k)
	t.m.unset(b, k)
	return nil
}

func (t *memTx) Scan(b Bucket, start []byte, fn func(k, v []byte) bool) {
	ks := t.m.sorted(b)
	i := sort.SearchStrings(ks, string(start))
	// A write in fn makes a new sorted list: ks stays as it was.
	for _, k := range ks[i:] {
		v, ok := t.m.b[b][k]
		if !ok {
			continue
		}
		if !fn([]byte(k), v) {
			return
		}
	}
}

func (t *memTx) Count(b Bucket) int { return len(t.m.b[b]) }

func (t *memTx) Clear(b Bucket) error {
	for k := range t.m.b[b] {
		t.keep(b, k)
	}
	t.m.b[b] = map[string][]byte{}
	t.m.dirty[b] = true
	return nil
}

func (t *memTx) Generation() uint64 { return t.m.gen }

// memLedgers are the tests' "files": reopening a path gives the same data.
var memLedgers sync.Map

// testStore is a KVStore over memory, opened like a file.
type testStore struct {
	*KVStore
	mem *memKV
}

func (s *testStore) Close() error { return nil }

// openTest opens the in-memory ledger named path (InitKV runs, as on opening
// a file).
func openTest(path string) (*testStore, error) {
	m, _ := memLedgers.LoadOrStore(path, newMemKV())
	mem := m.(*memKV)
	if err := mem.Update(context.Background(), func(tx KVTx) error { return InitKV(tx, false) }); err != nil {
		return nil, err
	}
	return &testStore{KVStore: NewKVStore(mem), mem: mem}, nil
}

// memAt is the in-memory ledger named path.
func memAt(path string) *memKV {
	m, _ := memLedgers.Load(path)
	return m.(*memKV)
}
