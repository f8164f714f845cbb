package app

import (
	"context"
	"fmt"
	"os"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/ledger/bolt"
	"github.com/mwledger/mwledger/ledger/sqlite"
)

// OpenLedger opens the embedded ledger file at path in its format (see
// ledger.LedgerFormat): SQLite, including a new ledger, or bbolt for a file
// an older mwledger wrote.
func OpenLedger(path string) (ledger.EmbeddedLedger, error) {
	format, err := ledger.LedgerFormat(path)
	if err != nil {
		return nil, fmt.Errorf("opening ledger %s: %w", path, err)
	}
	if format == ledger.FormatBolt {
		return bolt.Open(path)
	}
	return sqlite.Open(path)
}

// MigrateBolt copies every deal of the bbolt ledger at from into a new
// SQLite ledger at to (which must not exist), indexes included, and returns
// the number of deals copied. The bbolt file is left as it was.
func MigrateBolt(ctx context.Context, from, to string) (int, error) {
	if _, err := os.Stat(to); err == nil {
		return 0, fmt.Errorf("migrating ledger: %s exists", to)
	}
	if f, err := ledger.LedgerFormat(from); err != nil || f != ledger.FormatBolt {
		return 0, fmt.Errorf("migrating ledger: %s is not a bbolt ledger (%v)", from, err)
	}
	src, err := bolt.Open(from)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	dst, err := sqlite.Open(to)
	if err != nil {
		return 0, err
	}
	n, err := ledger.CopyLedger(ctx, src.KVStore, dst.KVStore)
	dst.Close()
	if err != nil {
		for _, f := range []string{to, to + "-wal", to + "-shm"} {
			os.Remove(f)
		}
		return 0, fmt.Errorf("migrating ledger %s to %s: %w", from, to, err)
	}
	return n, nil
}
