package cli

import (
	"context"
	"fmt"
	"github.com/mwledger/mwledger/internal/app"
	"os"
)

// runMigrate copies a bbolt ledger (written by mwledger before SQLite) into
// a new SQLite ledger, which several processes can then share.
func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "migrate", "--from OLD.db --to NEW.db")
	from := fs.String("from", defaultLedger(), "the bbolt ledger to copy (left as it was)")
	to := fs.String("to", "", "the SQLite ledger to create (must not exist); then pass it as --ledger or MWLEDGER_LEDGER")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *to == "" || fs.NArg() > 0 {
		return usageError{"migrate: --to NEW is required, and no other arguments"}
	}
	if _, err := os.Stat(*from); err != nil {
		return fmt.Errorf("migrate: no ledger at %s", *from)
	}
	n, err := app.MigrateBolt(ctx, *from, *to)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "copied %d deal(s) from %s (bbolt) to %s (SQLite)\n", n, *from, *to)
	return nil
}
