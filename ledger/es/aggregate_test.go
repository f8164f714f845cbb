package es

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/schemas"
)

func TestESDocument(t *testing.T) {
	plain := aggDeal("p", "IREN", "NVIDIA", false, schemas.TypeCloudServices, 60, 3.4e9, 11.33e6, "2026-05")
	upsized := aggDeal("u", "IREN", "Microsoft", true, schemas.TypeBareMetal, 200, 9.7e9, 9.7e6, "2025-11-03")
	upsized.Current = &ledger.Figures{CapacityMW: f(350), TermYears: f(7)} // the value did not change
	cancelled := aggDeal("c", "IREN", "Meta", true, schemas.TypeColocation, 300, 1e9, 1, "")
	cancelled.Status = ledger.StatusCancelled
	whole := aggDeal("w", "IREN", "Oracle", true, schemas.TypeColocation, 200, 5e9, 1, "")
	whole.Aggregate, whole.Parts = true, []string{"a", "b"}
	guaranteed := aggDeal("g", "TeraWulf", "Fluidstack", false, schemas.TypeColocation, 168, 3.8e9, 1.5e6, "")
	guaranteed.Guarantor = &schemas.Party{Name: "Google"}
	cloud := aggDeal("d", "Applied Digital", "", false, schemas.TypeColocation, 0, 0, 0, "")
	cloud.Counterparty = schemas.Counterparty{Descriptor: s("a large Cloud provider")}
	cloud.CapacityMW, cloud.TotalValueUSD, cloud.USDPerMWYear = nil, nil, nil
	tests := []struct {
		name string
		d    ledger.Deal
		want ledger.AggFacts
	}{
		{"plain", plain, ledger.AggFacts{MW: f(60), ValueUSD: f(3.4e9), Counterparty: "NVIDIA"}},
		{"current figures after an upsize", upsized, ledger.AggFacts{MW: f(350), ValueUSD: f(9.7e9), HyperscalerGrade: true, Counterparty: "Microsoft"}},
		{"cancelled", cancelled, ledger.AggFacts{Skip: true, MW: f(300), ValueUSD: f(1e9), HyperscalerGrade: true, Counterparty: "Meta"}},
		{"aggregate with parts", whole, ledger.AggFacts{Skip: true, MW: f(200), ValueUSD: f(5e9), HyperscalerGrade: true, Counterparty: "Oracle"}},
		{"guaranteed", guaranteed, ledger.AggFacts{MW: f(168), ValueUSD: f(3.8e9), HyperscalerGrade: true, Counterparty: "Fluidstack"}},
		{"undisclosed cloud provider, no figures", cloud, ledger.AggFacts{HyperscalerGrade: true, Counterparty: "a large Cloud provider"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Document(&tt.d)
			if err != nil {
				t.Fatal(err)
			}
			plain, _ := json.Marshal(tt.d)
			// The deal's JSON exactly as the embedded store writes it, then agg.
			prefix := append(bytes.Clone(bytes.TrimSuffix(plain, []byte("}"))), `,"agg":`...)
			if !bytes.HasPrefix(doc, prefix) {
				t.Fatalf("document does not start with the deal's JSON:\n%s\n%s", doc, plain)
			}
			var got struct {
				Agg ledger.AggFacts `json:"agg"`
			}
			if err := json.Unmarshal(doc, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Agg, tt.want) {
				t.Errorf("agg %s, want %+v", doc[len(prefix):], tt.want)
			}
		})
	}
}

