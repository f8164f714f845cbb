package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/internal/web"
	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/ledger/bolt"
	"github.com/mwledger/mwledger/ledger/es"
	"github.com/mwledger/mwledger/ledger/es/estest"
	"github.com/mwledger/mwledger/ledger/sqlite"
	"github.com/mwledger/mwledger/schemas"
)

// searchStores loads the same generated records into a fresh Elasticsearch
// alias (its own, so other tests' deals never show) and a temporary embedded
// ledger (SQLite, the default; bbolt runs the same KVStore code and
// TestSearchLatency compares it too).
func searchStores(t *testing.T, ctx context.Context, recs []schemas.Contract) (*es.Store, ledger.EmbeddedLedger) {
	t.Helper()
	return searchStoresLog(t, ctx, recs, nil)
}

// searchStoresLog is searchStores with the Elasticsearch store logging to log.
func searchStoresLog(t *testing.T, ctx context.Context, recs []schemas.Contract, log *slog.Logger) (*es.Store, ledger.EmbeddedLedger) {
	t.Helper()
	ess := aliasStore(t, ctx, "search", log)
	bs, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	const batch = 500
	for i := 0; i < len(recs); i += batch {
		part := recs[i:min(i+batch, len(recs))]
		for _, s := range []ledger.Store{ess, bs} {
			for j, err := range s.Upsert(ctx, part) {
				if err != nil {
					t.Fatalf("upsert %s: %v", part[j].ID, err)
				}
			}
		}
	}
	if err := ess.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	return ess, bs
}

func ids(r ledger.Result) []string {
	out := make([]string, 0, len(r.Deals))
	for _, d := range r.Deals {
		out = append(out, d.ID)
	}
	return out
}

