package ledger

import (
	"bytes"
	"encoding/json"
	"iter"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mwledger/mwledger/schemas"
)

// Identity resolution. The extractor's id (operator | counterparty | value
// rounded to $100M, else MW) is only a first guess: the same contract reported
// without its value, or with "$9.65B" instead of "$9.7B", gets another id. A
// record finds its deal in this order:
//
//  1. "id": a deal whose id is the record's id;
//  2. "record_id": the deal a record with this id resolved to before (so a
//     record seen again lands where it landed the first time);
//  3. "figures"/"parties": among the deals of the same operator whose
//     counterparty is the same (or undisclosed on either side) and whose
//     aggregate flag is the same, one whose known capacity and value agree with
//     the record's within 5% (against any value a source claimed, the current
//     figures after events, and the totals events state). A figure missing on
//     either side agrees. When the counterparty is not the same name, at least
//     one figure must be known on both sides and agree. The best candidate has
//     the most agreeing figures, then the same counterparty, then the most
//     sources, then the smallest id;
//  4. "new": otherwise the record starts a deal with its own id.
//
// A deal keeps the id it was created with. Both stores load into a working set
// only the deals steps 1–3 may pick and what aggregate linking needs (see
// "Candidates" below; kv_candidates.go and ledger/es find them), and
// resolve through the same code.
const figureTolerance = 0.05

// Working is the set of deals one Upsert may read and change.
type Working struct {
	deals   map[string]*Deal
	before  map[string]*Deal // as loaded; absent for deals created in this batch
	touched map[string]bool
	// owners maps a record id to the deals whose RecordIDs hold it; opOf a
	// deal id to its operator key (schemas.Key).
	owners map[string][]string
	opOf   map[string]string
	// touchedOf lists, per operator key, the touched deals whose operator
	// that is now, sorted by id (what resolve adds to a record's pool).
	touchedOf map[string][]string
	// pools, when a store filled them, hold per record (by PoolKey) the
	// stored deals that candidate may accept; resolve then looks at those
	// and the deals this batch changed, instead of at every deal.
	pools map[string][]string
}

func newWorking() *Working {
	return &Working{deals: map[string]*Deal{}, before: map[string]*Deal{}, touched: map[string]bool{},
		owners: map[string][]string{}, opOf: map[string]string{}, touchedOf: map[string][]string{}}
}

// load adds a stored deal.
func (w *Working) load(d *Deal) {
	if _, ok := w.deals[d.ID]; ok {
		return
	}
	c := cloneDeal(d)
	w.before[d.ID] = d
	w.deals[d.ID] = &c
	w.opOf[d.ID] = nameKey(d.Operator.Name)
	for _, r := range d.RecordIDs {
		w.own(r, d.ID)
	}
}

func (w *Working) own(recordID, dealID string) {
	if !contains(w.owners[recordID], dealID) {
		w.owners[recordID] = append(w.owners[recordID], dealID)
	}
}

// apply resolves c and merges it into its deal; it returns the deal id.
func (w *Working) apply(c schemas.Contract, now time.Time) string {
	id, how := w.resolve(c)
	m := merge(w.deals[id], id, c, how, now)
	w.deals[id] = &m
	op := nameKey(m.Operator.Name)
	prev, was := w.opOf[id], w.touched[id]
	w.opOf[id] = op
	w.touched[id] = true
	if was && prev != op {
		ids := w.touchedOf[prev]
		if i, ok := slices.BinarySearch(ids, id); ok {
			w.touchedOf[prev] = slices.Delete(ids, i, i+1)
		}
	}
	if !was || prev != op {
		ids := w.touchedOf[op]
		if i, ok := slices.BinarySearch(ids, id); !ok {
			w.touchedOf[op] = slices.Insert(ids, i, id)
		}
	}
	w.own(c.ID, id)
	return id
}

// operatorKeys caches schemas.Key of operator names and counterparty labels
// (few, compared very often).
var operatorKeys sync.Map

// nameKey is schemas.Key(name), cached for the first operatorKeysMax names.
func nameKey(name string) string {
	if k, ok := operatorKeys.Load(name); ok {
		return k.(string)
	}
	k := schemas.Key(name)
	if operatorKeysLen.Load() < operatorKeysMax {
		if _, loaded := operatorKeys.LoadOrStore(name, k); !loaded {
			operatorKeysLen.Add(1)
		}
	}
	return k
}

const operatorKeysMax = 4096

var operatorKeysLen atomic.Int64

