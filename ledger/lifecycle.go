package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"time"

	"github.com/mwledger/mwledger/schemas"
)

// addEvent links the event of record c to deal d. An article seen again replaces
// what it said before; another article reporting the same change (same type,
// compatible date and figures) joins that event's sources; anything else is a
// new event, whose id (type and a hash of the first article's URL) never changes.
func addEvent(d *Deal, c schemas.Contract, now time.Time) {
	e := *c.Event
	url := c.Source.URL
	for i := range d.Events {
		if contains(d.Events[i].Sources, url) && d.Events[i].Type == e.Type {
			if d.Events[i].Sources[0] == url { // the article that defined the event
				d.Events[i].Event = e
			}
			return
		}
	}
	for i := range d.Events {
		if d.Events[i].Type == e.Type && sameEvent(d.Events[i].Event, e) {
			d.Events[i].Sources = append(d.Events[i].Sources, url)
			fillEvent(&d.Events[i].Event, e)
			return
		}
	}
	sum := sha256.Sum256([]byte(e.Type + "|" + url))
	d.Events = append(d.Events, DealEvent{ID: e.Type + "-" + hex.EncodeToString(sum[:6]), Event: e, Sources: []string{url}, FirstSeen: now})
}

// sameEvent says whether two reports of a change of the same type describe the
// same change: no date or figure they both state disagrees.
func sameEvent(a, b schemas.Event) bool {
	if a.On != nil && b.On != nil && !strings.HasPrefix(*a.On, *b.On) && !strings.HasPrefix(*b.On, *a.On) {
		return false
	}
	for _, p := range [][2]*float64{{a.AddedMW, b.AddedMW}, {a.AddedValueUSD, b.AddedValueUSD}, {a.AddedTermYears, b.AddedTermYears},
		{a.NewCapacityMW, b.NewCapacityMW}, {a.NewTotalValueUSD, b.NewTotalValueUSD}, {a.NewTermYears, b.NewTermYears}} {
		if p[0] != nil && p[1] != nil && !within(*p[0], *p[1], 0.02) {
			return false
		}
	}
	return true
}

// fillEvent completes what the first report of an event left out.
func fillEvent(dst *schemas.Event, src schemas.Event) {
	for _, p := range [][2]**float64{{&dst.AddedMW, &src.AddedMW}, {&dst.AddedValueUSD, &src.AddedValueUSD}, {&dst.AddedTermYears, &src.AddedTermYears},
		{&dst.NewCapacityMW, &src.NewCapacityMW}, {&dst.NewTotalValueUSD, &src.NewTotalValueUSD}, {&dst.NewTermYears, &src.NewTermYears},
		{&dst.GuaranteeUSD, &src.GuaranteeUSD}} {
		if *p[0] == nil {
			*p[0] = *p[1]
		}
	}
	if dst.On == nil {
		dst.On = src.On
	}
	if dst.Guarantor == nil {
		dst.Guarantor = src.Guarantor
	}
	if dst.Summary == nil {
		dst.Summary = src.Summary
	}
}