// TestSearchSameOnBothStores: for a table of queries, Elasticsearch and the
// embedded store return the same total, the same ids in the same order, and
// the same aggregations.
func TestSearchSameOnBothStores(t *testing.T) {
	isolated(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute) // a guard: loading both stores takes ~1 min alone, several on a loaded machine
	defer cancel()
	// More than one Scan batch (1000 deals), so search_after paging is exercised.
	recs := testkit.SampleContracts("srch", 1400, 7)
	ess, bs := searchStores(t, ctx, recs)

	all, err := bs.Search(ctx, ledger.Query{Size: 1})
	if err != nil || all.Total < 1050 {
		t.Fatalf("embedded store holds %d deals (%v), want ≥ 1050", all.Total, err)
	}
	tests := []struct {
		name     string
		q        ledger.Query
		nonEmpty bool
	}{
		{"everything by value", ledger.Query{Size: 100}, true},
		{"second page", ledger.Query{Size: 25, From: 25}, true},
		{"operator by name", ledger.Query{Operator: "iren", Size: 500}, true},
		{"operator by ticker", ledger.Query{Operator: "HUT", Size: 500}, true},
		{"counterparty", ledger.Query{Counterparty: "microsoft", Size: 500}, true},
		{"undisclosed counterparty", ledger.Query{Counterparty: "investment-grade hyperscaler", Size: 500}, true},
		{"type", ledger.Query{ContractType: schemas.TypeBareMetal, Size: 500}, true},
		{"hyperscaler only", ledger.Query{HyperscalerOnly: true, Size: 500}, true},
		{"MW range", ledger.Query{MinMW: 100, MaxMW: 400, Sort: "mw", Size: 500}, true},
		{"$/MW/year range", ledger.Query{MinUSDPerMWYear: 1e6, MaxUSDPerMWYear: 5e6, Sort: "usd_per_mw_year", Size: 500}, true},
		{"value range", ledger.Query{MinValue: 1e9, MaxValue: 20e9, Size: 500}, true},
		{"min value only", ledger.Query{MinValue: 50e9, Size: 500}, false},
		{"announced in 2025", ledger.Query{AnnouncedFrom: "2025-01", AnnouncedTo: "2025-12", Sort: "announced", Size: 500}, true},
		{"announced one month (day bounds)", ledger.Query{AnnouncedFrom: "2025-03-01", AnnouncedTo: "2025-03-31", Size: 500}, true},
		{"announced mid-month", ledger.Query{AnnouncedFrom: "2024-06-15", AnnouncedTo: "2024-09", Sort: "announced", Order: "asc", Size: 500}, true},
		{"location substring", ledger.Query{Location: "texas", Size: 500}, true},
		{"hardware substring", ledger.Query{Hardware: "gb", Size: 500}, true},
		{"free text in evidence", ledger.Query{Text: "childress", Size: 500}, true},
		{"free text in a source title", ledger.Query{Text: "update fluidstack", Size: 500}, true},
		{"free text, two words in different fields", ledger.Query{Text: "confirmed colocation", Size: 500}, true},
		{"free text, no match", ledger.Query{Text: "zeppelin", Size: 500}, false},
		{"combined filters", ledger.Query{HyperscalerOnly: true, ContractType: schemas.TypeColocation, MinMW: 50, Location: "Texas", Sort: "mw", Order: "asc", Size: 500}, true},
		{"sort by confidence", ledger.Query{Sort: "confidence", Size: 200}, true},
		{"sort ascending with missing values", ledger.Query{Sort: "value", Order: "asc", Size: 700}, true},
		{"sort announced, missing last", ledger.Query{Sort: "announced", Size: 700}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			er, err := ess.Search(ctx, tt.q)
			if err != nil {
				t.Fatalf("es: %v", err)
			}
			br, err := bs.Search(ctx, tt.q)
			if err != nil {
				t.Fatalf("embedded: %v", err)
			}
			if er.Total != br.Total {
				t.Errorf("total: es %d, embedded %d", er.Total, br.Total)
			}
			if tt.nonEmpty && br.Total == 0 {
				t.Errorf("query matched nothing; the table should exercise it")
			}
			if e, b := ids(er), ids(br); !reflect.DeepEqual(e, b) {
				t.Errorf("ids differ:\n es       %v\n embedded %v", head(e), head(b))
			}
		})
	}
	for _, q := range []ledger.Query{{}, {Sort: "announced", Order: "asc"}, {Sort: "usd_per_mw_year"}, {HyperscalerOnly: true, Sort: "confidence"}} {
		t.Run(fmt.Sprintf("scan %+v", q), func(t *testing.T) {
			scan := func(s ledger.Scanner) []string {
				var out []string
				if err := s.Scan(ctx, q, func(d ledger.Deal) error { out = append(out, d.ID); return nil }); err != nil {
					t.Fatal(err)
				}
				return out
			}
			e, b := scan(ess), scan(bs)
			if !reflect.DeepEqual(e, b) {
				t.Errorf("scan differs: es %d deals, embedded %d", len(e), len(b))
			}
			if !q.HyperscalerOnly && len(b) != all.Total {
				t.Errorf("scan gave %d deals, want all %d", len(b), all.Total)
			}
		})
	}
}

// lifecycleRecords are deals of one operator that exercise what aggregations
// skip or derive: an upsize (current figures differ from the reported ones),
// a cancellation, an aggregate whose parts are in the ledger (skipped) and one
// whose parts are not (counted), a guarantee added by an event, undisclosed
// counterparties (described, and not described at all) and missing figures.
func lifecycleRecords(prefix string) []schemas.Contract {
	n := 0
	mk := func(cp *string, desc *string, hyper bool, mw, value, years *float64, on string) schemas.Contract {
		n++
		c := schemas.Contract{SchemaVersion: 1, ID: fmt.Sprintf("%s-%03d", prefix, n), Operator: schemas.Operator{Name: "Lifecycle Power"},
			Counterparty: schemas.Counterparty{Name: cp, Descriptor: desc, Hyperscaler: hyper}, ContractType: schemas.TypeColocation,
			CapacityMW: mw, TotalValueUSD: value, TermYears: years, Terms: []string{}, Confidence: 0.9, ExtractorVersion: "t",
			Source:   schemas.Source{URL: fmt.Sprintf("https://lifecycle.example/%s/%d", prefix, n), Title: ptr("lifecycle")},
			Evidence: []string{"lifecycle"}}
		c.USDPerMWYear = schemas.DerivedUSDPerMWYear(value, mw, years)
		if on != "" {
			c.AnnouncedOn = ptr(on)
		}
		return c
	}
	f := func(v float64) *float64 { return &v }
	ms, meta, oracle, fluid := ptr("Microsoft"), ptr("Meta"), ptr("Oracle"), ptr("Fluidstack")
	up := mk(ms, nil, true, f(100), f(2e9), f(10), "2025-02-03")
	upsize := mk(ms, nil, true, f(100), f(2e9), f(10), "")
	upsize.Event = &schemas.Event{Type: schemas.EventUpsize, On: ptr("2025-09"), AddedMW: f(50), AddedValueUSD: f(1e9)}
	gone := mk(meta, nil, true, f(300), f(6e9), f(15), "2025-03")
	cancel := mk(meta, nil, true, f(300), f(6e9), f(15), "")
	cancel.Event = &schemas.Event{Type: schemas.EventCancellation, On: ptr("2025-10")}
	part1 := mk(oracle, nil, true, f(120), f(3e9), f(10), "2025-05")
	part2 := mk(oracle, nil, true, f(80), f(2.1e9), f(10), "2025-05")
	whole := mk(oracle, nil, true, f(200), f(5.1e9), f(10), "2025-05")
	whole.Aggregate = true
	lone := mk(oracle, nil, true, f(999), f(20e9), f(12), "2025-06")
	lone.Aggregate = true
	guaranteed := mk(fluid, nil, false, f(168), f(3.8e9), f(10), "2025-08")
	guarantee := mk(fluid, nil, false, f(168), f(3.8e9), f(10), "")
	guarantee.Event = &schemas.Event{Type: schemas.EventGuaranteeAdded, Guarantor: &schemas.Party{Name: "Google"}}
	cloud := mk(nil, ptr("a large cloud provider"), false, nil, nil, nil, "")
	nobody := mk(nil, nil, false, f(40), nil, f(5), "2024-12-31")
	return []schemas.Contract{up, gone, part1, part2, whole, lone, guaranteed, cloud, nobody, upsize, cancel, guarantee}
}

