package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/mwledger/mwledger/schemas"
)

// Identity compares counterparty labels by their keys (schemas.Key), as the
// stores look them up (counterparty.key): case, width, spaces and
// punctuation aside, a label is the same label.
func TestCounterpartyLabelsMatchByKey(t *testing.T) {
	deal := func(label string) *Deal {
		d := &Deal{}
		d.Operator.Name = "IREN"
		d.Counterparty.Name = &label
		mw := 200.0
		d.CapacityMW = &mw
		return d
	}
	rec := func(label string) schemas.Contract {
		var c schemas.Contract
		c.Operator.Name = "IREN"
		c.Counterparty.Name = &label
		mw := 200.0
		c.CapacityMW = &mw
		return c
	}
	for _, a := range trickyLabels {
		for _, b := range trickyLabels {
			_, same, ok := candidate(deal(a), rec(b))
			want := schemas.Key(a) == schemas.Key(b)
			if same != want || ok != want {
				t.Errorf("stored %q, record %q: same %v, candidate %v; keys %q, %q", a, b, same, ok, schemas.Key(a), schemas.Key(b))
			}
		}
	}
	for _, p := range [][2]string{{"Core42", "CORE 42"}, {"Ｍｉｃｒｏｓｏｆｔ", "microsoft"}, {"Nebius B.V.", "nebius bv"}} {
		if _, same, _ := candidate(deal(p[0]), rec(p[1])); !same {
			t.Errorf("%q and %q: not the same counterparty", p[0], p[1])
		}
	}
}

// trickyLabels are labels whose keys are hard to get right.
var trickyLabels = []string{"Microsoft", "MICROSOFT", "microsoft", "Micro$oft", "\u212Aelvin", "kelvin", "KELVIN", "ſtar", "STAR",
	"Σίσυφος", "σίσυφοσ", "ΣΊΣΥΦΟΣ", "İstanbul", "istanbul", "ıstanbul", "ISTANBUL", "Straße", "STRAẞE", "straße", "µ-cloud", "μ-CLOUD",
	"", "a.b(c)[d]{e}*+?|\\^$", "A.B(C)[D]{E}*+?|\\^$", "x\xffy", "x\xfey", "x\uFFFDy", "\u00c5ngstr\u00f6m", "\u212Bngstr\u00d6m"}

func TestAgreeRangeHoldsEveryAgreeingValue(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	values := []float64{0, math.Copysign(0, -1), 1, -1, 200, 9.7e9, 5e-324, math.MaxFloat64, -math.MaxFloat64, 1e-300, 123.456}
	for range 2000 {
		values = append(values, math.Exp(r.Float64()*60-20)*float64(1-2*r.IntN(2)))
	}
	for _, v := range values {
		lo, hi, ok := agreeRange(v)
		if !ok {
			t.Fatalf("agreeRange(%g): none", v)
		}
		// Values at and around the tolerance's edges, and random ones near v.
		cands := []float64{v, v * 0.95, v / 0.95, v * 0.9499999, v / 0.9499999, math.Nextafter(v*0.95, 0), math.Nextafter(v/0.95, math.Inf(1)), 0, -v}
		for range 50 {
			cands = append(cands, v*(0.9+0.2*r.Float64()))
		}
		for _, k := range cands {
			if within(k, v, figureTolerance) && (k < lo || k > hi) {
				t.Fatalf("within(%g, %g) but outside [%g, %g]", k, v, lo, hi)
			}
		}
		if v > 1e-300 && (lo > v*0.95 || hi < v/0.95 || lo < v*0.94 || hi > v/0.94) {
			t.Errorf("agreeRange(%g) = [%g, %g]: want about [0.95 v, v/0.95]", v, lo, hi)
		}
	}
	if _, _, ok := agreeRange(math.NaN()); ok {
		t.Error("NaN agrees with nothing, yet has a range")
	}
	if lo, hi, ok := agreeRange(math.Inf(1)); !ok || !math.IsInf(lo, -1) || !math.IsInf(hi, 1) || !within(5, math.Inf(1), figureTolerance) {
		t.Errorf("+Inf agrees with every finite value (within says %v): range [%g, %g]", within(5, math.Inf(1), figureTolerance), lo, hi)
	}
}

// oldResolve is resolve as it was when both stores loaded every deal of the
// batch's operators: it looks at all of w, in id order.
func oldResolve(w *Working, c schemas.Contract) (string, string) {
	if _, ok := w.deals[c.ID]; ok {
		return c.ID, "id"
	}
	ids := make([]string, 0, len(w.deals))
	for id := range w.deals {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if contains(w.deals[id].RecordIDs, c.ID) {
			return id, "record_id"
		}
	}
	return w.best(ids, c)
}

