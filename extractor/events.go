package extractor

import (
	"strings"

	"github.com/mwledger/mwledger/schemas"
)

// eventType reads whether a sentence reports a change to an existing deal rather
// than a new one: an option exercised or capacity added (upsize), a longer term
// (extension), an amendment, a guarantee added later, a cancellation.
func eventType(lower string) string {
	switch {
	case containsAny(lower, []string{"terminated", "termination of", "cancelled", "canceled", "cancellation of", "walked away from"}):
		return schemas.EventCancellation
	case strings.Contains(lower, "option") && containsAny(lower, []string{"exercis", "takes up", "took up", "taking up"}) &&
		!containsAny(lower, []string{"if all", "if the option", "if options", "if exercised", "if fully exercised", "if renewal", "were exercised", "are exercised", "would", "could"}),
		containsAny(lower, []string{"upsized", "upsizes", "expanded its lease", "expanded the lease", "expanded its contract", "expands its lease",
			"expands its contract", "increased the capacity", "adds capacity to"}):
		return schemas.EventUpsize
	case containsAny(lower, []string{"extended the term", "extends the term", "extended its lease", "extended the lease", "extension of the lease", "extension of the contract"}):
		return schemas.EventExtension
	case containsAny(lower, []string{"amended", "amendment to", "amendment of"}):
		return schemas.EventAmendment
	case containsAny(lower, []string{"added a guarantee", "added a backstop", "has now agreed to backstop", "will now backstop", "new guarantee", "additional guarantee"}):
		return schemas.EventGuaranteeAdded
	}
	return ""
}

// addedWords before a figure mark what a change adds; totalWords what it brings
// the deal to.
var (
	addedWords = []string{"additional", "further", "another", "extra", "more", "adds", "added"}
	totalWords = []string{"rises to", "rise to", "brings", "bringing", "taking", "to a total of", "total of", "increases to", "grows to", "now totals"}
)

// fillEvent reads a change's figures from a sentence: capacities after "an
// additional" are added, after "rises to" are the new total; the rest restates
// the original deal (its figures identify the deal in the ledger).
func (d *draft) fillEvent(s *sent) {
	if d.event == nil {
		return
	}
	a, fc := s.analysis, s.classes()
	for _, c := range a.caps {
		if c.Energy {
			continue
		}
		before := lastRunes(a.lower[:c.Start], 24)
		after := firstBytes(a.lower[c.End:], 10)
		switch {
		case containsAny(before, totalWords):
			if d.event.NewCapacityMW == nil {
				d.event.NewCapacityMW = f64(c.MW)
			}
		case containsAny(before, addedWords) || strings.HasPrefix(strings.TrimSpace(after), "more"):
			if d.event.AddedMW == nil {
				d.event.AddedMW = f64(c.MW)
			}
		default:
			if d.capacity == nil {
				c := c
				d.capacity = &c
				d.setField(schemas.FieldCapacityMW, a.Text)
			}
		}
	}
	for i, m := range a.money {
		cls := fc.money[i]
		if m.Currency != "USD" || fc.moneyHedged[i] || cls != "value" && cls != "total" && cls != "cumulative" {
			continue // not a contract's amount: an upside, a price, a company's value
		}
		before := lastRunes(a.lower[:m.Start], 24)
		switch {
		case containsAny(before, totalWords):
			// "bringing the lease's value to $9B": the deal's new total
			if d.event.NewTotalValueUSD == nil {
				d.event.NewTotalValueUSD = f64(m.Value)
			}
		case containsAny(before, addedWords):
			if d.event.AddedValueUSD == nil {
				d.event.AddedValueUSD = f64(m.Value)
			}
		case cls != "value":
			// a running total of the company's contracts, not of this deal
		default:
			if d.value == nil {
				m := m
				d.value = &m
				d.setField(schemas.FieldTotalValueUSD, a.Text)
			}
		}
	}
	for _, t := range a.terms {
		if t.Years > 0 && d.term == nil && !containsAny(lastRunes(a.lower[:t.Start], 24), addedWords) {
			t := t
			d.term = &t
		}
	}
	if d.date == "" && len(a.dates) > 0 && a.deal {
		d.date = a.dates[0].Value
	}
	if isAggregate(a.lower) && countsContracts(a.lower) {
		d.aggregate = true // "the two leases … covered 250 MW": the deal restated is an aggregate
	}
	d.text.WriteString(a.lower)
	d.text.WriteByte(' ')
	d.addEvidence(a.Text)
}