// TestAggregationsSameOnBothStores: every aggregation, over several queries,
// gives the same result on Elasticsearch (computed by its aggregations) and on
// the embedded store (computed in Go): keys, order, counts and medians, min
// and max exactly, sums and means to 1e-9 relative.
func TestAggregationsSameOnBothStores(t *testing.T) {
	isolated(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute) // a guard: loading both stores takes ~1 min alone, several on a loaded machine
	defer cancel()
	var logs syncBuffer
	// Groups of up to ~150 deals with prices, and more than one composite page for by-operator.
	recs := append(testkit.SampleContracts("agg", 1200, 5), lifecycleRecords("life")...)
	ess, bs := searchStoresLog(t, ctx, recs, slog.New(slog.NewTextHandler(&logs, nil)))

	// The embedded store is the reference: check first that the data exercises
	// every case.
	life, err := ledger.AggregateStore(ctx, bs, "by-counterparty", ledger.Query{Operator: "Lifecycle Power"})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]ledger.AggRow{}
	for _, r := range life.Rows {
		rows[r.Key] = r
	}
	if life.Skipped != 2 || life.Deals != 7 || len(life.Rows) != 5 {
		t.Fatalf("lifecycle deals %d skipped %d rows %+v; want 7 counted, the cancelled deal and the aggregate with parts skipped", life.Deals, life.Skipped, life.Rows)
	}
	if r := rows["Microsoft"]; r.MW != 150 || r.ValueUSD != 3e9 {
		t.Errorf("upsized deal counts %v MW %v $; want its current 150 MW and $3e9", r.MW, r.ValueUSD)
	}
	if r := rows["Oracle"]; r.Deals != 3 || r.MW != 1199 {
		t.Errorf("Oracle row %+v; want the two parts and the aggregate without parts", r)
	}
	if r, ok := rows[""]; !ok || r.Deals != 1 || r.USDPerMWYear.Count != 0 {
		t.Errorf("no-name, no-descriptor row %+v (present %v)", r, ok)
	}
	if r := rows["a large cloud provider"]; r.Deals != 1 || r.MW != 0 || r.USDPerMWYear.Mean != nil {
		t.Errorf("figure-less undisclosed row %+v", r)
	}
	tiers, err := ledger.AggregateStore(ctx, bs, "tiers", ledger.Query{Operator: "Lifecycle Power"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tiers.Rows) != 1 || tiers.Rows[0].Tier != 1 || tiers.Rows[0].HyperscalerMW != 150+1199+168 ||
		!reflect.DeepEqual(tiers.Rows[0].Counterparties, []string{"", "Fluidstack", "Microsoft", "Oracle", "a large cloud provider"}) {
		t.Errorf("lifecycle tiers %+v; want tier 1 with the hyperscaler, guaranteed and cloud-provider deals' MW", tiers.Rows)
	}

	queries := []ledger.Query{
		{},
		{Operator: "Lifecycle Power"},
		{HyperscalerOnly: true},
		{ContractType: schemas.TypeBareMetal, MinMW: 100},
		{AnnouncedFrom: "2025-01", AnnouncedTo: "2025-06-15"},
		{Text: "childress"},
		{Counterparty: "investment-grade hyperscaler"},
		{Text: "zeppelin"}, // nothing
	}
	for _, name := range ledger.Aggregations {
		for _, q := range queries {
			t.Run(fmt.Sprintf("%s %+v", name, q), func(t *testing.T) {
				ea, err := ledger.AggregateStore(ctx, ess, name, q)
				if err != nil {
					t.Fatal(err)
				}
				ba, err := ledger.AggregateStore(ctx, bs, name, q)
				if err != nil {
					t.Fatal(err)
				}
				compareAgg(t, ea, ba)
				if q.Text != "zeppelin" && len(ba.Rows) == 0 {
					t.Error("no rows: the table should exercise this query")
				}
				if reflect.DeepEqual(q, ledger.Query{}) && len(ba.Rows) < 4 {
					t.Errorf("%d rows; want several groups", len(ba.Rows))
				}
			})
		}
	}
	if strings.Contains(logs.String(), "aggregating in Go") {
		t.Fatalf("Elasticsearch fell back to the Go path:\n%s", logs.String())
	}

	// A deal written without the agg object (an older indexer) sends the
	// aggregation to the Go path, with the same result.
	all, err := bs.Search(ctx, ledger.Query{Operator: "Lifecycle Power", Size: 1})
	if err != nil || len(all.Deals) != 1 {
		t.Fatal(err)
	}
	old, _ := json.Marshal(all.Deals[0])
	res, err := ess.Client().Index(ess.AliasName(), bytes.NewReader(old), ess.Client().Index.WithDocumentID(all.Deals[0].ID), ess.Client().Index.WithRefresh("true"))
	if err != nil || res.IsError() {
		t.Fatalf("indexing a deal without agg: %v %v", err, res)
	}
	res.Body.Close()
	ea, err := ledger.AggregateStore(ctx, ess, "tiers", ledger.Query{})
	if err != nil {
		t.Fatal(err)
	}
	ba, _ := ledger.AggregateStore(ctx, bs, "tiers", ledger.Query{})
	compareAgg(t, ea, ba)
	if !strings.Contains(logs.String(), "have no agg object") {
		t.Errorf("no fallback logged for a deal without agg:\n%s", logs.String())
	}

	// A reindex (how an index of an older mapping migrates) writes the agg
	// object of every deal: Elasticsearch aggregates again.
	seen := len(logs.String())
	st, err := ess.Reindex(ctx)
	if every, _ := bs.Search(ctx, ledger.Query{Size: 1}); err != nil || st.Copied != every.Total {
		t.Fatalf("reindex %+v: %v; want every deal (%d) copied", st, err, every.Total)
	}
	for _, name := range ledger.Aggregations {
		ea, err := ledger.AggregateStore(ctx, ess, name, ledger.Query{})
		if err != nil {
			t.Fatal(err)
		}
		ba, _ := ledger.AggregateStore(ctx, bs, name, ledger.Query{})
		compareAgg(t, ea, ba)
	}
	if after := logs.String()[seen:]; strings.Contains(after, "aggregating in Go") {
		t.Errorf("still aggregating in Go after the reindex:\n%s", after)
	}
}

