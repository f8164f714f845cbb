package ledger_test

import (
	"context"
	"fmt"
	"github.com/mwledger/mwledger/internal/testkit"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/ledger/bolt"
	"github.com/mwledger/mwledger/schemas"
)

// BenchmarkBoltSearch: one search over 3000 generated deals in the embedded store.
func BenchmarkBoltSearch(b *testing.B) {
	s := sampleBolt(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Search(context.Background(), ledger.Query{HyperscalerOnly: true, Sort: "mw"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBoltAggregate: each aggregation over all of 3000 generated deals
// in the embedded store (the Go path: scan, then Aggregate).
func BenchmarkBoltAggregate(b *testing.B) {
	s := sampleBolt(b)
	for _, name := range ledger.Aggregations {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				r, err := ledger.AggregateStore(context.Background(), s, name, ledger.Query{})
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
	recs := testkit.SampleContracts("bench", 3000, 1)
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

// BenchmarkKVSearchLarge: the ten queries of TestSearchLatency
// (internal/integration) over MWLEDGER_SEARCH_BENCH_DEALS (default 100,000)
// generated deals written straight into an in-memory KV store, each a
// sub-benchmark; the view is loaded before the timer starts.
func BenchmarkKVSearchLarge(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("MWLEDGER_SEARCH_BENCH_DEALS"))
	if n <= 0 {
		n = 100000
	}
	s, put := ledger.NewMemKVStore()
	recs := testkit.SampleContracts("lat", n, 11)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ds := make([]ledger.Deal, len(recs))
	for i := range recs {
		k, _ := strconv.Atoi(strings.TrimPrefix(recs[i].ID, "lat-"))
		recs[i].Operator.Name = fmt.Sprintf("%s %03d", recs[i].Operator.Name, k%(n/40+1))
		ds[i] = ledger.NewDeal(recs[i], now)
	}
	if err := put(ds); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	t0 := time.Now()
	if _, err := s.Search(ctx, ledger.Query{}); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d deals: the first search (loading the view) took %s", len(ds), time.Since(t0).Round(time.Millisecond))
	for i, q := range latencyQueries {
		b.Run(strconv.Itoa(i), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Search(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, name := range ledger.Aggregations {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := ledger.AggregateStore(ctx, s, name, ledger.Query{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// latencyQueries are TestSearchLatency's queries.
var latencyQueries = []ledger.Query{
	{}, {Operator: "IREN 007"}, {HyperscalerOnly: true, Sort: "mw"}, {ContractType: schemas.TypeColocation, MinMW: 100},
	{Text: "childress"}, {AnnouncedFrom: "2025-01", AnnouncedTo: "2025-06", Sort: "announced"}, {Location: "texas", Hardware: "gb300"},
	{MinUSDPerMWYear: 1e6, MaxUSDPerMWYear: 2e6, Sort: "usd_per_mw_year"}, {Counterparty: "Microsoft", From: 100},
	{Text: "confirmed anthropic", Sort: "confidence", Order: "asc"},
}