// refLedger is the reference: a ledger in memory whose Upsert loads every
// deal of the batch's operators (by key, schemas.Key, as both stores read
// them), the deals of the records' ids and those holding them, and resolves
// with oldResolve. Deals are kept as JSON round trips, as the stores keep them.
type refLedger struct {
	deals map[string]*Deal
}

func roundTrip(t *testing.T, d *Deal) *Deal {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var out Deal
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	out.ID = d.ID
	return &out
}

// upsert returns the deal each record resolved to and the ids written.
func (r *refLedger) upsert(t *testing.T, cs []schemas.Contract, now time.Time) (resolved, written []string) {
	ops, rids := map[string]bool{}, map[string]bool{}
	for _, c := range cs {
		ops[schemas.Key(c.Operator.Name)], rids[c.ID] = true, true
	}
	w := newWorking()
	for id, d := range r.deals {
		load := rids[id] || ops[schemas.Key(d.Operator.Name)]
		for _, rid := range d.RecordIDs {
			load = load || rids[rid]
		}
		if load {
			w.load(d)
		}
	}
	for _, c := range cs {
		id, how := oldResolve(w, c)
		m := merge(w.deals[id], id, c, how, now)
		w.deals[id] = &m
		w.touched[id] = true
		resolved = append(resolved, id)
	}
	written = w.finish(nil, now)
	for _, id := range written {
		r.deals[id] = roundTrip(t, w.deals[id])
	}
	return resolved, written
}

// mixedStream is n records meant to collide: a few operators (one spelled
// three ways), counterparties in several cases and scripts or undisclosed
// with varying descriptors, figures on a coarse grid with noise (often
// missing), aggregates summing two grid capacities, upsize events, record
// ids and URLs seen before. Without spellings, each operator is spelled one way.
func mixedStream(seed uint64, n int, spellings bool) []schemas.Contract {
	r := rand.New(rand.NewPCG(seed, 0x1d))
	ops := []string{"IREN", "IREN", "Hut 8", "Hut 8", "Hut8", "Cipher Mining", "TeraWulf", "TeraWulf", "terawulf"}
	if !spellings {
		ops[4], ops[8] = "Hut 8", "TeraWulf"
	}
	named := []string{"Microsoft", "Microsoft", "microsoft", "MICROSOFT", "Amazon", "Google", "Ωmega", "ΩMEGA", "\u212Aelvin Labs", "kelvin labs", "İstanbul DC", "istanbul dc"}
	descs := []string{"investment-grade hyperscaler", "Investment-Grade Hyperscaler", "a hyperscaler", ""}
	caps := []float64{100, 102, 104, 110, 120, 200, 205, 300, 301, 500}
	vals := []float64{1e9, 1.03e9, 1.1e9, 2e9, 2.05e9, 3e9, 5e9}
	var out []schemas.Contract
	var ids, urls []string
	for i := range n {
		c := schemas.Contract{SchemaVersion: 1, Operator: schemas.Operator{Name: ops[r.IntN(len(ops))]}, ContractType: schemas.TypeColocation,
			Terms: []string{}, Evidence: []string{fmt.Sprintf("e%d", i)}, Confidence: 0.5 + r.Float64()/2, ExtractorVersion: "t"}
		if len(ids) > 0 && r.IntN(10) < 2 {
			c.ID = ids[r.IntN(len(ids))]
		} else {
			c.ID = fmt.Sprintf("mx%d-%d", seed, i)
			ids = append(ids, c.ID)
		}
		if len(urls) > 0 && r.IntN(10) < 2 {
			c.Source.URL = urls[r.IntN(len(urls))]
		} else {
			c.Source.URL = fmt.Sprintf("https://mx%d.example/%d", seed, i)
			urls = append(urls, c.Source.URL)
		}
		if r.IntN(10) < 2 {
			o := "Newswire"
			c.Source.Outlet = &o
		}
		if r.IntN(20) < 13 {
			name := named[r.IntN(len(named))]
			c.Counterparty.Name = &name
		} else if d := descs[r.IntN(len(descs))]; d != "" {
			c.Counterparty.Descriptor = &d
		}
		if r.IntN(20) < 17 {
			v := caps[r.IntN(len(caps))] * (1 + (r.Float64()-0.5)*0.03)
			c.CapacityMW = &v
		}
		if r.IntN(10) < 6 {
			v := vals[r.IntN(len(vals))] * (1 + (r.Float64()-0.5)*0.03)
			c.TotalValueUSD = &v
		}
		if r.IntN(25) == 0 {
			c.Aggregate = true
			v := caps[r.IntN(len(caps))] + caps[r.IntN(len(caps))]
			c.CapacityMW = &v
		}
		if r.IntN(20) == 0 && c.CapacityMW != nil {
			nv := *c.CapacityMW * 1.5
			c.Event = &schemas.Event{Type: schemas.EventUpsize, NewCapacityMW: &nv}
		}
		out = append(out, c)
	}
	return out
}

