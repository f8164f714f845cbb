package indexer_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/indexer"
	"github.com/mwledger/mwledger/internal/web"
	"github.com/mwledger/mwledger/ledger/bolt"
)

// BenchmarkBoltSearch: one search over 3000 generated deals in the embedded store.
func BenchmarkBoltSearch(b *testing.B) {
	s := sampleBolt(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Search(context.Background(), indexer.Query{HyperscalerOnly: true, Sort: "mw"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBoltAggregate: each aggregation over all of 3000 generated deals
// in the embedded store (the Go path: scan, then Aggregate).
func BenchmarkBoltAggregate(b *testing.B) {
	s := sampleBolt(b)
	for _, name := range indexer.Aggregations {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				r, err := indexer.AggregateStore(context.Background(), s, name, indexer.Query{})
				if err != nil || len(r.Rows) == 0 {
					b.Fatal(r, err)
				}
			}
		})
	}
}

// sampleBolt is an embedded ledger of 3000 generated deals spread over 76
// operator names per generated operator; closed with the benchmark.
func sampleBolt(b *testing.B) *bolt.Store {
	b.Helper()
	s, err := bolt.Open(filepath.Join(b.TempDir(), "l.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	recs := web.SampleContracts("bench", 3000, 1)
	for i := range recs {
		k, _ := strconv.Atoi(strings.TrimPrefix(recs[i].ID, "bench-"))
		recs[i].Operator.Name = fmt.Sprintf("%s %03d", recs[i].Operator.Name, k%76)
	}
	for _, err := range s.Upsert(context.Background(), recs) {
		if err != nil {
			b.Fatal(err)
		}
	}
	return s
}