// mergeIDs returns the ids of a and b (each sorted) in order, once each.
func mergeIDs(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var x string
		switch {
		case j == len(b) || (i < len(a) && a[i] <= b[j]):
			x = a[i]
			i++
		default:
			x = b[j]
			j++
		}
		if len(out) == 0 || out[len(out)-1] != x {
			out = append(out, x)
		}
	}
	return out
}

func (w *Working) resolve(c schemas.Contract) (string, string) {
	if _, ok := w.deals[c.ID]; ok {
		return c.ID, "id"
	}
	if owners := w.owners[c.ID]; len(owners) > 0 {
		return slices.Min(owners), "record_id" // the first in id order, as ever
	}
	var ids []string
	if pool, ok := w.pools[PoolKey(c)]; ok {
		// The stored deals candidate may accept, and the deals of c's
		// operator this batch changed (the only ones that differ from what
		// is stored; candidate first compares the operators), in id order.
		if !slices.IsSorted(pool) {
			pool = slices.Sorted(slices.Values(pool))
		}
		ids = mergeIDs(pool, w.touchedOf[nameKey(c.Operator.Name)])
	} else {
		ids = make([]string, 0, len(w.deals))
		for id := range w.deals {
			ids = append(ids, id)
		}
		sort.Strings(ids)
	}
	return w.best(ids, c)
}

// best is the deal among ids (in id order) that c resolves to, and how: the
// candidate with the most agreeing figures, then the same counterparty name,
// then the most sources, then the first; c.ID and "new" when none may be.
func (w *Working) best(ids []string, c schemas.Contract) (string, string) {
	var best *Deal
	bestScore, bestSame := -1, false
	for _, id := range ids {
		d := w.deals[id]
		if d == nil {
			continue // a pooled deal the store could not read
		}
		score, same, ok := candidate(d, c)
		if !ok {
			continue
		}
		better := best == nil || score > bestScore ||
			(score == bestScore && same && !bestSame) ||
			(score == bestScore && same == bestSame && len(d.Sources) > len(best.Sources))
		if better {
			best, bestScore, bestSame = d, score, same
		}
	}
	if best == nil {
		return c.ID, "new"
	}
	if bestScore > 0 {
		return best.ID, "figures"
	}
	return best.ID, "parties"
}

// candidate says whether record c may be the deal d: the number of figures both
// state and agree on, whether the counterparty is the same name, and ok.
func candidate(d *Deal, c schemas.Contract) (int, bool, bool) {
	if d.Operator.Name != c.Operator.Name && nameKey(d.Operator.Name) != nameKey(c.Operator.Name) {
		return 0, false, false
	}
	if c.Event == nil && d.Aggregate != c.Aggregate && hasReports(d) {
		return 0, false, false
	}
	same := nameKey(d.Counterparty.Label()) == nameKey(c.Counterparty.Label())
	if !same && !(d.Counterparty.Name == nil || c.Counterparty.Name == nil) {
		return 0, false, false // two different named customers
	}
	score := 0
	for _, f := range []struct {
		field string
		v     *float64
	}{{schemas.FieldCapacityMW, c.CapacityMW}, {schemas.FieldTotalValueUSD, c.TotalValueUSD}} {
		if f.v == nil {
			continue
		}
		known, agree := figureAgrees(d, f.field, *f.v)
		if !known {
			continue
		}
		if !agree {
			return 0, false, false
		}
		score++
	}
	if !same && score == 0 {
		return 0, false, false
	}
	return score, same, true
}

func hasReports(d *Deal) bool {
	for _, s := range d.Sources {
		if s.role() == RoleReport {
			return true
		}
	}
	return false
}

// figureValues yields the values of a figure a record may agree with: those
// its sources claimed, the deal's own, the current one and the events' new
// ones, in that order.
func figureValues(d *Deal, field string) iter.Seq[float64] {
	return func(yield func(float64) bool) {
		for i := range d.Provenance {
			if p := &d.Provenance[i]; p.Field == field && p.Number != nil && !yield(*p.Number) {
				return
			}
		}
		var own, cur *float64
		var ofEvent func(e *DealEvent) *float64
		switch field {
		case schemas.FieldCapacityMW:
			own, ofEvent = d.CapacityMW, func(e *DealEvent) *float64 { return e.NewCapacityMW }
			if d.Current != nil {
				cur = d.Current.CapacityMW
			}
		case schemas.FieldTotalValueUSD:
			own, ofEvent = d.TotalValueUSD, func(e *DealEvent) *float64 { return e.NewTotalValueUSD }
			if d.Current != nil {
				cur = d.Current.TotalValueUSD
			}
		default:
			return
		}
		for _, v := range [2]*float64{own, cur} {
			if v != nil && !yield(*v) {
				return
			}
		}
		for i := range d.Events {
			if v := ofEvent(&d.Events[i]); v != nil && !yield(*v) {
				return
			}
		}
	}
}

