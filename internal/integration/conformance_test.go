package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/indexer/indexertest"
)

// TestConformanceElasticsearch runs the conformance suite every ledger
// backend must pass (indexertest.Conformance; the embedded store runs it in
// indexer's TestConformanceBolt) on the real Elasticsearch, an alias per case.
func TestConformanceElasticsearch(t *testing.T) {
	isolated(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	indexertest.Conformance(t, ctx, func(t *testing.T) (indexertest.Backend, func() error) {
		name := "conf-" + strings.ToLower(strings.NewReplacer(" ", "-", "/", "-").Replace(t.Name()[strings.LastIndex(t.Name(), "/")+1:]))
		s := aliasStore(t, ctx, name, nil)
		return s, func() error { return s.Refresh(ctx) }
	})
}
