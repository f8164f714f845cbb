package ledger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/ledger/es"
	"github.com/mwledger/mwledger/ledger/es/estest"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

// The Elasticsearch store (ledger/es) resolves identities through the same
// code as the embedded one, over the candidates its searches find: these
// tests hold it to the reference resolution (refLedger), which is internal
// to this package (export_test.go).

// esLedger opens a store on a fresh alias (estest.Open) of the test
// Elasticsearch, with requests timing out after timeout; cfg sets more.
func esLedger(t *testing.T, ctx context.Context, name string, timeout time.Duration, cfg es.Config) *es.Store {
	t.Helper()
	cfg.Timeout = timeout
	return estest.Open(t, ctx, testkit.ES(t), name, cfg)
}

// preloadES bulk-indexes the generated deals into the store's alias, as
// Upsert writes them, without resolving (they are distinct by construction).
func preloadES(t *testing.T, ctx context.Context, s *es.Store, n, ops int) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // as the reference's and the embedded store's preloads
	const perBulk = 2000
	for start := 0; start < n; start += perBulk {
		var buf bytes.Buffer
		end := min(start+perBulk, n)
		for i := start; i < end; i++ {
			d := ledger.NewDeal(ledger.GenDeal(i, ops), now)
			doc, err := es.Document(&d)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&buf, `{"create":{"_index":%q,"_id":%q}}`+"\n", s.AliasName(), d.ID)
			buf.Write(doc)
			buf.WriteByte('\n')
		}
		res, err := s.Client().Bulk(bytes.NewReader(buf.Bytes()), s.Client().Bulk.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		var br struct {
			Errors bool              `json:"errors"`
			Items  []json.RawMessage `json:"items"`
		}
		err = json.NewDecoder(res.Body).Decode(&br)
		res.Body.Close()
		if err != nil || res.IsError() || br.Errors || len(br.Items) != end-start {
			t.Fatalf("preloading deals %d-%d: %s, %v, errors %v, %d items", start, end, res.Status(), err, br.Errors, len(br.Items))
		}
	}
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
}