// identityStream is the stream of the equivalence tests: the mixed records
// (mixedStream(seed, …)) interleaved with genStream's (replays, other
// articles, new deals) over a generated ledger of n deals and ops operators.
func identityStream(seed uint64, n, ops, records int, spellings bool) []schemas.Contract {
	mixed := mixedStream(seed, records/2, spellings)
	var out []schemas.Contract
	for j := range records - len(mixed) {
		out = append(out, genStream(j, n, ops))
		if j < len(mixed) {
			out = append(out, mixed[j])
		}
	}
	return out
}

// batches cuts the stream into batches of 1 to 120 records.
func batches(cs []schemas.Contract) [][]schemas.Contract {
	r := rand.New(rand.NewPCG(3, 4))
	var out [][]schemas.Contract
	for len(cs) > 0 {
		n := min(len(cs), 1+r.IntN(120))
		out = append(out, cs[:n])
		cs = cs[n:]
	}
	return out
}

// comparableDeal is a deal as JSON without the times the store chose (and
// without its aggregate links when links is false).
func comparableDeal(t *testing.T, d *Deal, links ...bool) string {
	t.Helper()
	c := *roundTrip(t, d)
	c.IndexedAt = time.Time{}
	if len(links) > 0 && !links[0] {
		c.Parts, c.PartOf = nil, nil
	}
	c.Events = append([]DealEvent(nil), c.Events...)
	for i := range c.Events {
		c.Events[i].FirstSeen = time.Time{}
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func preloadRef(t *testing.T, ref *refLedger, n, ops int) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // as preloadBolt and preloadES
	for i := range n {
		c := genDeal(i, ops)
		d := merge(nil, c.ID, c, "new", now)
		ref.deals[d.ID] = roundTrip(t, &d)
	}
}

// checkCandidateIndex compares the embedded store's candidate index with the
// keys its deals have now: no key missing, none left over.
func checkCandidateIndex(t *testing.T, s *testStore) {
	t.Helper()
	err := s.kv.View(context.Background(), func(tx KVTx) error {
		want := map[string]bool{}
		tx.Scan(BucketDeals, nil, func(k, v []byte) bool {
			d := decodeDeal(string(k), v)
			keys := candidateKeys(d)
			for _, key := range keys {
				want[string(key)] = true
			}
			if !bytes.Equal(tx.Get(BucketCandidateKeys, k), encodeKeys(keys)) {
				t.Errorf("deal %s: its key list is not its keys", k)
			}
			return true
		})
		have := 0
		tx.Scan(BucketCandidates, nil, func(k, _ []byte) bool {
			have++
			if !want[string(k)] {
				t.Errorf("stale candidate key %q", k)
			}
			return true
		})
		if have != len(want) {
			t.Errorf("%d candidate keys, want %d", have, len(want))
		}
		tx.Scan(BucketCandidateKeys, nil, func(k, _ []byte) bool {
			if tx.Get(BucketDeals, k) == nil {
				t.Errorf("key list of a deal that does not exist: %s", k)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// compareBolt checks that the store holds exactly the reference's deals.
func compareBolt(t *testing.T, s *testStore, ref *refLedger) {
	t.Helper()
	n, err := s.Count()
	if err != nil || n != len(ref.deals) {
		t.Fatalf("%d deals (%v), the reference has %d", n, err, len(ref.deals))
	}
	for id, want := range ref.deals {
		got, err := s.Get(context.Background(), id)
		if err != nil || got == nil {
			t.Fatalf("deal %s: %v %v", id, got, err)
		}
		if a, b := comparableDeal(t, got), comparableDeal(t, want); a != b {
			t.Fatalf("deal %s differs:\nstore     %s\nreference %s", id, a, b)
		}
	}
}

// identitySeed is the seed of the mixed records of the equivalence tests: 7 at
// full size; under -short 2, whose shorter stream still holds aggregates that
// link to parts (seed 7's first few hundred records hold none that do).
func identitySeed(t *testing.T) uint64 { return uint64(sized(t, "seed of the mixed records", 7, 2)) }

// sized is full, or short under -short: the size of a long model or
// equivalence check. `make test` runs -short, `make test-full` (before a
// release) the full size. The long checks run in parallel with each other
// (t.Parallel): Go starts them once the package's sequential tests are done,
// so the tests that time a search never overlap them.
func sized(t *testing.T, what string, full, short int) int {
	t.Helper()
	if testing.Short() {
		t.Logf("%s: %d (-short; %d at full size)", what, short, full)
		return short
	}
	return full
}

func TestKVResolutionMatchesFullOperatorScan(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "l.db")
	s, err := openTest(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// 2000 deals per operator, 3000 records (-short: 300 and 800, with every
	// way of resolving and aggregate links: the test checks both)
	deals, ops, records := sized(t, "deals", 4000, 600), 2, sized(t, "records", 3000, 800)
	preloadBolt(t, s, deals, ops)
	ref := &refLedger{deals: map[string]*Deal{}}
	preloadRef(t, ref, deals, ops)
	ctx := context.Background()
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	all := batches(identityStream(identitySeed(t), deals, ops, records, true))
	moved, kinds := 0, map[string]int{}
	for k, batch := range all {
		if k == len(all)/2 {
			// Halfway, the ledger file is reopened as one written before the
			// candidate index: the index is rebuilt on open.
			s.Close()
			dropCandidateIndex(t, path)
			if s, err = openTest(path); err != nil {
				t.Fatal(err)
			}
			checkCandidateIndex(t, s)
		}
		now = now.Add(time.Minute)
		s.now = func() time.Time { return now }
		for i, err := range s.Upsert(ctx, batch) {
			if err != nil {
				t.Fatalf("batch %d record %s: %v", k, batch[i].ID, err)
			}
		}
		resolved, written := ref.upsert(t, batch, now)
		for i, id := range resolved {
			if id != batch[i].ID {
				moved++
			}
			d := ref.deals[id]
			for _, src := range d.Sources {
				if src.RecordID == batch[i].ID && src.URL == batch[i].Source.URL {
					kinds[src.Match]++
				}
			}
		}
		for _, id := range written {
			got, err := s.Get(ctx, id)
			if err != nil || got == nil {
				t.Fatalf("batch %d: deal %s: %v %v", k, id, got, err)
			}
			if a, b := comparableDeal(t, got), comparableDeal(t, ref.deals[id]); a != b {
				t.Fatalf("batch %d: deal %s differs:\nstore     %s\nreference %s", k, id, a, b)
			}
		}
	}
	compareBolt(t, s, ref)
	checkCandidateIndex(t, s)
	// The stream must exercise every way of resolving, with records landing on
	// a deal of another id.
	linked := 0
	for _, d := range ref.deals {
		linked += len(d.Parts)
	}
	t.Logf("%d batches, %d deals, %d records resolved to a deal of another id; matches %v; %d aggregate parts linked", len(all), len(ref.deals), moved, kinds, linked)
	for _, how := range []string{"id", "record_id", "figures", "parties", "new"} {
		if kinds[how] == 0 {
			t.Errorf("no record resolved by %q: the stream does not test it", how)
		}
	}
	if linked == 0 {
		t.Error("no aggregate was linked to parts: the stream does not test aggregate linking")
	}
}

// dropCandidateIndex makes the ledger at path look like one written before
// the candidate index existed.
func dropCandidateIndex(t *testing.T, path string) {
	t.Helper()
	if err := memAt(path).Update(context.Background(), func(tx KVTx) error {
		for _, b := range []Bucket{BucketCandidates, BucketCandidateKeys} {
			if err := tx.Clear(b); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestKVCandidateIndexFollowsChangingDeals(t *testing.T) {
	// A deal that changes label (undisclosed, then named), figures (an
	// upsize) and becomes known to an aggregate keeps exactly its current keys.
	s, err := openTest(filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	u := rec("deal-u", "https://a.example/1", "A", f(200), f(5e9), f(15))
	u.Counterparty = schemas.Counterparty{Descriptor: s_("investment-grade hyperscaler")}
	named := rec("deal-n", "https://b.example/2", "B", f(200), f(5e9), f(15))
	up := rec("deal-x", "https://c.example/3", "C", f(200), nil, nil)
	up.Event = &schemas.Event{Type: schemas.EventUpsize, NewCapacityMW: f(350)}
	other := rec("deal-o", "https://d.example/4", "D", f(150), nil, nil)
	agg := rec("deal-agg", "https://e.example/5", "E", f(350), nil, nil)
	agg.Aggregate = true
	for _, batch := range [][]schemas.Contract{{u}, {named}, {up}, {other}, {agg}} {
		for _, err := range s.Upsert(ctx, batch) {
			if err != nil {
				t.Fatal(err)
			}
		}
		checkCandidateIndex(t, s)
	}
	d, _ := s.Get(ctx, "deal-u")
	if d == nil || d.Counterparty.Name == nil || d.Current == nil || *d.Current.CapacityMW != 350 {
		t.Fatalf("deal-u = %+v, want one deal named Microsoft and upsized to 350 MW", d)
	}
	// Found by its new figure, under its new label.
	err = s.kv.View(ctx, func(tx KVTx) error {
		b := newKVCandidates(tx, nil)
		pool := b.pool(rec("probe", "https://p.example/", "P", f(350), nil, nil))
		if !contains(pool, "deal-u") {
			t.Errorf("a 350 MW Microsoft record does not find the upsized deal: pool %v", pool)
		}
		old := rec("probe", "https://p.example/", "P", f(200), nil, nil)
		old.Counterparty = schemas.Counterparty{Descriptor: s_("other descriptor")}
		if pool := b.pool(old); !contains(pool, "deal-u") {
			t.Errorf("an undisclosed 200 MW record does not find the deal by its original figure: pool %v", pool)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s.Get(ctx, "deal-agg")
	if a == nil || len(a.Parts) != 2 {
		t.Errorf("aggregate of 350 MW = %+v, want linked to the 200 MW (upsized) and 150 MW deals", a)
	}
}

func s_(v string) *string { return &v }

func TestPoolKeySeparatesWhatCandidatesDependOn(t *testing.T) {
	base := rec("a", "https://a.example/1", "A", f(200), f(9.7e9), nil)
	same := base
	same.ID, same.Source.URL, same.Operator.Name = "b", "https://b.example/2", "iren"
	if PoolKey(base) != PoolKey(same) {
		t.Error("records differing in id, URL and operator spelling should share a pool")
	}
	for name, mod := range map[string]func(c *schemas.Contract){
		"operator":     func(c *schemas.Contract) { c.Operator.Name = "Hut 8" },
		"counterparty": func(c *schemas.Contract) { c.Counterparty.Name = s_("Amazon") },
		"undisclosed":  func(c *schemas.Contract) { c.Counterparty = schemas.Counterparty{Descriptor: s_("Microsoft")} },
		"capacity":     func(c *schemas.Contract) { c.CapacityMW = f(201) },
		"no value":     func(c *schemas.Contract) { c.TotalValueUSD = nil },
	} {
		c := base
		mod(&c)
		if PoolKey(c) == PoolKey(base) {
			t.Errorf("%s: same pool key", name)
		}
	}
	if !reflect.DeepEqual(FigureRanges(rec("x", "", "", nil, nil, nil)), []FigureRange(nil)) {
		t.Error("a record without figures has figures")
	}
}

func TestKVRebuildsCandidateIndexForDealsWrittenWithoutIt(t *testing.T) {
	// A deal written by an mwledger without the candidate index (an older
	// version run on the same file) is found once the ledger is opened again.
	path := filepath.Join(t.TempDir(), "l.db")
	s, err := openTest(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if errs := s.Upsert(ctx, []schemas.Contract{rec("deal-a", "https://a.example/1", "A", f(100), nil, nil)}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	s.Close()
	old := merge(nil, "deal-b", rec("deal-b", "https://b.example/1", "B", f(300), f(7e9), nil), "new", time.Now().UTC())
	v, _ := json.Marshal(old)
	if err := memAt(path).Update(ctx, func(tx KVTx) error { return tx.Put(BucketDeals, []byte("deal-b"), v) }); err != nil {
		t.Fatal(err)
	}
	if s, err = openTest(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkCandidateIndex(t, s)
	if errs := s.Upsert(ctx, []schemas.Contract{rec("deal-c", "https://c.example/1", "C", f(305), nil, nil)}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if d, _ := s.Get(ctx, "deal-b"); d == nil || len(d.Sources) != 2 {
		t.Fatalf("the 305 MW record did not join the 300 MW deal written without the index: %+v", d)
	}
}
