package es_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/indexer/indexertest"
	"github.com/mwledger/mwledger/internal/testenv"
	"github.com/mwledger/mwledger/ledger/es"
)

// TestConformanceElasticsearch runs the conformance suite every ledger
// backend must pass (indexertest.Conformance; bbolt: ledger/bolt, SQLite:
// ledger/sqlite) on the real Elasticsearch, an alias per case (its indices
// are deleted with the case).
func TestConformanceElasticsearch(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	addr := testenv.ES(t)
	indexertest.Conformance(t, ctx, func(t *testing.T) (indexertest.Backend, func() error) {
		name := "conf-" + strings.ToLower(strings.NewReplacer(" ", "-", "/", "-").Replace(t.Name()[strings.LastIndex(t.Name(), "/")+1:]))
		alias := fmt.Sprintf("%s-%s-%d", es.Alias, name, time.Now().UnixNano())
		s, err := es.New(es.Config{Addresses: []string{addr}, Alias: alias, Timeout: 2 * time.Minute}) // rides out internal/integration's pause
		if err != nil {
			t.Fatal(err)
		}
		if err := s.EnsureIndex(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if res, err := s.Client().Indices.Delete([]string{alias + "-v*"}); err == nil {
				res.Body.Close()
			}
		})
		return s, func() error { return s.Refresh(ctx) }
	})
}