// mget reads deals by id in real time (absent ones are left out).
func mget(t *testing.T, ctx context.Context, s *es.Store, ids []string) map[string]*ledger.Deal {
	t.Helper()
	out := map[string]*ledger.Deal{}
	for i := 0; i < len(ids); i += 1000 {
		body, _ := json.Marshal(map[string]any{"ids": ids[i:min(i+1000, len(ids))]})
		res, err := s.Client().Mget(bytes.NewReader(body), s.Client().Mget.WithIndex(s.AliasName()), s.Client().Mget.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		var mr struct {
			Docs []struct {
				ID     string       `json:"_id"`
				Found  bool         `json:"found"`
				Source *ledger.Deal `json:"_source"`
			} `json:"docs"`
		}
		err = json.NewDecoder(res.Body).Decode(&mr)
		res.Body.Close()
		if err != nil || res.IsError() {
			t.Fatalf("mget: %s, %v", res.Status(), err)
		}
		for _, d := range mr.Docs {
			if d.Found {
				d.Source.ID = d.ID
				out[d.ID] = d.Source
			}
		}
	}
	return out
}

func TestESResolutionMatchesFullOperatorScan(t *testing.T) {
	t.Parallel()
	// The old Elasticsearch read took the operators as the batch spelled them
	// (exactly), while candidate compares them squashed: with two spellings of
	// one operator in the ledger, which aggregate links it computed depended
	// on the spellings each batch happened to hold. Candidates are read as
	// before, so the deals records resolve to are the same in any case; the
	// aggregate links are compared when each operator has one spelling.
	for _, tc := range []struct {
		name      string
		spellings bool
	}{{"one spelling per operator", false}, {"several spellings, links aside", true}} {
		t.Run(tc.name, func(t *testing.T) { esResolutionMatches(t, tc.spellings) })
	}
}

func esResolutionMatches(t *testing.T, spellings bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	s := esLedger(t, ctx, "identity", 2*time.Minute, es.Config{})
	// 1500 deals per operator, 1600 records (-short: 300 and 700, with
	// aggregate links: the test checks them when it compares them)
	deals, ops, records := ledger.Sized(t, "deals", 3000, 600), 2, ledger.Sized(t, "records", 1600, 700)
	preloadES(t, ctx, s, deals, ops)
	ref := ledger.NewRefLedger()
	ref.Preload(t, deals, ops)
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	all := ledger.Batches(ledger.IdentityStream(ledger.IdentitySeed(t), deals, ops, records, spellings))
	links := !spellings
	for k, batch := range all {
		now = now.Add(time.Minute)
		for i, err := range s.Upsert(ctx, batch) {
			if err != nil {
				t.Fatalf("batch %d record %s: %v", k, batch[i].ID, err)
			}
		}
		written := ref.Upsert(t, batch, now)
		if len(written) == 0 {
			continue
		}
		got := mget(t, ctx, s, written)
		for _, id := range written {
			g, ok := got[id]
			if !ok {
				t.Fatalf("batch %d: deal %s missing", k, id)
			}
			if a, b := ledger.ComparableDeal(t, g, links), ledger.ComparableDeal(t, ref.Deals()[id], links); a != b {
				t.Fatalf("batch %d: deal %s differs:\nElasticsearch %s\nreference     %s", k, id, a, b)
			}
		}
	}
	// Every deal, both ways.
	ids := make([]string, 0, len(ref.Deals()))
	for id := range ref.Deals() {
		ids = append(ids, id)
	}
	got := mget(t, ctx, s, ids)
	linked := 0
	for _, id := range ids {
		g, ok := got[id]
		if !ok {
			t.Fatalf("deal %s missing", id)
		}
		if a, b := ledger.ComparableDeal(t, g, links), ledger.ComparableDeal(t, ref.Deals()[id], links); a != b {
			t.Fatalf("deal %s differs:\nElasticsearch %s\nreference     %s", id, a, b)
		}
		linked += len(g.Parts)
	}
	t.Logf("%d batches, %d deals, %d aggregate parts linked", len(all), len(ref.Deals()), linked)
	if links && linked == 0 {
		t.Error("no aggregate was linked to parts: the stream does not test aggregate linking")
	}
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := s.Client().Count(s.Client().Count.WithIndex(s.AliasName()))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var cnt struct {
		Count int `json:"count"`
	}
	if err := json.NewDecoder(res.Body).Decode(&cnt); err != nil || cnt.Count != len(ref.Deals()) {
		t.Fatalf("%d deals in Elasticsearch (%v), the reference has %d", cnt.Count, err, len(ref.Deals()))
	}
}

func TestESTooManyCandidatesIsAnError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := esLedger(t, ctx, "identity", 2*time.Minute, es.Config{})
	f := ledger.F
	var cs []schemas.Contract
	for i := range 6 {
		cs = append(cs, ledger.Rec(fmt.Sprintf("deal-%d", i), fmt.Sprintf("https://a.example/%d", i), "A", f(float64(100*(i+1))), nil, nil))
	}
	for _, err := range s.Upsert(ctx, cs) {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Another store on the same alias, whose searches may return five deals.
	s, err := es.New(es.Config{Addresses: []string{testkit.ES(t)}, Alias: s.AliasName(), Timeout: 2 * time.Minute, MaxCandidates: 5})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	// Without figures, every IREN–Microsoft deal is a candidate: six, over the bound.
	bare := ledger.Rec("deal-bare", "https://b.example/1", "B", nil, nil, nil)
	errs := s.Upsert(ctx, []schemas.Contract{bare})
	var se *stream.StageError
	if !errors.As(errs[0], &se) || se.Reason != "too_many_candidates" || se.Retryable {
		t.Fatalf("error %v, want the permanent too_many_candidates", errs[0])
	}
	// With a figure, one deal is: fine.
	if errs := s.Upsert(ctx, []schemas.Contract{ledger.Rec("deal-300", "https://b.example/2", "B", f(301), nil, nil)}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	d, err := s.Get(ctx, "deal-2")
	if err != nil || d == nil || len(d.Sources) != 2 {
		t.Fatalf("the 301 MW record should join the 300 MW deal: %+v %v", d, err)
	}
}

func TestESResolvesAmongMoreThanTenThousandDealsOfAnOperator(t *testing.T) {
	t.Parallel()
	// 10500 deals of one operator, more than one search returns. Another
	// article on one of the last deals joins it (reading all the operator's
	// deals at once read 10000 of them without a word, and a record about one
	// of the others started a duplicate deal).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s := esLedger(t, ctx, "scale", 2*time.Minute, es.Config{})
	const n = 10500
	preloadES(t, ctx, s, n, 1)
	var late []schemas.Contract
	for k := n - 300; k < n; k += 3 {
		if k%10 == 9 {
			continue // no value: as the same capacity of the same customer, an older deal is as good
		}
		c := ledger.GenDeal(k, 1)
		c.ID, c.Source.URL = fmt.Sprintf("late-%d", k), fmt.Sprintf("https://late.example/%d", k)
		late = append(late, c)
	}
	for i, err := range s.Upsert(ctx, late) {
		if err != nil {
			t.Fatalf("record %s: %v", late[i].ID, err)
		}
	}
	if got := mget(t, ctx, s, []string{late[0].ID, late[len(late)-1].ID}); len(got) > 0 {
		t.Errorf("%d of the records started a deal of their own instead of joining theirs", len(got))
	}
	for _, c := range late {
		id := fmt.Sprintf("gen-%06s", c.ID[len("late-"):])
		d, err := s.Get(ctx, id)
		if err != nil || d == nil || len(d.Sources) != 2 {
			var where []string
			_ = s.Refresh(ctx)
			_ = s.Scan(ctx, ledger.Query{Operator: "IREN"}, func(x ledger.Deal) error {
				for _, src := range x.Sources {
					if src.RecordID == c.ID {
						where = append(where, x.ID)
					}
				}
				return nil
			})
			t.Fatalf("deal %s: %d sources, %v; want it joined by %s (which is in %v)", id, len(d.Sources), err, c.ID, where)
		}
	}
}

func TestESUnencodableDealFailsAloneInItsBatch(t *testing.T) {
	// A deal whose document does not encode (a NaN figure) is that record's
	// permanent error; the others of the batch are written (the bulk request
	// once carried fewer actions than it expected answers, and the whole
	// batch was retried for ever).
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := esLedger(t, ctx, "encode", time.Minute, es.Config{})
	f := ledger.F
	good := ledger.Rec("deal-good", "https://a.example/1", "A", f(100), nil, nil)
	bad := ledger.Rec("deal-nan", "https://a.example/2", "B", nil, nil, f(math.NaN()))
	bad.Operator.Name = "Hut 8"
	errs := s.Upsert(ctx, []schemas.Contract{good, bad})
	var se *stream.StageError
	if errs[0] != nil || !errors.As(errs[1], &se) || se.Reason != "encode" || se.Retryable {
		t.Fatalf("errors %v, want nil and the permanent encode error", errs)
	}
	if d, err := s.Get(ctx, "deal-good"); err != nil || d == nil {
		t.Fatalf("deal-good: %v %v", d, err)
	}
}

// TestIdentityThroughputES is TestIdentityThroughput (identity_bench_test.go)
// on Elasticsearch, when MWLEDGER_ES reaches one.
func TestIdentityThroughputES(t *testing.T) {
	if os.Getenv("MWLEDGER_IDENTITY_BENCH") == "" || os.Getenv("MWLEDGER_ES") == "" {
		t.Skip("set MWLEDGER_IDENTITY_BENCH=1 and MWLEDGER_ES to measure identity resolution on a large ledger")
	}
	n := ledger.EnvInt(t, "MWLEDGER_IDENTITY_DEALS", 100000)
	ops := ledger.EnvInt(t, "MWLEDGER_IDENTITY_OPS", 4)
	records := ledger.EnvInt(t, "MWLEDGER_IDENTITY_RECORDS", 2000)
	batch := ledger.EnvInt(t, "MWLEDGER_IDENTITY_BATCH", 100)
	ctx := context.Background()
	s := esLedger(t, ctx, "idbench", 5*time.Minute, es.Config{})
	t0 := time.Now()
	preloadES(t, ctx, s, n, ops)
	t.Logf("es: preloaded %d deals over %d operators in %v", n, ops, time.Since(t0).Round(time.Millisecond))
	rate := ledger.RunStream(t, ctx, s, n, ops, records, batch)
	t.Logf("es: %d records in batches of %d: %.1f records/s", records, batch, rate)
}

// TestNewDealThroughput indexes MWLEDGER_NEW_DEALS (10000) generated new deals
// over ten operators into a fresh alias in batches of MWLEDGER_IDENTITY_BATCH
// (500), as `make bench` does, and logs records/s and the Elasticsearch
// requests per batch by kind:
//
//	MWLEDGER_IDENTITY_BENCH=1 go test -count=1 ./ledger -run TestNewDealThroughput -v [-cpuprofile cpu.out]
func TestNewDealThroughput(t *testing.T) {
	if os.Getenv("MWLEDGER_IDENTITY_BENCH") == "" || os.Getenv("MWLEDGER_ES") == "" {
		t.Skip("set MWLEDGER_IDENTITY_BENCH=1 and MWLEDGER_ES to measure indexing new deals")
	}
	n := ledger.EnvInt(t, "MWLEDGER_NEW_DEALS", 10000)
	batch := ledger.EnvInt(t, "MWLEDGER_IDENTITY_BATCH", 500)
	ctx := context.Background()
	var mu sync.Mutex
	calls, took := map[string]int{}, map[string]time.Duration{}
	s := esLedger(t, ctx, "newdeals", 2*time.Minute, es.Config{OnRequest: func(kind string, d time.Duration, _ int) {
		mu.Lock()
		calls[kind]++
		took[kind] += d
		mu.Unlock()
	}})
	mu.Lock()
	clear(calls)
	clear(took)
	mu.Unlock()
	var recs []schemas.Contract
	for i := range n {
		recs = append(recs, ledger.GenDeal(i, 10))
	}
	start := time.Now()
	batches := 0
	for i := 0; i < n; i += batch {
		for j, err := range s.Upsert(ctx, recs[i:min(i+batch, n)]) {
			if err != nil {
				t.Fatalf("record %s: %v", recs[i+j].ID, err)
			}
		}
		batches++
	}
	el := time.Since(start)
	var per []string
	for _, k := range []string{"refresh", "msearch", "search", "mget", "bulk", "other"} {
		if calls[k] > 0 {
			per = append(per, fmt.Sprintf("%s %.2f (%.0f ms)", k, float64(calls[k])/float64(batches), float64(took[k].Milliseconds())/float64(batches)))
		}
	}
	t.Logf("%d new deals in %d batches of %d: %.0f records/s (%.0f ms per batch); per batch: %s", n, batches, batch, float64(n)/el.Seconds(),
		float64(el.Milliseconds())/float64(batches), strings.Join(per, ", "))
}
