package indexer

import (
	"errors"
	"strings"

	"github.com/mwledger/mwledger/schemas"
)

// Query selects deals. Zero values mean "any".
type Query struct {
	Text            string // free text over title, evidence and names
	Operator        string
	Counterparty    string
	ContractType    string
	HyperscalerOnly bool
	MinMW, MaxMW    float64
	Sort            string // "value" (default), "mw", "usd_per_mw_year", "announced"
	Size            int    // default 50
	From            int
}

// Validate names a bad field.
func (q *Query) Validate() error {
	if q.ContractType != "" {
		switch q.ContractType {
		case schemas.TypeColocation, schemas.TypeBareMetal, schemas.TypeCloudServices, schemas.TypeUnknown:
		default:
			return errors.New("query: contract type must be colocation, bare_metal, cloud_services or unknown")
		}
	}
	switch q.Sort {
	case "", "value", "mw", "usd_per_mw_year", "announced":
	default:
		return errors.New("query: sort must be value, mw, usd_per_mw_year or announced")
	}
	if q.Size < 0 || q.From < 0 || q.MinMW < 0 || q.MaxMW < 0 {
		return errors.New("query: size, from and MW bounds must not be negative")
	}
	return nil
}

func (q Query) size() int {
	if q.Size == 0 {
		return 50
	}
	return q.Size
}

// Result is a page of deals and the total number of matches.
type Result struct {
	Total int    `json:"total"`
	Deals []Deal `json:"deals"`
}

// matches is the reference semantics of a query, used by the embedded store.
func (q Query) matches(d Deal) bool {
	if q.Operator != "" && !strings.EqualFold(q.Operator, d.Operator.Name) && !eqPtr(d.Operator.Ticker, q.Operator) {
		return false
	}
	if q.Counterparty != "" && !counterpartyMatches(d, q.Counterparty) {
		return false
	}
	if q.ContractType != "" && q.ContractType != d.ContractType {
		return false
	}
	if q.HyperscalerOnly && !d.Counterparty.Hyperscaler {
		return false
	}
	if q.MinMW > 0 && (d.CapacityMW == nil || *d.CapacityMW < q.MinMW) {
		return false
	}
	if q.MaxMW > 0 && (d.CapacityMW == nil || *d.CapacityMW > q.MaxMW) {
		return false
	}
	if q.Text != "" {
		hay := strings.ToLower(d.Operator.Name + " " + d.Counterparty.Label() + " " + strings.Join(d.Evidence, " "))
		for _, s := range d.Sources {
			if s.Title != nil {
				hay += " " + strings.ToLower(*s.Title)
			}
			hay += " " + strings.ToLower(strings.Join(s.Evidence, " "))
		}
		for _, w := range strings.Fields(strings.ToLower(q.Text)) {
			if !strings.Contains(hay, w) {
				return false
			}
		}
	}
	return true
}

// counterpartyMatches: the shown name (or descriptor when undisclosed), or any
// name or descriptor a source gave for the deal.
func counterpartyMatches(d Deal, want string) bool {
	if strings.EqualFold(want, d.Counterparty.Label()) {
		return true
	}
	for _, p := range d.Provenance {
		if p.Field == "counterparty" && (strings.EqualFold(p.Value, want) || strings.EqualFold(p.Value, undisclosedPrefix+want)) {
			return true
		}
	}
	return false
}

func eqPtr(p *string, s string) bool { return p != nil && strings.EqualFold(*p, s) }

// sortKey returns the value a deal sorts by (descending), missing values last.
func (q Query) sortKey(d Deal) (float64, bool) {
	var p *float64
	switch q.Sort {
	case "mw":
		p = d.CapacityMW
	case "usd_per_mw_year":
		p = d.USDPerMWYear
	case "announced":
		if d.AnnouncedOn == nil {
			return 0, false
		}
		s := strings.ReplaceAll(*d.AnnouncedOn, "-", "")
		for len(s) < 8 {
			s += "00"
		}
		var v float64
		for _, c := range s {
			v = v*10 + float64(c-'0')
		}
		return v, true
	default:
		p = d.TotalValueUSD
	}
	if p == nil {
		return 0, false
	}
	return *p, true
}