// compareAgg fails unless es and embedded agree: keys and order, counts,
// medians, min and max exactly; sums and means to 1e-9 relative.
func compareAgg(t *testing.T, es, embedded ledger.AggResult) {
	t.Helper()
	if es.Name != embedded.Name || es.Deals != embedded.Deals || es.Skipped != embedded.Skipped || len(es.Rows) != len(embedded.Rows) {
		t.Fatalf("es %s: %d deals, %d skipped, %d rows; embedded %s: %d, %d, %d", es.Name, es.Deals, es.Skipped, len(es.Rows), embedded.Name, embedded.Deals, embedded.Skipped, len(embedded.Rows))
	}
	near := func(a, b float64) bool { return a == b || math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }
	exact := func(a, b *float64) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }
	for i, e := range es.Rows {
		b := embedded.Rows[i]
		ok := e.Key == b.Key && e.Deals == b.Deals && near(e.MW, b.MW) && near(e.ValueUSD, b.ValueUSD) &&
			e.Tier == b.Tier && near(e.HyperscalerMW, b.HyperscalerMW) && reflect.DeepEqual(e.Counterparties, b.Counterparties)
		es, bs := e.USDPerMWYear, b.USDPerMWYear
		ok = ok && es.Count == bs.Count && exact(es.Median, bs.Median) && exact(es.Min, bs.Min) && exact(es.Max, bs.Max) &&
			(es.Mean == nil) == (bs.Mean == nil) && (es.Mean == nil || near(*es.Mean, *bs.Mean))
		if !ok {
			t.Errorf("row %d differs:\n es       %s\n embedded %s", i, aggRowString(e), aggRowString(b))
		}
	}
}

