package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver "sqlite"

	"github.com/mwledger/mwledger/ledger"
)

// Store is the embedded ledger in an SQLite file in WAL mode: the
// default of mwledger run, search, review and serve. Several processes share
// one file: readers never wait, writers take turns (a write waits up to
// BusyTimeout for another one to commit). The deals are rows of table
// deals (id, doc: the deal as JSON, the same document as in Elasticsearch),
// readable with any SQLite tool, e.g.
//
//	SELECT id, doc->>'$.operator.name', doc->>'$.capacity_mw' FROM deals;
//
// The other tables are the indexes of the ledger's KVStore (ledger/kv.go).
type Store struct {
	*ledger.KVStore
	db *sqliteDB
}

var _ ledger.EmbeddedLedger = (*Store)(nil)

// BusyTimeout is how long a write waits for another process's write
// to commit before it fails (retryably).
const BusyTimeout = 15000 // milliseconds

// sqliteTable is the table of a kv Bucket: its key and value columns, text
// (readable in SQL) or blob.
type sqliteTable struct {
	name, key, val   string
	textKey, textVal bool
	withoutRowID     bool
}

var sqliteTables = [ledger.NumBuckets]sqliteTable{
	ledger.BucketDeals:         {name: "deals", key: "id", val: "doc", textKey: true, textVal: true},
	ledger.BucketRecords:       {name: "records", key: "record_id", val: "deal_id", textKey: true, textVal: true, withoutRowID: true},
	ledger.BucketByOp:          {name: "by_operator", key: "k", val: "v", withoutRowID: true},
	ledger.BucketOutbox:        {name: "outbox", key: "alert_id", val: "deal_id", textKey: true, textVal: true, withoutRowID: true},
	ledger.BucketCandidates:    {name: "candidates", key: "k", val: "v", withoutRowID: true},
	ledger.BucketCandidateKeys: {name: "candidate_keys", key: "deal_id", val: "keys", textKey: true, withoutRowID: true},
	ledger.BucketMeta:          {name: "meta", key: "k", val: "v", textKey: true, withoutRowID: true},
}

func (t sqliteTable) create() string {
	kt, vt := "BLOB", "BLOB"
	if t.textKey {
		kt = "TEXT"
	}
	if t.textVal {
		vt = "TEXT"
	}
	s := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s %s PRIMARY KEY NOT NULL, %s %s)", t.name, t.key, kt, t.val, vt)
	if t.withoutRowID {
		s += " WITHOUT ROWID"
	}
	return s
}

// The statements of each table, prepared once per connection.
const (
	opGet = iota
	opPut
	opDel
	opScan
	opScanFrom
	opCount
	opClear
	nOps
)

func (t sqliteTable) sql(op int) string {
	switch op {
	case opGet:
		return fmt.Sprintf("SELECT %s FROM %s WHERE %s = ?", t.val, t.name, t.key)
	case opPut:
		return fmt.Sprintf("INSERT INTO %s (%s, %s) VALUES (?, ?) ON CONFLICT (%s) DO UPDATE SET %s = excluded.%s", t.name, t.key, t.val, t.key, t.val, t.val)
	case opDel:
		return fmt.Sprintf("DELETE FROM %s WHERE %s = ?", t.name, t.key)
	case opScan:
		return fmt.Sprintf("SELECT %s, %s FROM %s ORDER BY %s", t.key, t.val, t.name, t.key)
	case opScanFrom:
		return fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s >= ? ORDER BY %s", t.key, t.val, t.name, t.key, t.key)
	case opCount:
		return fmt.Sprintf("SELECT count(*) FROM %s", t.name)
	default:
		return fmt.Sprintf("DELETE FROM %s", t.name)
	}
}

const generationKey = "generation"

// Open opens (or creates) the ledger at path.
func Open(path string) (*Store, error) {
	sdb, err := OpenDB(path)
	if err != nil {
		return nil, fmt.Errorf("opening ledger %s: %w", path, err)
	}
	db := &sqliteDB{db: sdb}
	ctx := context.Background()
	if err := db.init(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("initialising ledger %s: %w", path, err)
	}
	return &Store{KVStore: ledger.NewKVStore(db), db: db}, nil
}

// OpenDB opens (or creates) an SQLite file as the ledger is: WAL mode
// (readers never wait, several processes share the file), writers take turns
// (a transaction begins immediate and waits up to BusyTimeout), synchronous
// NORMAL. The other state files (internal/statedb) open theirs with it: this
// package is the one that imports the SQLite driver.
func OpenDB(path string) (*sql.DB, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, errors.New("the file name must not contain ? or #")
	}
	dsn := fmt.Sprintf("%s?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate", path, BusyTimeout)
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	sdb.SetMaxOpenConns(8)
	var mode string
	if err := sdb.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		sdb.Close()
		return nil, err
	}
	if !strings.EqualFold(mode, "wal") {
		sdb.Close()
		return nil, fmt.Errorf("journal mode is %s, not wal", mode)
	}
	return sdb, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.db.Close() }

type sqliteDB struct {
	db *sql.DB
	// wmu keeps this process's writers in line (SQLite's busy wait, meant
	// for other processes, polls).
	wmu sync.Mutex
	// The statements, prepared on first use.
	smu   sync.Mutex
	stmts [ledger.NumBuckets][nOps]*sql.Stmt
}

func (db *sqliteDB) init(ctx context.Context) error {
	// The tables first, committed: statements are prepared on any connection.
	for _, tb := range sqliteTables {
		if _, err := db.db.ExecContext(ctx, tb.create()); err != nil {
			return err
		}
	}
	if _, err := db.db.ExecContext(ctx, "INSERT INTO meta (k, v) VALUES (?, 0) ON CONFLICT DO NOTHING", generationKey); err != nil {
		return err
	}
	return db.Update(ctx, func(tx ledger.KVTx) error { return ledger.InitKV(tx, false) })
}

