package ledger

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
)

// EmbeddedLedger is a ledger in a local file: SQLite (what mwledger writes)
// (ledger/sqlite, what mwledger writes) or bbolt (ledger/bolt: the format of
// ledgers written before; still read and written, but by one process at a
// time: see app.MigrateBolt).
type EmbeddedLedger interface {
	Store
	Scanner
	Outbox
	Get(ctx context.Context, id string) (*Deal, error)
	Review(ctx context.Context, id string, a ReviewAction) (*Deal, error)
	SetAlerts(policy AlertPolicy, notify func(dealIDs []string))
	Count() (int, error)
	Close() error
}

// Embedded ledger file formats.
const (
	FormatSQLite = "sqlite"
	FormatBolt   = "bbolt"
)

var sqliteMagic = []byte("SQLite format 3\x00")

// LedgerFormat says what the file at path holds: FormatSQLite for a file that
// does not exist yet, is empty or is an SQLite database, FormatBolt for
// anything else (bolt.Open then says whether it is one). app.OpenLedger
// opens a file in its format.
func LedgerFormat(path string) (string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return FormatSQLite, nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	n, err := io.ReadFull(f, head)
	if n == 0 && (err == io.EOF || err == nil) {
		return FormatSQLite, nil
	}
	if bytes.Equal(head[:n], sqliteMagic) {
		return FormatSQLite, nil
	}
	return FormatBolt, nil
}
