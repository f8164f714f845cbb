// Package estest opens Elasticsearch ledgers (ledger/es) for tests, each on
// an alias of its own whose indices are deleted with the test, so that no
// test sees another's deals.
package estest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mwledger/mwledger/ledger/es"
)

// Open returns a store on the Elasticsearch at addr (a test's, e.g.
// testkit.ES) with a new alias, mwledger-contracts-NAME-<time>, and its first
// index created; the alias's indices are deleted when the test ends. cfg
// sets the rest of the configuration (Addresses and Alias are Open's).
func Open(t testing.TB, ctx context.Context, addr, name string, cfg es.Config) *es.Store {
	t.Helper()
	cfg.Addresses = []string{addr}
	cfg.Alias = fmt.Sprintf("%s-%s-%d", es.Alias, name, time.Now().UnixNano())
	s, err := es.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureIndex(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if res, err := s.Client().Indices.Delete([]string{cfg.Alias + "-v*"}); err == nil {
			res.Body.Close()
		}
	})
	return s
}