func TestWithAggFields(t *testing.T) {
	d := aggDeal("u", "IREN", "Microsoft", true, schemas.TypeBareMetal, 200, 9.7e9, 9.7e6, "2025-11-03")
	d.Current = &ledger.Figures{CapacityMW: f(350)}
	d.Confidence = 0.9 // not for review: nothing else to add
	plain, _ := json.Marshal(d)
	stale := append(bytes.Clone(bytes.TrimSuffix(plain, []byte("}"))), `,"agg":{"skip":true,"mw":1,"value_usd":null,"hyperscaler_grade":false,"counterparty":"x"}}`...)
	for name, src := range map[string][]byte{"older mapping, no agg": plain, "stale agg": stale} {
		t.Run(name, func(t *testing.T) {
			out, err := withAggFields(src)
			if err != nil {
				t.Fatal(err)
			}
			// The names' keys are written too (documents of older mappings
			// may lack them).
			keyed := d
			ledger.SetKeys(&keyed.Contract)
			if keyed.Operator.Key != "iren" || keyed.Counterparty.Key != "microsoft" {
				t.Fatalf("keys %q, %q", keyed.Operator.Key, keyed.Counterparty.Key)
			}
			wantDoc, _ := json.Marshal(keyed)
			var got, want map[string]any
			json.Unmarshal(out, &got)
			json.Unmarshal(wantDoc, &want)
			agg, _ := got["agg"].(map[string]any)
			if agg["mw"] != 350.0 || agg["skip"] != false || agg["counterparty"] != "Microsoft" || agg["hyperscaler_grade"] != true {
				t.Errorf("agg %v", agg)
			}
			delete(got, "agg")
			if !reflect.DeepEqual(got, want) {
				t.Errorf("other fields changed:\n%s\n%s", out, wantDoc)
			}
		})
	}
	if _, err := withAggFields([]byte(`{"id":`)); err == nil {
		t.Error("broken document accepted")
	}
	// A deal of an older mapping with conflicting sources joins the review queue.
	d.Conflicts = []string{"term_years"}
	old, _ := json.Marshal(d)
	out, err := withAggFields(old)
	if err != nil {
		t.Fatal(err)
	}
	var got ledger.Deal
	if err := json.Unmarshal(out, &got); err != nil || !reflect.DeepEqual(got.ReviewReasons, []string{"conflicts: term_years"}) {
		t.Errorf("review_reasons %v (%v); want the conflict", got.ReviewReasons, err)
	}
}