// applyEvents derives the status and the current figures from the events, in
// date order (undated events after dated ones, then in the order seen): an
// upsize or amendment sets the new totals it states, or adds what it adds; an
// extension adds years; a guarantee names the guarantor when the deal had none;
// a cancellation ends the deal.
func applyEvents(d *Deal) {
	d.Status = StatusActive
	d.Current = nil
	if len(d.Events) == 0 {
		return
	}
	evs := append([]DealEvent(nil), d.Events...)
	sort.SliceStable(evs, func(i, j int) bool {
		a, b := deref(evs[i].On), deref(evs[j].On)
		if a != b {
			if a == "" || b == "" {
				return b == ""
			}
			return a < b
		}
		return evs[i].FirstSeen.Before(evs[j].FirstSeen)
	})
	cur := Figures{CapacityMW: d.CapacityMW, TotalValueUSD: d.TotalValueUSD, TermYears: d.TermYears}
	step := func(dst **float64, newV, added *float64) {
		switch {
		case newV != nil:
			*dst = newV
		case added != nil && *dst != nil:
			v := **dst + *added
			*dst = &v
		}
	}
	for _, e := range evs {
		switch e.Type {
		case schemas.EventUpsize, schemas.EventAmendment, schemas.EventExtension:
			step(&cur.CapacityMW, e.NewCapacityMW, e.AddedMW)
			step(&cur.TotalValueUSD, e.NewTotalValueUSD, e.AddedValueUSD)
			step(&cur.TermYears, e.NewTermYears, e.AddedTermYears)
		case schemas.EventGuaranteeAdded:
			if d.Guarantor == nil && e.Guarantor != nil {
				g := *e.Guarantor
				d.Guarantor = &g
			}
			if d.GuaranteeUSD == nil {
				d.GuaranteeUSD = e.GuaranteeUSD
			}
			if !contains(d.Terms, schemas.TermGuarantee) {
				d.Terms = append(d.Terms, schemas.TermGuarantee)
				sort.Strings(d.Terms)
			}
		case schemas.EventCancellation:
			d.Status = StatusCancelled
		}
	}
	if !eqNum(cur.CapacityMW, d.CapacityMW) || !eqNum(cur.TotalValueUSD, d.TotalValueUSD) || !eqNum(cur.TermYears, d.TermYears) {
		d.Current = &cur
	}
}

func eqNum(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// linkAggregates links each aggregate deal of one operator and counterparty to
// the non-aggregate deals of the same parties whose capacities (or, when a
// capacity is unknown, values) sum to its own within 2%. It returns the ids of
// the deals whose links changed.
func linkAggregates(deals map[string]*Deal) []string {
	type key struct{ op, cp string }
	aggs := map[key][]*Deal{}
	parts := map[key][]*Deal{}
	for _, d := range deals {
		k := key{schemas.Key(d.Operator.Name), strings.ToLower(d.Counterparty.Label())}
		if d.Aggregate {
			aggs[k] = append(aggs[k], d)
		} else if d.Counterparty.Name != nil {
			parts[k] = append(parts[k], d)
		}
	}
	changed := map[string]bool{}
	partOf := map[string][]string{}
	for k, as := range aggs {
		ps := parts[k]
		sort.Slice(ps, func(i, j int) bool { return ps[i].ID < ps[j].ID })
		for _, a := range as {
			found := subsetSum(a, ps)
			if strings.Join(found, ",") != strings.Join(a.Parts, ",") {
				a.Parts = found
				changed[a.ID] = true
			}
			for _, id := range found {
				partOf[id] = append(partOf[id], a.ID)
			}
		}
	}
	for k, ps := range parts {
		if len(aggs[k]) == 0 {
			continue
		}
		for _, p := range ps {
			want := partOf[p.ID]
			sort.Strings(want)
			if strings.Join(want, ",") != strings.Join(p.PartOf, ",") {
				p.PartOf = want
				changed[p.ID] = true
			}
		}
	}
	out := make([]string, 0, len(changed))
	for id := range changed {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// subsetSum finds the smallest set of at least two parts whose capacities (or
// values) add up to the aggregate's; nil when none does or there are too many
// parts to try.
func subsetSum(a *Deal, ps []*Deal) []string {
	if len(ps) < 2 || len(ps) > 12 {
		return nil
	}
	target, get := a.CapacityMW, func(d *Deal) *float64 { return d.CapacityMW }
	if target == nil {
		target, get = a.TotalValueUSD, func(d *Deal) *float64 { return d.TotalValueUSD }
	}
	if target == nil {
		return nil
	}
	var best []string
	for mask := 1; mask < 1<<len(ps); mask++ {
		sum, n, ok := 0.0, 0, true
		var ids []string
		for i, p := range ps {
			if mask&(1<<i) == 0 {
				continue
			}
			v := get(p)
			if v == nil {
				ok = false
				break
			}
			sum += *v
			n++
			ids = append(ids, p.ID)
		}
		if ok && n >= 2 && within(sum, *target, 0.02) && (best == nil || len(ids) < len(best)) {
			best = ids
		}
	}
	return best
}
