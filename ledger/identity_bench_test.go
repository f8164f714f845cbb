package ledger

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mwledger/mwledger/schemas"
)

// The throughput of identity resolution on a large ledger:
//
//	MWLEDGER_IDENTITY_BENCH=1 go test -p 1 -count=1 ./ledger -run TestIdentityThroughput -v
//
// preloads MWLEDGER_IDENTITY_DEALS (100000) generated deals spread over
// MWLEDGER_IDENTITY_OPS (4) operators into each store (Elasticsearch when
// MWLEDGER_ES reaches one: TestIdentityThroughputES, identity_es_test.go), then indexes a mixed stream of
// MWLEDGER_IDENTITY_RECORDS (2000) records in batches of
// MWLEDGER_IDENTITY_BATCH (100) and logs records/s. It asserts nothing about
// time; it only uses what the store had before the candidate index, so the
// same file measures the code before and after it.

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// genCounterparties are the labels of generated deals: ten named, one undisclosed.
var genCounterparties = []string{"Microsoft", "Amazon", "Google", "Meta", "Oracle", "CoreWeave", "Fluidstack", "Anthropic", "OpenAI", "Lambda", ""}

var genOperators = []string{"IREN", "Hut 8", "Applied Digital", "Cipher Mining", "TeraWulf", "Core Scientific", "Bitdeer", "CleanSpark", "Bitfarms", "Nebius"}

// genDeal is generated deal i of a ledger over ops operators: operator,
// counterparty, capacity (100 MW × 1.06^k, 60 steps) and value ($M/MW/year
// 0.9 × 1.06^k, 40 steps, ten years; every tenth deal without a value). Deals of
// one operator and counterparty differ by 6% in capacity or value, more than
// identity's tolerance, up to ops × 11 × 60 × 40 deals (those without a value
// are told apart by capacity only).
func genDeal(i, ops int) schemas.Contract {
	op := genOperators[i%ops]
	rest := i / ops
	cp := genCounterparties[rest%len(genCounterparties)]
	rest /= len(genCounterparties)
	mw := math.Round(100*math.Pow(1.06, float64(rest%60))*10) / 10
	c := schemas.Contract{SchemaVersion: 1, ID: fmt.Sprintf("gen-%06d", i), Operator: schemas.Operator{Name: op},
		ContractType: schemas.TypeColocation, CapacityMW: &mw, Terms: []string{},
		Source:   schemas.Source{URL: fmt.Sprintf("https://gen.example/%d", i)},
		Evidence: []string{"generated"}, Confidence: 0.9, ExtractorVersion: "gen"}
	if cp == "" {
		d := "investment-grade hyperscaler"
		c.Counterparty = schemas.Counterparty{Descriptor: &d, Hyperscaler: true}
	} else {
		c.Counterparty = schemas.Counterparty{Name: &cp}
	}
	if i%10 != 9 {
		v := math.Round(mw*0.9e6*math.Pow(1.06, float64(rest/60%40))*10/1e6) * 1e6
		c.TotalValueUSD = &v
		years := 10.0
		c.TermYears = &years
	}
	return c
}

// genStream is record j of a mixed stream over a ledger of n generated deals:
// replays of a deal's own record, other articles on a deal (figures 2% off,
// sometimes without value, sometimes not naming the customer), new deals with
// customers the ledger lacks, and (one in a hundred) an event that restates
// no figure (every deal of its operator and customer is then a candidate).
func genStream(j, n, ops int) schemas.Contract {
	k := (j*7919 + 13) % n // spread over the ledger
	c := genDeal(k, ops)
	art := fmt.Sprintf("https://stream.example/%d", j)
	switch {
	case j%100 == 99:
		c.ID, c.Source.URL = fmt.Sprintf("art-%d", j), art
		c.CapacityMW, c.TotalValueUSD, c.TermYears = nil, nil, nil
		years := 5.0
		c.Event = &schemas.Event{Type: schemas.EventExtension, AddedTermYears: &years}
	case j%10 < 3: // a replay
	case j%10 < 6:
		c.ID, c.Source.URL = fmt.Sprintf("art-%d", j), art
		mw := *c.CapacityMW * 1.02
		c.CapacityMW = &mw
		if c.TotalValueUSD != nil {
			v := *c.TotalValueUSD * 0.98
			c.TotalValueUSD = &v
		}
	case j%10 == 6:
		c.ID, c.Source.URL = fmt.Sprintf("art-%d", j), art
		c.TotalValueUSD, c.TermYears = nil, nil
	case j%10 == 7:
		c.ID, c.Source.URL = fmt.Sprintf("art-%d", j), art
		d := "a large technology company"
		c.Counterparty = schemas.Counterparty{Descriptor: &d}
	default:
		c.ID, c.Source.URL = fmt.Sprintf("art-%d", j), art
		name := fmt.Sprintf("NewCo %d", j)
		c.Counterparty = schemas.Counterparty{Name: &name}
	}
	return c
}

// preloadBolt writes generated deals straight into the ledger, as Upsert
// writes them, without resolving (they are distinct by construction).
func preloadBolt(t *testing.T, s *testStore, n, ops int) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const perTx = 1000
	for start := 0; start < n; start += perTx {
		err := s.kv.Update(context.Background(), func(tx KVTx) error {
			for i := start; i < min(start+perTx, n); i++ {
				c := genDeal(i, ops)
				d := merge(nil, c.ID, c, "new", now)
				if err := putDeal(tx, &d); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// runStream indexes the stream in batches and returns records/s.
func runStream(t *testing.T, ctx context.Context, store Store, n, ops, records, batch int) float64 {
	var stream []schemas.Contract
	for j := range records {
		stream = append(stream, genStream(j, n, ops))
	}
	failed := map[string]int{}
	start := time.Now()
	for i := 0; i < len(stream); i += batch {
		for _, err := range store.Upsert(ctx, stream[i:min(i+batch, len(stream))]) {
			if err != nil {
				failed[err.Error()[:min(len(err.Error()), 120)]]++
			}
		}
	}
	el := time.Since(start)
	for msg, k := range failed {
		t.Errorf("%d records failed: %s", k, msg)
	}
	return float64(len(stream)) / el.Seconds()
}

func TestIdentityThroughput(t *testing.T) {
	if os.Getenv("MWLEDGER_IDENTITY_BENCH") == "" {
		t.Skip("set MWLEDGER_IDENTITY_BENCH=1 to measure identity resolution on a large ledger")
	}
	n := envInt(t, "MWLEDGER_IDENTITY_DEALS", 100000)
	ops := envInt(t, "MWLEDGER_IDENTITY_OPS", 4)
	records := envInt(t, "MWLEDGER_IDENTITY_RECORDS", 2000)
	batch := envInt(t, "MWLEDGER_IDENTITY_BATCH", 100)
	ctx := context.Background()
	t.Run("bolt", func(t *testing.T) {
		s, err := openTest(filepath.Join(t.TempDir(), "l.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		t0 := time.Now()
		preloadBolt(t, s, n, ops)
		t.Logf("bolt: preloaded %d deals over %d operators in %v", n, ops, time.Since(t0).Round(time.Millisecond))
		rate := runStream(t, ctx, s, n, ops, records, batch)
		t.Logf("bolt: %d records in batches of %d: %.1f records/s", records, batch, rate)
	})
}
