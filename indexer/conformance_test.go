package indexer_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mwledger/mwledger/indexer"
	"github.com/mwledger/mwledger/indexer/indexertest"
)

// The embedded store passes the conformance suite every backend must pass
// (Elasticsearch: internal/integration's TestConformanceElasticsearch).
func TestConformanceBolt(t *testing.T) {
	indexertest.Conformance(t, context.Background(), func(t *testing.T) (indexertest.Backend, func() error) {
		s, err := indexer.OpenBolt(filepath.Join(t.TempDir(), "ledger.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, nil
	})
}