func aggRowString(r ledger.AggRow) string {
	b, _ := json.Marshal(r)
	return string(b)
}

// syncBuffer is a bytes.Buffer safe for concurrent writers (a log handler).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func head(s []string) []string {
	if len(s) > 12 {
		return append(s[:12:12], "…")
	}
	return s
}

// TestSearchLatency measures search and aggregation latency p50/p95 on the
// stores over MWLEDGER_SEARCH_BENCH_DEALS generated records (skipped unless
// set). The records go through the embedded stores' Upsert (identity
// resolution and merge: SQLite, the default, and bbolt); the SQLite ledger's
// deal documents are then bulk-indexed into Elasticsearch as ESDocument
// writes them (the ES Upsert path resolves identity per batch and is too
// slow to load 100,000 deals in a test), so all stores hold the same deals.
func TestSearchLatency(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("MWLEDGER_SEARCH_BENCH_DEALS"))
	if n == 0 {
		t.Skip("set MWLEDGER_SEARCH_BENCH_DEALS=N to measure search latency on N generated deals")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	ess := aliasStore(t, ctx, "latency", nil)
	bs, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer bs.Close()
	bb, err := bolt.Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer bb.Close()
	recs := testkit.SampleContracts("lat", n, 11)
	// Identity resolution compares a record with every deal of its operator:
	// spread the generated deals over many operators ("IREN 017") so that
	// loading stays linear and the deals stay distinct.
	for i := range recs {
		k, _ := strconv.Atoi(strings.TrimPrefix(recs[i].ID, "lat-"))
		recs[i].Operator.Name = fmt.Sprintf("%s %03d", recs[i].Operator.Name, k%(n/40+1))
	}
	var deals int
	for _, st := range []struct {
		name string
		s    interface {
			ledger.Store
			Count() (int, error)
		}
	}{{"sqlite", bs}, {"bbolt", bb}} {
		start := time.Now()
		for i := 0; i < len(recs); i += 2000 {
			for _, err := range st.s.Upsert(ctx, recs[i:min(i+2000, len(recs))]) {
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		deals, _ = st.s.Count()
		t.Logf("embedded %s: %d records → %d deals in %s", st.name, len(recs), deals, time.Since(start).Round(time.Second))
	}
	start := time.Now()
	var body bytes.Buffer
	flush := func() {
		if body.Len() == 0 {
			return
		}
		res, err := ess.Client().Bulk(bytes.NewReader(body.Bytes()), ess.Client().Bulk.WithIndex(ess.AliasName()), ess.Client().Bulk.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		var br struct {
			Errors bool `json:"errors"`
		}
		json.NewDecoder(res.Body).Decode(&br)
		res.Body.Close()
		if res.IsError() || br.Errors {
			t.Fatalf("bulk: %s errors=%v", res.Status(), br.Errors)
		}
		body.Reset()
	}
	k := 0
	if err := bs.Scan(ctx, ledger.Query{}, func(d ledger.Deal) error {
		meta, _ := json.Marshal(map[string]any{"index": map[string]any{"_id": d.ID}})
		doc, err := es.Document(&d)
		if err != nil {
			return err
		}
		body.Write(meta)
		body.WriteByte('\n')
		body.Write(doc)
		body.WriteByte('\n')
		if k++; k%2000 == 0 {
			flush()
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	flush()
	if err := ess.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("elasticsearch: bulk-indexed %d deals in %s", k, time.Since(start).Round(time.Second))
	queries := []ledger.Query{
		{}, {Operator: "IREN 007"}, {HyperscalerOnly: true, Sort: "mw"}, {ContractType: schemas.TypeColocation, MinMW: 100},
		{Text: "childress"}, {AnnouncedFrom: "2025-01", AnnouncedTo: "2025-06", Sort: "announced"}, {Location: "texas", Hardware: "gb300"},
		{MinUSDPerMWYear: 1e6, MaxUSDPerMWYear: 2e6, Sort: "usd_per_mw_year"}, {Counterparty: "Microsoft", From: 100},
		{Text: "confirmed anthropic", Sort: "confidence", Order: "asc"},
	}
	for _, q := range queries[:4] { // the same answer from all, at this size too
		er, err1 := ess.Search(ctx, q)
		br, err2 := bs.Search(ctx, q)
		or, err3 := bb.Search(ctx, q)
		if err1 != nil || err2 != nil || err3 != nil || er.Total != br.Total || !reflect.DeepEqual(ids(er), ids(br)) || !reflect.DeepEqual(ids(or), ids(br)) {
			t.Errorf("query %+v: es %d, sqlite %d, bbolt %d (%v %v %v)", q, er.Total, br.Total, or.Total, err1, err2, err3)
		}
	}
	for _, st := range []struct {
		name string
		s    ledger.Store
	}{{"elasticsearch", ess}, {"embedded sqlite", bs}, {"embedded bbolt", bb}} {
		var ds []time.Duration
		perQuery := make([][]time.Duration, len(queries))
		for round := 0; round < 5; round++ {
			for i, q := range queries {
				t0 := time.Now()
				if _, err := st.s.Search(ctx, q); err != nil {
					t.Fatal(err)
				}
				ds = append(ds, time.Since(t0))
				perQuery[i] = append(perQuery[i], time.Since(t0))
			}
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		// Each query's median, to see which kind of query is slow.
		medians := make([]string, len(queries))
		for i, qd := range perQuery {
			sort.Slice(qd, func(a, b int) bool { return qd[a] < qd[b] })
			medians[i] = qd[len(qd)/2].Round(time.Millisecond).String()
		}
		t.Logf("%s: %d deals, %d searches (page of 50): p50 %s p95 %s; per query (median) %s", st.name, deals, len(ds),
			ds[len(ds)/2].Round(time.Millisecond), ds[len(ds)*95/100].Round(time.Millisecond), strings.Join(medians, " "))
	}
	aggregationLatency(t, ctx, ess, bs, deals)
}

// aggregationLatency checks that every aggregation gives the same result on
// both stores at this size (medians of groups of thousands of deals
// included), then measures each one's latency p50/p95 over a few queries:
// Elasticsearch with its request cache cleared before every request (and
// once cached), the embedded store, and the Go path over Elasticsearch (what
// Elasticsearch used to do).
func aggregationLatency(t *testing.T, ctx context.Context, ess *es.Store, bs ledger.EmbeddedLedger, deals int) {
	queries := []ledger.Query{{}, {HyperscalerOnly: true}, {AnnouncedFrom: "2025-01", AnnouncedTo: "2025-12"}, {ContractType: schemas.TypeColocation}}
	for _, name := range ledger.Aggregations {
		for _, q := range queries[:2] {
			ea, err1 := ledger.AggregateStore(ctx, ess, name, q)
			ba, err2 := ledger.AggregateStore(ctx, bs, name, q)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			compareAgg(t, ea, ba)
			if q.HyperscalerOnly {
				continue
			}
			largest := 0
			for _, r := range ba.Rows {
				largest = max(largest, r.USDPerMWYear.Count)
			}
			t.Logf("%s: %d groups, %d deals counted, %d skipped; largest group has %d prices", name, len(ba.Rows), ba.Deals, ba.Skipped, largest)
		}
	}
	clearCache := func() {
		c := ess.Client()
		res, err := c.Indices.ClearCache(c.Indices.ClearCache.WithIndex(ess.AliasName()), c.Indices.ClearCache.WithRequest(true), c.Indices.ClearCache.WithContext(ctx))
		if err != nil || res.IsError() {
			t.Fatalf("clearing the request cache: %v %v", err, res)
		}
		res.Body.Close()
	}
	const rounds = 5
	pct := func(ds []time.Duration) string {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return fmt.Sprintf("p50 %s p95 %s", ds[len(ds)/2].Round(time.Millisecond), ds[len(ds)*95/100].Round(time.Millisecond))
	}
	for _, name := range ledger.Aggregations {
		var esURL, cached, embedded []time.Duration
		for range rounds {
			for _, q := range queries {
				clearCache()
				t0 := time.Now()
				if _, err := ledger.AggregateStore(ctx, ess, name, q); err != nil {
					t.Fatal(err)
				}
				esURL = append(esURL, time.Since(t0))
				t0 = time.Now()
				if _, err := ledger.AggregateStore(ctx, ess, name, q); err != nil {
					t.Fatal(err)
				}
				cached = append(cached, time.Since(t0))
				t0 = time.Now()
				if _, err := ledger.AggregateStore(ctx, bs, name, q); err != nil {
					t.Fatal(err)
				}
				embedded = append(embedded, time.Since(t0))
			}
		}
		t0 := time.Now()
		if _, err := ledger.AggregateScan(ctx, ess, name, queries[0]); err != nil {
			t.Fatal(err)
		}
		scan := time.Since(t0)
		t.Logf("aggregation %-15s over %d deals, %d requests each: elasticsearch %s (request cache %s); embedded %s; Go over elasticsearch (old path, all deals) %s",
			name, deals, len(esURL), pct(esURL), pct(cached), pct(embedded), scan.Round(time.Millisecond))
	}
}

// TestAPISameOnBothStores: the HTTP API over Elasticsearch and over the
// embedded store answers the same searches and aggregations alike.
func TestAPISameOnBothStores(t *testing.T) {
	isolated(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute) // a guard: loading both stores takes ~1 min alone, several on a loaded machine
	defer cancel()
	ess, bs := searchStores(t, ctx, testkit.SampleContracts("api", 300, 9))
	esSrv := httptest.NewServer(web.NewHandler(ess, nil))
	defer esSrv.Close()
	boltSrv := httptest.NewServer(web.NewHandler(bs, nil))
	defer boltSrv.Close()
	get := func(base, path string) []byte {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: %d %v %s", path, res.StatusCode, err, b)
		}
		return b
	}
	for _, p := range []string{"", "?type=colocation&sort=mw&order=asc", "?q=texas&hyperscaler=true", "?since=2025-01&until=2025-12&sort=announced&limit=20&from=5",
		"?min-usd-per-mw-year=1000000&max-value=20000000000&location=texas"} {
		var e, b ledger.Result
		json.Unmarshal(get(esSrv.URL, "/api/deals"+p), &e)
		json.Unmarshal(get(boltSrv.URL, "/api/deals"+p), &b)
		if e.Total != b.Total || !reflect.DeepEqual(ids(e), ids(b)) || b.Total == 0 {
			t.Errorf("/api/deals%s: es %d deals, embedded %d", p, e.Total, b.Total)
		}
		for _, name := range ledger.Aggregations {
			if e, b := get(esSrv.URL, "/api/aggregations/"+name+p), get(boltSrv.URL, "/api/aggregations/"+name+p); !bytes.Equal(e, b) {
				t.Errorf("/api/aggregations/%s%s differs:\n es %s\n embedded %s", name, p, e, b)
			}
		}
		ec, bc := get(esSrv.URL, "/api/export.csv"+p), get(boltSrv.URL, "/api/export.csv"+p)
		if !bytes.Equal(ec, bc) {
			t.Errorf("/api/export.csv%s differs", p)
		}
	}
	var d ledger.Deal
	all, _ := bs.Search(ctx, ledger.Query{Size: 1})
	json.Unmarshal(get(esSrv.URL, "/api/deals/"+all.Deals[0].ID), &d)
	if d.ID != all.Deals[0].ID {
		t.Errorf("deal %s over es: %+v", all.Deals[0].ID, d)
	}
}

// aliasStore is an Elasticsearch store on an alias of its own
// (estest.Open), so that other tests' deals never show.
func aliasStore(t *testing.T, ctx context.Context, name string, log *slog.Logger) *es.Store {
	t.Helper()
	return estest.Open(t, ctx, testkit.ES(t), name, es.Config{Log: log})
}
