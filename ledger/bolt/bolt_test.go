package bolt_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mwledger/mwledger/ledger/bolt"
	"github.com/mwledger/mwledger/ledger/ledgertest"
)

// The bbolt ledger passes the conformance suite every backend must pass
// (SQLite: ledger/sqlite; Elasticsearch: ledger/es).
func TestConformanceBolt(t *testing.T) {
	ledgertest.Conformance(t, context.Background(), func(t *testing.T) (ledgertest.Backend, func() error) {
		s, err := bolt.Open(filepath.Join(t.TempDir(), "ledger.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, nil
	})
}
