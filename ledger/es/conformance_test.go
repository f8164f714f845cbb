package es_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/ledger/es"
	"github.com/mwledger/mwledger/ledger/es/estest"
	"github.com/mwledger/mwledger/ledger/ledgertest"
)

// TestConformanceElasticsearch runs the conformance suite every ledger
// backend must pass (ledgertest.Conformance; bbolt: ledger/bolt, SQLite:
// ledger/sqlite) on the real Elasticsearch, an alias per case.
func TestConformanceElasticsearch(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	addr := testkit.ES(t)
	ledgertest.Conformance(t, ctx, func(t *testing.T) (ledgertest.Backend, func() error) {
		name := "conf-" + strings.ToLower(strings.NewReplacer(" ", "-", "/", "-").Replace(t.Name()[strings.LastIndex(t.Name(), "/")+1:]))
		s := estest.Open(t, ctx, addr, name, es.Config{Timeout: 2 * time.Minute}) // rides out internal/integration's pause
		return s, func() error { return s.Refresh(ctx) }
	})
}