// figureAgrees says whether d has a known value of field (figureValues) and
// whether one of them agrees with v, without collecting them.
func figureAgrees(d *Deal, field string, v float64) (known, agree bool) {
	for k := range figureValues(d, field) {
		known = true
		if within(k, v, figureTolerance) {
			return true, true
		}
	}
	return known, false
}

// knownFigures are the values of a figure a record may agree with.
func knownFigures(d *Deal, field string) []float64 {
	return slices.Collect(figureValues(d, field))
}

// finish links aggregates, raises the alerts of every changed deal and returns
// the ids of the deals to write (changed ones only), sorted.
func (w *Working) finish(policy AlertPolicy, now time.Time) []string {
	for _, id := range linkAggregates(w.deals) {
		w.touched[id] = true
	}
	var out []string
	for id := range w.touched {
		after := w.deals[id]
		before := w.before[id]
		if policy != nil {
			raiseAlerts(policy, before, after, now)
		}
		if before != nil && sameDeal(before, after) {
			continue // a replay: nothing to write
		}
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// raiseAlerts appends the alerts the policy raises that the deal does not
// already carry (by key): this is what makes an alert fire once per deal and key.
func raiseAlerts(policy AlertPolicy, before, after *Deal, now time.Time) {
	for _, a := range policy.Evaluate(before, after, now) {
		dup := false
		for _, have := range after.Alerts {
			if have.Key == a.Key {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		a.ID = after.ID + "/" + a.Key
		if a.CreatedAt.IsZero() {
			a.CreatedAt = now
		}
		if a.Delivered == nil {
			a.Delivered = []Delivery{}
		}
		after.Alerts = append(after.Alerts, a)
	}
}

// sameDeal compares two deals but for when they were indexed.
func sameDeal(a, b *Deal) bool {
	x, y := *a, *b
	x.IndexedAt, y.IndexedAt = time.Time{}, time.Time{}
	ja, err1 := json.Marshal(x)
	jb, err2 := json.Marshal(y)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// Candidates. A stored deal that candidate may accept for record c has c's
// operator (schemas.Key); for each figure c states, a known value within 5% or
// none known; and either
//
//   - the same counterparty label (schemas.Key); or
//   - another label, an undisclosed counterparty on one side at least (so any
//     deal when c's is undisclosed, undisclosed deals when c names one), and at
//     least one of c's figures agreeing.
//
// Stores look up labels by schemas.Key (stored as counterparty.key) and
// figures by agreeRange; what they return may be
// more than candidate accepts, never less. Aggregate linking compares the
// deals of one operator and label key: completeGroups loads each such
// group whole when it has an aggregate and this batch touches it.

// CandidateSource is what identity resolution reads from a store. Each method
// loads deals into w (skipping those already there). The embedded ledger's
// is kvCandidates; a store whose reads are searches (ledger/es) implements
// it with its own queries and resolves through ApplyBatch.
type CandidateSource interface {
	// Candidates loads the stored deals whose id is a record's id, those a
	// record with this id resolved to before, and every stored deal that
	// candidate may accept for a record (more is harmless); it sets the
	// records' pools (Working.SetPool, Working.PoolLoaded).
	Candidates(w *Working, cs []schemas.Contract) error
	// Aggregates loads the stored aggregate deals of the groups and returns
	// the groups that have one.
	Aggregates(w *Working, gs []DealGroup) ([]DealGroup, error)
	// Members loads every stored deal of the groups.
	Members(w *Working, gs []DealGroup) error
	// A store may load a deal partially: with what candidate, resolve and
	// linkAggregates read (operator, counterparty, aggregate, figures, the
	// sources' roles and number, record ids, links), not what merge needs.
	// Partial lists those of ids; Full reads them whole into w (Working.Reload).
	Partial(ids []string) []string
	Full(w *Working, ids []string) error
}

// Load adds a stored deal to the working set (nothing when a deal with its
// id is there already).
func (w *Working) Load(d *Deal) { w.load(d) }

// Has reports whether deal id is in the working set.
func (w *Working) Has(id string) bool {
	_, ok := w.deals[id]
	return ok
}

// Reload replaces a deal loaded partially with d, read whole.
func (w *Working) Reload(d *Deal) {
	delete(w.deals, d.ID)
	w.load(d)
}

// SetPool sets the pool of the records whose PoolKey is key: the stored
// deals candidate may accept for them (more is harmless), sorted. Once a
// store set a pool, resolve looks at the pooled deals and those the batch
// changed only.
func (w *Working) SetPool(key string, ids []string) {
	if w.pools == nil {
		w.pools = map[string][]string{}
	}
	w.pools[key] = ids
}

// PoolLoaded sets the pool of each record of cs that whole accepts and that
// has none yet to the deals among ids (loaded) that candidate accepts: for
// the records of an operator whose deals a store read all of.
func (w *Working) PoolLoaded(cs []schemas.Contract, ids []string, whole func(c schemas.Contract) bool) {
	// Over the deals of the record's label, then (named record) the
	// undisclosed ones or (undisclosed record) all.
	byLabel, undisclosed, ofOp := map[DealGroup][]*Deal{}, map[string][]*Deal{}, map[string][]*Deal{}
	for _, id := range ids {
		if d := w.before[id]; d != nil {
			g := groupOf(d)
			byLabel[g] = append(byLabel[g], d)
			ofOp[g.Op] = append(ofOp[g.Op], d)
			if d.Counterparty.Name == nil {
				undisclosed[g.Op] = append(undisclosed[g.Op], d)
			}
		}
	}
	for _, c := range cs {
		op := schemas.Key(c.Operator.Name)
		key := PoolKey(c)
		if !whole(c) || w.pools[key] != nil {
			continue
		}
		var ds []*Deal
		if c.Counterparty.Name == nil {
			ds = ofOp[op]
		} else {
			ds = slices.Concat(byLabel[DealGroup{op, schemas.Key(c.Counterparty.Label())}], undisclosed[op])
		}
		pool := []string{}
		for _, d := range ds {
			if _, _, ok := candidate(d, c); ok {
				pool = append(pool, d.ID)
			}
		}
		sort.Strings(pool)
		w.SetPool(key, slices.Compact(pool))
	}
}

// Change is a deal a batch changed (ApplyBatch).
type Change struct {
	// Deal is the deal to write; Before the deal as it was read (nil: new).
	Deal, Before *Deal
	// Records are the records merged into it (indexes into the batch).
	Records []int
}

// NewAlerts reports whether the change raised alerts.
func (c Change) NewAlerts() bool { return len(c.Deal.Alerts) > alertCount(c.Before) }

// ApplyBatch resolves the records cs against the deals src loads, merges
// them, links aggregates and raises the alerts policy (may be nil) gives; it
// returns the deals to write, by id, with the records merged into each.
// (Records merged into a deal that a replay left unchanged are in no Change.)
// It is how a store that reads by search (ledger/es) upserts: it writes the
// changes conditionally, and applies the records again when one conflicts.
func ApplyBatch(src CandidateSource, cs []schemas.Contract, policy AlertPolicy, now time.Time) ([]Change, error) {
	w, err := loadCandidates(src, cs)
	if err != nil {
		return nil, err
	}
	recordsOf := map[string][]int{}
	for i, c := range cs {
		id := w.apply(c, now)
		recordsOf[id] = append(recordsOf[id], i)
	}
	write := w.finish(policy, now)
	out := make([]Change, len(write))
	for k, id := range write {
		out[k] = Change{Deal: w.deals[id], Before: w.before[id], Records: recordsOf[id]}
	}
	return out, nil
}

func alertCount(d *Deal) int {
	if d == nil {
		return 0
	}
	return len(d.Alerts)
}

// loadCandidates fills a working set for records cs from src: the candidates,
// then whatever aggregate linking needs once cs are applied, and whole every
// deal the batch will write. What the batch does is found by applying cs to a
// copy, which resolves exactly as w will (resolving reads no more than a
// partial deal holds); merging into a partial deal is garbage, so this is
// repeated until every deal the copy merged into is whole.
func loadCandidates(src CandidateSource, cs []schemas.Contract) (*Working, error) {
	w := newWorking()
	if err := src.Candidates(w, cs); err != nil {
		return nil, err
	}
	trial := trialRun(w, cs)
	for {
		part := src.Partial(keysOf(trial.touched))
		if len(part) == 0 {
			break
		}
		if err := src.Full(w, part); err != nil {
			return nil, err
		}
		trial = trialRun(w, cs)
	}
	n := len(w.deals)
	if err := completeGroups(w, trial, src); err != nil {
		return nil, err
	}
	if len(w.deals) > n {
		trial = trialRun(w, cs) // the same resolution, more deals to link
	}
	written := trial.finish(nil, time.Now().UTC())
	if part := src.Partial(written); len(part) > 0 {
		if err := src.Full(w, part); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// trialRun applies cs to a copy of w, as w will be.
func trialRun(w *Working, cs []schemas.Contract) *Working {
	trial := newWorking()
	trial.pools = w.pools
	for _, d := range w.before {
		trial.load(d)
	}
	now := time.Now().UTC() // the trial's timestamps are thrown away
	for _, c := range cs {
		trial.apply(c, now)
	}
	return trial
}

func keysOf(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// DealGroup is what linkAggregates compares: the deals of one operator
// and one counterparty label, by their keys (schemas.Key).
type DealGroup struct{ Op, Label string }

func groupOf(d *Deal) DealGroup {
	return DealGroup{schemas.Key(d.Operator.Name), schemas.Key(d.Counterparty.Label())}
}

// completeGroups loads into w every stored deal of each group whose aggregate
// links may change once the records are applied (after is w then): groups with
// an aggregate in after, and the groups a touched deal left or joined when they
// have a stored aggregate. linkAggregates then sees those groups whole and
// computes what it computed over all the operator's deals; in every other
// group it sees no aggregate and changes nothing, as it did there before.
func completeGroups(w, after *Working, src CandidateSource) error {
	need := map[DealGroup]bool{}
	probe := map[DealGroup]bool{}
	for id, d := range after.deals {
		g := groupOf(d)
		if d.Aggregate {
			need[g] = true
		}
		if after.touched[id] {
			probe[g] = true
			if b := after.before[id]; b != nil {
				probe[groupOf(b)] = true
			}
		}
	}
	var ask []DealGroup
	for g := range probe {
		if !need[g] {
			ask = append(ask, g)
		}
	}
	sortGroups(ask)
	found, err := src.Aggregates(w, ask)
	if err != nil {
		return err
	}
	for _, g := range found {
		need[g] = true
	}
	all := make([]DealGroup, 0, len(need))
	for g := range need {
		all = append(all, g)
	}
	sortGroups(all)
	return src.Members(w, all)
}

func sortGroups(gs []DealGroup) {
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].Op != gs[j].Op {
			return gs[i].Op < gs[j].Op
		}
		return gs[i].Label < gs[j].Label
	})
}

// FigureRange is a figure a record states, with the interval [Lo, Hi] its
// agreeing values lie in (none, OK false, when no value can agree: NaN).
type FigureRange struct {
	Field  string
	Lo, Hi float64
	OK     bool
}

// figureFields are the figures candidate compares.
var figureFields = []string{schemas.FieldCapacityMW, schemas.FieldTotalValueUSD}

// FigureRanges are the figures c states (capacity_mw, then total_value_usd),
// each with the values that agree with it.
func FigureRanges(c schemas.Contract) []FigureRange {
	var out []FigureRange
	for _, f := range []struct {
		field string
		v     *float64
	}{{schemas.FieldCapacityMW, c.CapacityMW}, {schemas.FieldTotalValueUSD, c.TotalValueUSD}} {
		if f.v != nil {
			lo, hi, ok := agreeRange(*f.v)
			out = append(out, FigureRange{f.field, lo, hi, ok})
		}
	}
	return out
}

// agreeRange returns an interval that holds every k with within(k, v,
// figureTolerance), a little wider for rounding; ok is false when there is
// none (v is NaN). For v > 0 that is [0.95 v, v / 0.95].
func agreeRange(v float64) (lo, hi float64, ok bool) {
	switch {
	case math.IsNaN(v):
		return 0, 0, false
	case math.IsInf(v, 0):
		// |k - ∞| ≤ 0.05 ∞ holds for every finite k.
		return math.Inf(-1), math.Inf(1), true
	}
	a, b := v*(1-figureTolerance), v/(1-figureTolerance)
	lo, hi = min(a, b), max(a, b)
	lo -= math.Abs(lo) * 1e-9
	hi += math.Abs(hi) * 1e-9
	return math.Nextafter(lo, math.Inf(-1)), math.Nextafter(hi, math.Inf(1)), true
}

// PoolKey is what the candidates of record c depend on: records with the same
// key have the same pool.
func PoolKey(c schemas.Contract) string {
	var b strings.Builder
	b.WriteString(schemas.Key(c.Operator.Name))
	b.WriteByte(0)
	b.WriteString(schemas.Key(c.Counterparty.Label()))
	b.WriteByte(0)
	if c.Counterparty.Name != nil {
		b.WriteByte('n')
	}
	for _, v := range []*float64{c.CapacityMW, c.TotalValueUSD} {
		b.WriteByte(0)
		if v != nil {
			b.WriteString(strconv.FormatUint(math.Float64bits(*v), 16))
		}
	}
	return b.String()
}
