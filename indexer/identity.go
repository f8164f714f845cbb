package indexer

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
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
// A deal keeps the id it was created with. Both stores load the deals of the
// operators in a batch into a working set and resolve through the same code.
const figureTolerance = 0.05

// working is the set of deals one Upsert may read and change.
type working struct {
	deals   map[string]*Deal
	before  map[string]*Deal // as loaded; absent for deals created in this batch
	touched map[string]bool
}

func newWorking() *working {
	return &working{deals: map[string]*Deal{}, before: map[string]*Deal{}, touched: map[string]bool{}}
}

// load adds a stored deal.
func (w *working) load(d *Deal) {
	if _, ok := w.deals[d.ID]; ok {
		return
	}
	c := cloneDeal(d)
	w.before[d.ID] = d
	w.deals[d.ID] = &c
}

// apply resolves c and merges it into its deal; it returns the deal id.
func (w *working) apply(c schemas.Contract, now time.Time) string {
	id, how := w.resolve(c)
	m := merge(w.deals[id], id, c, how, now)
	w.deals[id] = &m
	w.touched[id] = true
	return id
}

func (w *working) resolve(c schemas.Contract) (string, string) {
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
	var best *Deal
	bestScore, bestSame := -1, false
	for _, id := range ids {
		d := w.deals[id]
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
	if squash(d.Operator.Name) != squash(c.Operator.Name) {
		return 0, false, false
	}
	if c.Event == nil && d.Aggregate != c.Aggregate && hasReports(d) {
		return 0, false, false
	}
	same := strings.EqualFold(d.Counterparty.Label(), c.Counterparty.Label())
	if !same && !(d.Counterparty.Name == nil || c.Counterparty.Name == nil) {
		return 0, false, false // two different named customers
	}
	score := 0
	for _, f := range []struct {
		field string
		v     *float64
	}{{"capacity_mw", c.CapacityMW}, {"total_value_usd", c.TotalValueUSD}} {
		if f.v == nil {
			continue
		}
		known := knownFigures(d, f.field)
		if len(known) == 0 {
			continue
		}
		agree := false
		for _, k := range known {
			if within(k, *f.v, figureTolerance) {
				agree = true
				break
			}
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

// knownFigures are the values of a figure a record may agree with.
func knownFigures(d *Deal, field string) []float64 {
	var out []float64
	for _, p := range d.Provenance {
		if p.Field == field && p.Number != nil {
			out = append(out, *p.Number)
		}
	}
	add := func(v *float64) {
		if v != nil {
			out = append(out, *v)
		}
	}
	switch field {
	case "capacity_mw":
		add(d.CapacityMW)
		if d.Current != nil {
			add(d.Current.CapacityMW)
		}
		for _, e := range d.Events {
			add(e.NewCapacityMW)
		}
	case "total_value_usd":
		add(d.TotalValueUSD)
		if d.Current != nil {
			add(d.Current.TotalValueUSD)
		}
		for _, e := range d.Events {
			add(e.NewTotalValueUSD)
		}
	}
	return out
}

// finish links aggregates, raises the alerts of every changed deal and returns
// the ids of the deals to write (changed ones only), sorted.
func (w *working) finish(policy AlertPolicy, now time.Time) []string {
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
