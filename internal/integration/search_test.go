package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/indexer"
	"github.com/mwledger/mwledger/internal/testenv"
	"github.com/mwledger/mwledger/internal/web"
	"github.com/mwledger/mwledger/schemas"
)

// searchStores loads the same generated records into a fresh Elasticsearch
// alias (its own, so other tests' deals never show) and a temporary bbolt file.
func searchStores(t *testing.T, ctx context.Context, recs []schemas.Contract) (*indexer.ESStore, *indexer.BoltStore) {
	t.Helper()
	es := testenv.ES(t)
	alias := fmt.Sprintf("mwledger-contracts-search-%d", time.Now().UnixNano())
	ess, err := indexer.NewESStore(indexer.ESConfig{Addresses: []string{es}, Alias: alias})
	if err != nil {
		t.Fatal(err)
	}
	if err := ess.EnsureIndex(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c := ess.Client()
		if res, err := c.Indices.Delete([]string{alias + "-v*"}); err == nil {
			res.Body.Close()
		}
	})
	bs, err := indexer.OpenBolt(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	const batch = 500
	for i := 0; i < len(recs); i += batch {
		part := recs[i:min(i+batch, len(recs))]
		for _, s := range []indexer.Store{ess, bs} {
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

func ids(r indexer.Result) []string {
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
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// More than one Scan batch (1000 deals), so search_after paging is exercised.
	recs := web.SampleContracts("srch", 1400, 7)
	ess, bs := searchStores(t, ctx, recs)

	all, err := bs.Search(ctx, indexer.Query{Size: 1})
	if err != nil || all.Total < 1050 {
		t.Fatalf("embedded store holds %d deals (%v), want ≥ 1050", all.Total, err)
	}
	tests := []struct {
		name     string
		q        indexer.Query
		nonEmpty bool
	}{
		{"everything by value", indexer.Query{Size: 100}, true},
		{"second page", indexer.Query{Size: 25, From: 25}, true},
		{"operator by name", indexer.Query{Operator: "iren", Size: 500}, true},
		{"operator by ticker", indexer.Query{Operator: "HUT", Size: 500}, true},
		{"counterparty", indexer.Query{Counterparty: "microsoft", Size: 500}, true},
		{"undisclosed counterparty", indexer.Query{Counterparty: "investment-grade hyperscaler", Size: 500}, true},
		{"type", indexer.Query{ContractType: schemas.TypeBareMetal, Size: 500}, true},
		{"hyperscaler only", indexer.Query{HyperscalerOnly: true, Size: 500}, true},
		{"MW range", indexer.Query{MinMW: 100, MaxMW: 400, Sort: "mw", Size: 500}, true},
		{"$/MW/year range", indexer.Query{MinUSDPerMWYear: 1e6, MaxUSDPerMWYear: 5e6, Sort: "usd_per_mw_year", Size: 500}, true},
		{"value range", indexer.Query{MinValue: 1e9, MaxValue: 20e9, Size: 500}, true},
		{"min value only", indexer.Query{MinValue: 50e9, Size: 500}, false},
		{"announced in 2025", indexer.Query{AnnouncedFrom: "2025-01", AnnouncedTo: "2025-12", Sort: "announced", Size: 500}, true},
		{"announced one month (day bounds)", indexer.Query{AnnouncedFrom: "2025-03-01", AnnouncedTo: "2025-03-31", Size: 500}, true},
		{"announced mid-month", indexer.Query{AnnouncedFrom: "2024-06-15", AnnouncedTo: "2024-09", Sort: "announced", Order: "asc", Size: 500}, true},
		{"location substring", indexer.Query{Location: "texas", Size: 500}, true},
		{"hardware substring", indexer.Query{Hardware: "gb", Size: 500}, true},
		{"free text in evidence", indexer.Query{Text: "childress", Size: 500}, true},
		{"free text in a source title", indexer.Query{Text: "update fluidstack", Size: 500}, true},
		{"free text, two words in different fields", indexer.Query{Text: "confirmed colocation", Size: 500}, true},
		{"free text, no match", indexer.Query{Text: "zeppelin", Size: 500}, false},
		{"combined filters", indexer.Query{HyperscalerOnly: true, ContractType: schemas.TypeColocation, MinMW: 50, Location: "Texas", Sort: "mw", Order: "asc", Size: 500}, true},
		{"sort by confidence", indexer.Query{Sort: "confidence", Size: 200}, true},
		{"sort ascending with missing values", indexer.Query{Sort: "value", Order: "asc", Size: 700}, true},
		{"sort announced, missing last", indexer.Query{Sort: "announced", Size: 700}, true},
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
	for _, q := range []indexer.Query{{}, {Sort: "announced", Order: "asc"}, {Sort: "usd_per_mw_year"}, {HyperscalerOnly: true, Sort: "confidence"}} {
		t.Run(fmt.Sprintf("scan %+v", q), func(t *testing.T) {
			scan := func(s indexer.Scanner) []string {
				var out []string
				if err := s.Scan(ctx, q, func(d indexer.Deal) error { out = append(out, d.ID); return nil }); err != nil {
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
	for _, name := range indexer.Aggregations {
		t.Run("aggregation "+name, func(t *testing.T) {
			q := indexer.Query{}
			ea, err := indexer.AggregateStore(ctx, ess, name, q)
			if err != nil {
				t.Fatal(err)
			}
			ba, err := indexer.AggregateStore(ctx, bs, name, q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ea, ba) {
				t.Errorf("aggregations differ:\n es       %+v\n embedded %+v", ea, ba)
			}
			if len(ba.Rows) == 0 {
				t.Error("no rows")
			}
		})
	}
}

func head(s []string) []string {
	if len(s) > 12 {
		return append(s[:12:12], "…")
	}
	return s
}

// TestSearchLatency measures search latency p50/p95 on both stores over
// MWLEDGER_SEARCH_BENCH_DEALS generated records (skipped unless set). The
// records go through the embedded store's Upsert (identity resolution and
// merge); its deal documents are then bulk-indexed into Elasticsearch as they
// are (the ES Upsert path resolves identity per batch and is too slow to load
// 100,000 deals in a test), so both stores hold the same documents.
func TestSearchLatency(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("MWLEDGER_SEARCH_BENCH_DEALS"))
	if n == 0 {
		t.Skip("set MWLEDGER_SEARCH_BENCH_DEALS=N to measure search latency on N generated deals")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	es := testenv.ES(t)
	alias := fmt.Sprintf("mwledger-contracts-latency-%d", time.Now().UnixNano())
	ess, err := indexer.NewESStore(indexer.ESConfig{Addresses: []string{es}, Alias: alias})
	if err != nil {
		t.Fatal(err)
	}
	if err := ess.EnsureIndex(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if res, err := ess.Client().Indices.Delete([]string{alias + "-v*"}); err == nil {
			res.Body.Close()
		}
	})
	bs, err := indexer.OpenBolt(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer bs.Close()
	start := time.Now()
	recs := web.SampleContracts("lat", n, 11)
	// Identity resolution compares a record with every deal of its operator:
	// spread the generated deals over many operators ("IREN 017") so that
	// loading stays linear and the deals stay distinct.
	for i := range recs {
		k, _ := strconv.Atoi(strings.TrimPrefix(recs[i].ID, "lat-"))
		recs[i].Operator.Name = fmt.Sprintf("%s %03d", recs[i].Operator.Name, k%(n/40+1))
	}
	for i := 0; i < len(recs); i += 2000 {
		for _, err := range bs.Upsert(ctx, recs[i:min(i+2000, len(recs))]) {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	deals, _ := bs.Count()
	t.Logf("embedded: %d records → %d deals in %s", len(recs), deals, time.Since(start).Round(time.Second))
	start = time.Now()
	var body bytes.Buffer
	flush := func() {
		if body.Len() == 0 {
			return
		}
		res, err := ess.Client().Bulk(bytes.NewReader(body.Bytes()), ess.Client().Bulk.WithIndex(alias), ess.Client().Bulk.WithContext(ctx))
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
	if err := bs.Scan(ctx, indexer.Query{}, func(d indexer.Deal) error {
		meta, _ := json.Marshal(map[string]any{"index": map[string]any{"_id": d.ID}})
		doc, err := json.Marshal(d)
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
	queries := []indexer.Query{
		{}, {Operator: "IREN 007"}, {HyperscalerOnly: true, Sort: "mw"}, {ContractType: schemas.TypeColocation, MinMW: 100},
		{Text: "childress"}, {AnnouncedFrom: "2025-01", AnnouncedTo: "2025-06", Sort: "announced"}, {Location: "texas", Hardware: "gb300"},
		{MinUSDPerMWYear: 1e6, MaxUSDPerMWYear: 2e6, Sort: "usd_per_mw_year"}, {Counterparty: "Microsoft", From: 100},
		{Text: "confirmed anthropic", Sort: "confidence", Order: "asc"},
	}
	for _, q := range queries[:4] { // the same answer from both, at this size too
		er, err1 := ess.Search(ctx, q)
		br, err2 := bs.Search(ctx, q)
		if err1 != nil || err2 != nil || er.Total != br.Total || !reflect.DeepEqual(ids(er), ids(br)) {
			t.Errorf("query %+v: es %d, embedded %d (%v %v)", q, er.Total, br.Total, err1, err2)
		}
	}
	for _, st := range []struct {
		name string
		s    indexer.Store
	}{{"elasticsearch", ess}, {"embedded", bs}} {
		var ds []time.Duration
		for round := 0; round < 5; round++ {
			for _, q := range queries {
				t0 := time.Now()
				if _, err := st.s.Search(ctx, q); err != nil {
					t.Fatal(err)
				}
				ds = append(ds, time.Since(t0))
			}
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		t.Logf("%s: %d deals, %d searches (page of 50): p50 %s p95 %s", st.name, deals, len(ds), ds[len(ds)/2].Round(time.Millisecond), ds[len(ds)*95/100].Round(time.Millisecond))
		t0 := time.Now()
		if _, err := indexer.AggregateStore(ctx, st.s.(indexer.Scanner), "by-type", indexer.Query{}); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: aggregation by-type over all %d deals: %s", st.name, deals, time.Since(t0).Round(time.Millisecond))
	}
}

// TestAPISameOnBothStores: the HTTP API over Elasticsearch and over the
// embedded store answers the same searches and aggregations alike.
func TestAPISameOnBothStores(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ess, bs := searchStores(t, ctx, web.SampleContracts("api", 300, 9))
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
		var e, b indexer.Result
		json.Unmarshal(get(esSrv.URL, "/api/deals"+p), &e)
		json.Unmarshal(get(boltSrv.URL, "/api/deals"+p), &b)
		if e.Total != b.Total || !reflect.DeepEqual(ids(e), ids(b)) || b.Total == 0 {
			t.Errorf("/api/deals%s: es %d deals, embedded %d", p, e.Total, b.Total)
		}
		for _, name := range indexer.Aggregations {
			if e, b := get(esSrv.URL, "/api/aggregations/"+name+p), get(boltSrv.URL, "/api/aggregations/"+name+p); !bytes.Equal(e, b) {
				t.Errorf("/api/aggregations/%s%s differs:\n es %s\n embedded %s", name, p, e, b)
			}
		}
		ec, bc := get(esSrv.URL, "/api/export.csv"+p), get(boltSrv.URL, "/api/export.csv"+p)
		if !bytes.Equal(ec, bc) {
			t.Errorf("/api/export.csv%s differs", p)
		}
	}
	var d indexer.Deal
	all, _ := bs.Search(ctx, indexer.Query{Size: 1})
	json.Unmarshal(get(esSrv.URL, "/api/deals/"+all.Deals[0].ID), &d)
	if d.ID != all.Deals[0].ID {
		t.Errorf("deal %s over es: %+v", all.Deals[0].ID, d)
	}
}
