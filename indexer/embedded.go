package indexer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// EmbeddedLedger is a ledger in a local file: SQLite (what mwledger writes)
// or bbolt (the format of ledgers written before; still read and written,
// but by one process at a time: see MigrateBolt).
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

var (
	_ EmbeddedLedger = (*SQLiteStore)(nil)
	_ EmbeddedLedger = (*BoltStore)(nil)
)

// Embedded ledger file formats.
const (
	FormatSQLite = "sqlite"
	FormatBolt   = "bbolt"
)

var sqliteMagic = []byte("SQLite format 3\x00")

// LedgerFormat says what the file at path holds: FormatSQLite for a file that
// does not exist yet, is empty or is an SQLite database, FormatBolt for
// anything else (OpenBolt then says whether it is one).
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

// OpenEmbedded opens the ledger file at path in its format (see
// LedgerFormat); a new ledger is SQLite.
func OpenEmbedded(path string) (EmbeddedLedger, error) {
	format, err := LedgerFormat(path)
	if err != nil {
		return nil, fmt.Errorf("opening ledger %s: %w", path, err)
	}
	if format == FormatBolt {
		return OpenBolt(path)
	}
	return OpenSQLite(path)
}

// MigrateBolt copies every deal of the bbolt ledger at from into a new
// SQLite ledger at to (which must not exist), indexes included, in one
// transaction, and returns the number of deals copied. The bbolt file is
// left as it was.
func MigrateBolt(ctx context.Context, from, to string) (int, error) {
	if _, err := os.Stat(to); err == nil {
		return 0, fmt.Errorf("migrating ledger: %s exists", to)
	}
	if f, err := LedgerFormat(from); err != nil || f != FormatBolt {
		return 0, fmt.Errorf("migrating ledger: %s is not a bbolt ledger (%v)", from, err)
	}
	src, err := OpenBolt(from)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	dst, err := OpenSQLite(to)
	if err != nil {
		return 0, err
	}
	defer dst.Close()
	n := 0
	err = src.kv.view(ctx, func(rtx kvTx) error {
		return dst.kv.update(ctx, func(wtx kvTx) error {
			var werr error
			rtx.scan(bDeals, nil, func(k, v []byte) bool {
				if werr = ctx.Err(); werr != nil {
					return false
				}
				d := decodeDeal(string(k), v)
				if d == nil {
					return true // unreadable in bbolt too: no deal
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
	if err != nil {
		os.Remove(to)
		os.Remove(to + "-wal")
		os.Remove(to + "-shm")
		return 0, fmt.Errorf("migrating ledger %s to %s: %w", from, to, err)
	}
	return n, nil
}
