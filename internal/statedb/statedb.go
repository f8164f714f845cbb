// Package statedb keeps the small state files beside the ledger: the
// crawler's seen-set (CrawlState) and the backfill's resume points and the
// articles it published (internal/backfill). A file is a few tables of keys
// and values in SQLite, in WAL mode as the ledger is (opened by
// ledger/sqlite.OpenDB, the one package that imports the SQLite driver):
// several processes may open one file, readers never wait, writers take
// turns.
//
// A state file written by an older mwledger is a bbolt file. It is a cache
// and a resume point, not the ledger: Open moves it aside (to PATH.bbolt,
// kept for a downgrade), logs a warning and starts an empty state at PATH.
package statedb

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/mwledger/mwledger/ledger/sqlite"
)

// DB is a state file: tables of text keys and blob values.
type DB struct {
	db *sql.DB
	// wmu keeps this process's writers in line (SQLite's busy wait, meant
	// for other processes, polls).
	wmu    sync.Mutex
	tables map[string]bool
}

// Open opens (or creates) the state file at path with the tables named
// (what says what the file is, for messages: "crawl state"). A bbolt file
// there (an older mwledger's) is moved to path+".bbolt" first, with a
// warning on log.
func Open(path, what string, log *slog.Logger, tables ...string) (*DB, error) {
	if err := moveBolt(path, what, log); err != nil {
		return nil, fmt.Errorf("opening %s %s: %w", what, path, err)
	}
	sdb, err := sqlite.OpenDB(path)
	if err != nil {
		return nil, fmt.Errorf("opening %s %s: %w", what, path, err)
	}
	d := &DB{db: sdb, tables: map[string]bool{}}
	for _, t := range tables {
		// Table names come from this program, never from input.
		if _, err := sdb.Exec(fmt.Sprintf(`CREATE TABLE IF NOT EXISTS "%s" (k TEXT PRIMARY KEY NOT NULL, v BLOB) WITHOUT ROWID`, t)); err != nil {
			sdb.Close()
			return nil, fmt.Errorf("initialising %s %s: %w", what, path, err)
		}
		d.tables[t] = true
	}
	return d, nil
}

// boltMagic is the magic number of a bbolt file, in its first meta page
// after the 16-byte page header.
const boltMagic = 0xED0CDAED

// moveBolt moves a bbolt file at path to path+".bbolt".
func moveBolt(path, what string, log *slog.Logger) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	head := make([]byte, 20)
	_, err = io.ReadFull(f, head)
	f.Close()
	if err != nil || binary.LittleEndian.Uint32(head[16:]) != boltMagic || bytes.HasPrefix(head, []byte("SQLite format 3")) {
		return nil // not bbolt: SQLite says whether it is a database
	}
	old := path + ".bbolt"
	if _, err := os.Stat(old); err == nil {
		return fmt.Errorf("it is a bbolt file written by an older mwledger, and %s exists too: move one of them away", old)
	}
	if err := os.Rename(path, old); err != nil {
		return fmt.Errorf("moving the bbolt file written by an older mwledger aside: %w", err)
	}
	if log != nil {
		log.Warn("the "+what+" file was written by an older mwledger (bbolt): moved aside, starting an empty one",
			"path", path, "moved_to", old)
	}
	return nil
}

// Close closes the file.
func (d *DB) Close() error { return d.db.Close() }

func (d *DB) table(t string) error {
	if !d.tables[t] {
		return fmt.Errorf("state: no table %q", t)
	}
	return nil
}

// Get returns the value of key in table t, nil when absent.
func (d *DB) Get(t, key string) ([]byte, error) {
	if err := d.table(t); err != nil {
		return nil, err
	}
	var v []byte
	err := d.db.QueryRow(fmt.Sprintf(`SELECT v FROM "%s" WHERE k = ?`, t), key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state: reading %s %q: %w", t, key, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// Count returns the number of keys of table t.
func (d *DB) Count(t string) (int, error) {
	if err := d.table(t); err != nil {
		return 0, err
	}
	var n int
	if err := d.db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM "%s"`, t)).Scan(&n); err != nil {
		return 0, fmt.Errorf("state: counting %s: %w", t, err)
	}
	return n, nil
}

// Tx is a write transaction.
type Tx struct {
	d  *DB
	tx *sql.Tx
}

// Put sets key in table t to v.
func (tx *Tx) Put(t, key string, v []byte) error {
	if err := tx.d.table(t); err != nil {
		return err
	}
	if v == nil {
		v = []byte{}
	}
	_, err := tx.tx.Exec(fmt.Sprintf(`INSERT INTO "%s" (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v`, t), key, v)
	if err != nil {
		return fmt.Errorf("state: writing %s %q: %w", t, key, err)
	}
	return nil
}

// Update runs fn in a write transaction, committed when fn returns nil.
func (d *DB) Update(fn func(tx *Tx) error) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	stx, err := d.db.BeginTx(context.Background(), nil)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if err := fn(&Tx{d: d, tx: stx}); err != nil {
		stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("state: committing: %w", err)
	}
	return nil
}