func (db *sqliteDB) stmt(ctx context.Context, b ledger.Bucket, op int) (*sql.Stmt, error) {
	db.smu.Lock()
	defer db.smu.Unlock()
	if s := db.stmts[b][op]; s != nil {
		return s, nil
	}
	s, err := db.db.PrepareContext(ctx, sqliteTables[b].sql(op))
	if err != nil {
		return nil, err
	}
	db.stmts[b][op] = s
	return s, nil
}

// update runs fn in a write transaction (BEGIN IMMEDIATE: one writer at a
// time, across processes), and moves the ledger's generation on when fn
// wrote something.
func (db *sqliteDB) Update(ctx context.Context, fn func(ledger.KVTx) error) error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	return db.run(ctx, false, fn)
}

func (db *sqliteDB) View(ctx context.Context, fn func(ledger.KVTx) error) error {
	return db.run(ctx, true, fn)
}

func (db *sqliteDB) run(ctx context.Context, readOnly bool, fn func(ledger.KVTx) error) error {
	// The transaction does not stop half-way when ctx ends: a write that
	// began commits (or fails) whole.
	tctx := context.WithoutCancel(ctx)
	stx, err := db.db.BeginTx(tctx, &sql.TxOptions{ReadOnly: readOnly})
	if err != nil {
		return err
	}
	tx := &sqliteTx{db: db, tx: stx, ctx: tctx}
	err = fn(tx)
	if err == nil {
		err = tx.err
	}
	if err == nil && tx.wrote {
		_, err = stx.ExecContext(tctx, "UPDATE meta SET v = v + 1 WHERE k = ?", generationKey)
	}
	if err != nil {
		stx.Rollback()
		return err
	}
	if readOnly {
		return stx.Rollback()
	}
	return stx.Commit()
}

// sqliteTx is a ledger.KVTx; the first failed read is kept in err and fails the
// transaction.
type sqliteTx struct {
	db    *sqliteDB
	tx    *sql.Tx
	ctx   context.Context
	err   error
	wrote bool
	gen   *uint64
	stmts [ledger.NumBuckets][nOps]*sql.Stmt
}

var (
	_ ledger.KVTx = (*sqliteTx)(nil)
	_ ledger.KVDB = (*sqliteDB)(nil)
)

func (t *sqliteTx) stmt(b ledger.Bucket, op int) (*sql.Stmt, error) {
	if s := t.stmts[b][op]; s != nil {
		return s, nil
	}
	s, err := t.db.stmt(t.ctx, b, op)
	if err != nil {
		return nil, err
	}
	s = t.tx.StmtContext(t.ctx, s)
	t.stmts[b][op] = s
	return s, nil
}

func (t *sqliteTx) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

func (t *sqliteTx) key(b ledger.Bucket, k []byte) any {
	if sqliteTables[b].textKey {
		return string(k)
	}
	return k
}

func (t *sqliteTx) val(b ledger.Bucket, v []byte) any {
	if sqliteTables[b].textVal {
		return string(v)
	}
	if v == nil {
		return []byte{}
	}
	return v
}

func (t *sqliteTx) Get(b ledger.Bucket, key []byte) []byte {
	s, err := t.stmt(b, opGet)
	if err != nil {
		t.fail(err)
		return nil
	}
	var v []byte
	err = s.QueryRowContext(t.ctx, t.key(b, key)).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		t.fail(err)
		return nil
	}
	if v == nil {
		v = []byte{}
	}
	return v
}

func (t *sqliteTx) exec(b ledger.Bucket, op int, args ...any) error {
	s, err := t.stmt(b, op)
	if err == nil {
		_, err = s.ExecContext(t.ctx, args...)
	}
	if err == nil {
		t.wrote = true
	}
	return err
}

func (t *sqliteTx) Put(b ledger.Bucket, key, value []byte) error {
	return t.exec(b, opPut, t.key(b, key), t.val(b, value))
}

func (t *sqliteTx) Delete(b ledger.Bucket, key []byte) error { return t.exec(b, opDel, t.key(b, key)) }

func (t *sqliteTx) Clear(b ledger.Bucket) error { return t.exec(b, opClear) }

func (t *sqliteTx) Scan(b ledger.Bucket, start []byte, fn func(k, v []byte) bool) {
	op, args := opScan, []any(nil)
	if start != nil {
		op, args = opScanFrom, []any{t.key(b, start)}
	}
	s, err := t.stmt(b, op)
	if err != nil {
		t.fail(err)
		return
	}
	rows, err := s.QueryContext(t.ctx, args...)
	if err != nil {
		t.fail(err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var k, v []byte
		if err := rows.Scan(&k, &v); err != nil {
			t.fail(err)
			return
		}
		if !fn(k, v) {
			return
		}
	}
	if err := rows.Err(); err != nil {
		t.fail(err)
	}
}

func (t *sqliteTx) Count(b ledger.Bucket) int {
	s, err := t.stmt(b, opCount)
	if err != nil {
		t.fail(err)
		return 0
	}
	var n int
	if err := s.QueryRowContext(t.ctx).Scan(&n); err != nil {
		t.fail(err)
	}
	return n
}

func (t *sqliteTx) Generation() uint64 {
	if t.gen == nil {
		var g int64
		if err := t.tx.QueryRowContext(t.ctx, "SELECT v FROM meta WHERE k = ?", generationKey).Scan(&g); err != nil {
			t.fail(err)
		}
		u := uint64(g)
		t.gen = &u
	}
	return *t.gen
}