// TestTemplateMapsAggFields: the strict mapping knows every field of agg, with
// the types the aggregations need.
func TestTemplateMapsAggFields(t *testing.T) {
	var tmpl struct {
		Template struct {
			Mappings struct {
				Properties map[string]struct {
					Properties map[string]struct {
						Type string `json:"type"`
					} `json:"properties"`
				} `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(schemas.IndexTemplate(), &tmpl); err != nil {
		t.Fatal(err)
	}
	mapped := map[string]string{}
	for k, v := range tmpl.Template.Mappings.Properties["agg"].Properties {
		mapped[k] = v.Type
	}
	want := map[string]string{"skip": "boolean", "mw": "double", "value_usd": "double", "hyperscaler_grade": "boolean", "counterparty": "keyword"}
	if !reflect.DeepEqual(mapped, want) {
		t.Errorf("agg mapping %v, want %v", mapped, want)
	}
	var fields map[string]any
	b, _ := json.Marshal(ledger.AggFacts{})
	json.Unmarshal(b, &fields)
	for k := range fields {
		if _, ok := want[k]; !ok {
			t.Errorf("agg field %s is not mapped", k)
		}
	}
}

// TestESAggBody: the requests use no scripts (our Elasticsearch has no
// Painless), page with after_key, and count the deals on the first page only.
func TestESAggBody(t *testing.T) {
	for _, name := range ledger.Aggregations {
		first, _ := json.Marshal(esAggBody(name, ledger.Query{Text: "texas", HyperscalerOnly: true}, 100, 5000, nil))
		next, _ := json.Marshal(esAggBody(name, ledger.Query{}, 100, 5000, json.RawMessage(`{"key":"IREN"}`)))
		for _, b := range [][]byte{first, next} {
			if bytes.Contains(b, []byte(`"script"`)) || bytes.Contains(b, []byte(`"runtime_mappings"`)) {
				t.Errorf("%s: request uses a script: %s", name, b)
			}
		}
		if !bytes.Contains(first, []byte(`"legacy"`)) || bytes.Contains(next, []byte(`"legacy"`)) || !bytes.Contains(next, []byte(`"after":{"key":"IREN"}`)) {
			t.Errorf("%s: pages\n%s\n%s", name, first, next)
		}
		if !bytes.Contains(first, []byte(`"compression":5000`)) || !bytes.Contains(first, []byte(`"counterparty.hyperscaler":true`)) {
			t.Errorf("%s: first page %s", name, first)
		}
		if tiers := bytes.Contains(first, []byte(`"agg.hyperscaler_grade"`)); tiers != (name == "tiers") {
			t.Errorf("%s: hyperscaler grade filter %v", name, tiers)
		}
	}
}

func TestESAggBucketRow(t *testing.T) {
	const resp = `{"aggregations":{"legacy":{"doc_count":0},"skipped":{"doc_count":3},"counted":{"doc_count":5,"groups":{"after_key":{"key":null},"buckets":[
	 {"key":{"key":1759276800000},"doc_count":3,"mw":{"value":450.5},"value":{"value":1.2E10},
	  "price":{"count":2,"min":1000000.0,"max":3000000.0,"avg":2000000.004999,"sum":4000000.009998},
	  "median":{"values":[{"key":50.0,"value":2000000.0049990001}]},
	  "grade":{"doc_count":0,"mw":{"value":0.0}}},
	 {"key":{"key":null},"doc_count":2,"mw":{"value":0.0},"value":{"value":0.0},
	  "price":{"count":0,"min":null,"max":null,"avg":null,"sum":0.0},"median":{"values":[{"key":50.0,"value":null}]},
	  "grade":{"doc_count":1,"mw":{"value":12.5}}}]}}}}`
	var r esAggResponse
	if err := json.Unmarshal([]byte(resp), &r); err != nil {
		t.Fatal(err)
	}
	a := r.Aggregations
	if a.Skipped.DocCount != 3 || a.Counted.DocCount != 5 || string(a.Counted.Groups.AfterKey) != `{"key":null}` {
		t.Errorf("counts %+v", a)
	}
	b := a.Counted.Groups.Buckets
	q, err := b[0].row("by-quarter")
	if err != nil {
		t.Fatal(err)
	}
	st := q.USDPerMWYear
	if q.Key != "2025-Q4" || q.Deals != 3 || q.MW != 450.5 || q.ValueUSD != 1.2e10 || st.Count != 2 || *st.Mean != 2000000.0 ||
		*st.Median != 2000000.0049990001 || *st.Min != 1e6 || *st.Max != 3e6 || q.Tier != 0 || q.Counterparties != nil {
		t.Errorf("quarter row %+v %s", q, aggRowJSON(q))
	}
	unknown, _ := b[1].row("by-quarter")
	if unknown.Key != "unknown" || unknown.USDPerMWYear.Count != 0 || unknown.USDPerMWYear.Mean != nil || unknown.USDPerMWYear.Median != nil {
		t.Errorf("missing quarter row %s", aggRowJSON(unknown))
	}
	tier2, _ := b[0].row("tiers")
	tier1, _ := b[1].row("tiers")
	if tier2.Tier != 2 || tier2.HyperscalerMW != 0 || tier1.Tier != 1 || tier1.HyperscalerMW != 12.5 || tier1.Key != "" {
		t.Errorf("tiers rows %s %s", aggRowJSON(tier2), aggRowJSON(tier1))
	}
	if _, err := (esAggBucket{Key: map[string]any{"key": true}}).row("by-type"); err == nil || !strings.Contains(err.Error(), "unexpected group key") {
		t.Errorf("boolean key: %v", err)
	}
}

func aggRowJSON(r ledger.AggRow) string {
	b, _ := json.Marshal(r)
	return string(b)
}

// TestESAggregatePages runs Aggregate against a fake Elasticsearch: it
// pages through the groups (and, for tiers, the operator-counterparty pairs)
// with after_key, halves a page that has too many buckets, and asks again
// with a larger compression when a group has too many prices for an exact
// median.
func TestESAggregatePages(t *testing.T) {
	const groups, maxPage, bigGroup = 200, 100, 100_001
	var sizes, compressions []int
	pairRequests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		type composite struct {
			Size  int               `json:"size"`
			After map[string]string `json:"after"`
		}
		var req struct {
			Aggs struct {
				Legacy  *json.RawMessage `json:"legacy"`
				Counted struct {
					Aggs struct {
						Pairs *struct {
							Composite composite `json:"composite"`
						} `json:"pairs"`
						Groups struct {
							Composite composite `json:"composite"`
							Aggs      struct {
								Median struct {
									Percentiles struct {
										TDigest struct {
											Compression int `json:"compression"`
										} `json:"tdigest"`
									} `json:"percentiles"`
								} `json:"median"`
							} `json:"aggs"`
						} `json:"groups"`
					} `json:"aggs"`
				} `json:"counted"`
			} `json:"aggs"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		if p := req.Aggs.Counted.Aggs.Pairs; p != nil {
			// Two counterparties per operator: "x" and "".
			pairRequests++
			var buckets []string
			after := p.Composite.After["op"] + "\x00" + p.Composite.After["cp"]
			for i := 0; i < groups && len(buckets) < p.Composite.Size; i++ {
				for _, cp := range []string{"", "x"} {
					op := fmt.Sprintf("g%03d", i)
					if op+"\x00"+cp > after && len(buckets) < p.Composite.Size {
						buckets = append(buckets, fmt.Sprintf(`{"key":{"op":%q,"cp":%q},"doc_count":1}`, op, cp))
					}
				}
			}
			last := buckets[len(buckets)-1]
			fmt.Fprintf(w, `{"aggregations":{"counted":{"doc_count":400,"pairs":{"after_key":%s,"buckets":[%s]}}}}`,
				last[len(`{"key":`):strings.Index(last, `,"doc_count"`)], strings.Join(buckets, ","))
			return
		}
		g := req.Aggs.Counted.Aggs.Groups
		size, after := g.Composite.Size, g.Composite.After["key"]
		sizes = append(sizes, size)
		compressions = append(compressions, g.Aggs.Median.Percentiles.TDigest.Compression)
		if size > maxPage {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":{"root_cause":[{"type":"too_many_buckets_exception"}]},"status":400}`)
			return
		}
		var buckets []string
		last := ""
		for i := 0; i < groups && len(buckets) < size; i++ {
			key := fmt.Sprintf("g%03d", i)
			if key <= after {
				continue
			}
			prices := 1
			if i == 5 {
				prices = bigGroup
			}
			buckets = append(buckets, fmt.Sprintf(`{"key":{"key":%q},"doc_count":2,"mw":{"value":%d},"value":{"value":0},
				"price":{"count":%d,"min":1,"max":3,"avg":2,"sum":4},"median":{"values":[{"key":50,"value":2}]},
				"grade":{"doc_count":%d,"mw":{"value":%d}}}`, key, i, prices, i%2, i%2*i))
			last = key
		}
		counts := ""
		if req.Aggs.Legacy != nil {
			counts = `"legacy":{"doc_count":0},"skipped":{"doc_count":7},`
		}
		fmt.Fprintf(w, `{"aggregations":{%s"counted":{"doc_count":400,"groups":{"after_key":{"key":%q},"buckets":[%s]}}}}`, counts, last, strings.Join(buckets, ","))
	}))
	defer srv.Close()
	s, err := New(Config{Addresses: []string{srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ledger.AggregateStore(t.Context(), s, "by-operator", ledger.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Deals != 400 || res.Skipped != 7 || len(res.Rows) != groups || res.Rows[0].Key != "g199" || res.Rows[groups-1].Key != "g000" {
		t.Fatalf("%d deals, %d skipped, %d rows from %v to %v", res.Deals, res.Skipped, len(res.Rows), res.Rows[0], res.Rows[len(res.Rows)-1])
	}
	// Halved until a page is small enough; the first page that is shows that
	// group 5 needs compression 5001; then all groups again in pages of 64.
	var want []int
	page := esAggPage
	for ; page > maxPage; page /= 2 {
		want = append(want, page)
	}
	want = append(want, page)
	for range (groups + page) / page {
		want = append(want, page)
	}
	if !reflect.DeepEqual(sizes, want) {
		t.Errorf("page sizes %v, want %v", sizes, want)
	}
	if c := compressions[len(compressions)-1]; c != bigGroup/20+1 || compressions[0] != esAggCompression {
		t.Errorf("compressions %v; want %d, then %d for a group of %d prices", compressions, esAggCompression, bigGroup/20+1, bigGroup)
	}

	tiers, err := ledger.AggregateStore(t.Context(), s, "tiers", ledger.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tiers.Rows) != groups || pairRequests != (2*groups+page)/page {
		t.Fatalf("%d rows after %d pair requests", len(tiers.Rows), pairRequests)
	}
	// Tier 1 (odd groups, by hyperscaler MW) first, then tier 2 by MW.
	if r := tiers.Rows[0]; r.Key != "g199" || r.Tier != 1 || r.HyperscalerMW != 199 || tiers.Rows[100].Key != "g198" || tiers.Rows[100].Tier != 2 {
		t.Errorf("tiers rows %s … %s", aggRowJSON(r), aggRowJSON(tiers.Rows[100]))
	}
	for _, r := range tiers.Rows {
		if !reflect.DeepEqual(r.Counterparties, []string{"", "x"}) {
			t.Fatalf("%s: counterparties %q", r.Key, r.Counterparties)
		}
	}
}
