package ledger

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mwledger/mwledger/schemas"
)

// Source roles.
const (
	RoleReport = "report"
	RoleEvent  = "event"
)

// Deal statuses.
const (
	StatusActive    = "active"
	StatusCancelled = "cancelled"
)

func sourceOf(c schemas.Contract, match string) DealSource {
	auth, why := authorityOf(c)
	role := RoleReport
	if c.Event != nil {
		role = RoleEvent
	}
	claims := c
	claims.Evidence, claims.FieldEvidence = nil, nil // kept once, in Evidence below
	return DealSource{URL: c.Source.URL, FetchedURL: c.Source.FetchedURL, Title: c.Source.Title, Outlet: c.Source.Outlet, PublishedAt: c.Source.PublishedAt,
		Evidence: c.Evidence, ExtractorVersion: c.ExtractorVersion, RecordID: c.ID, Role: role,
		Authority: auth, AuthorityReason: why, Match: match, Claims: &claims}
}

func (s DealSource) role() string {
	if s.Role == "" {
		return RoleReport
	}
	return s.Role
}

// merge folds record c into the deal old (nil: a new deal with id) and returns
// the new deal; old is not modified. The deal's fields are recomputed from the
// claims of all its sources, so the result does not depend on the order in
// which sources arrived, and applying the same record twice changes nothing. A
// source is identified by its URL and role: an article seen again replaces its
// earlier entry. match says how the record found the deal (see resolve).
func merge(old *Deal, id string, c schemas.Contract, match string, now time.Time) Deal {
	var d Deal
	if old != nil {
		d = cloneDeal(old)
		// Sources indexed before provenance existed carry no claims: the deal's
		// own fields stand for them.
		for i := range d.Sources {
			if d.Sources[i].Claims == nil {
				cl := old.Contract
				d.Sources[i].Claims = &cl
			}
		}
	}
	d.ID = id
	src := sourceOf(c, match)
	kept := d.Sources[:0:0]
	for _, s := range d.Sources {
		if s.URL == src.URL && s.role() == src.Role {
			if s.Match != "" {
				src.Match = s.Match // how it was first resolved
			}
			continue
		}
		kept = append(kept, s)
	}
	d.Sources = append(kept, src)
	sort.SliceStable(d.Sources, func(i, j int) bool {
		if d.Sources[i].URL != d.Sources[j].URL {
			return d.Sources[i].URL < d.Sources[j].URL
		}
		return d.Sources[i].role() > d.Sources[j].role()
	})
	if !contains(d.RecordIDs, c.ID) {
		d.RecordIDs = append(d.RecordIDs, c.ID)
	}
	if c.Event != nil {
		addEvent(&d, c, now)
	}
	rederive(&d)
	d.IndexedAt = now
	return d
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// cloneDeal copies the slices merge changes, so that the stored deal stays as read.
func cloneDeal(d *Deal) Deal {
	c := *d
	c.Sources = append([]DealSource(nil), d.Sources...)
	c.Events = append([]DealEvent(nil), d.Events...)
	for i := range c.Events {
		c.Events[i].Sources = append([]string(nil), c.Events[i].Sources...)
	}
	c.RecordIDs = append([]string(nil), d.RecordIDs...)
	c.Alerts = append([]Alert(nil), d.Alerts...)
	c.Parts = append([]string(nil), d.Parts...)
	c.PartOf = append([]string(nil), d.PartOf...)
	return c
}

// fieldSpec reads one field of a record: its value as a string (for grouping and
// display), its number when numeric, and whether the record states it.
type fieldSpec struct {
	name string
	get  func(c *schemas.Contract) (string, *float64, bool)
	set  func(dst, src *schemas.Contract)
}

func numField(name string, p func(c *schemas.Contract) **float64) fieldSpec {
	return fieldSpec{name: name,
		get: func(c *schemas.Contract) (string, *float64, bool) {
			v := *p(c)
			if v == nil {
				return "", nil, false
			}
			return strconv.FormatFloat(*v, 'f', -1, 64), v, true
		},
		set: func(dst, src *schemas.Contract) { *p(dst) = *p(src) }}
}

func strField(name string, p func(c *schemas.Contract) **string) fieldSpec {
	return fieldSpec{name: name,
		get: func(c *schemas.Contract) (string, *float64, bool) {
			v := *p(c)
			if v == nil || *v == "" {
				return "", nil, false
			}
			return *v, nil, true
		},
		set: func(dst, src *schemas.Contract) { *p(dst) = *p(src) }}
}

func partyField(name string, p func(c *schemas.Contract) **schemas.Party) fieldSpec {
	return fieldSpec{name: name,
		get: func(c *schemas.Contract) (string, *float64, bool) {
			v := *p(c)
			if v == nil || v.Name == "" {
				return "", nil, false
			}
			return v.Name, nil, true
		},
		set: func(dst, src *schemas.Contract) { *p(dst) = *p(src) }}
}

// UndisclosedPrefix marks a counterparty claim that gives a descriptor only.
const UndisclosedPrefix = "undisclosed: "

// fields are the contract fields that carry provenance: the registry's
// Provenance fields (schemas.Fields), in its order.
var fields = provenanceFields()

func provenanceFields() []fieldSpec {
	var out []fieldSpec
	for _, f := range schemas.Fields {
		if !f.Provenance {
			continue
		}
		switch {
		case f.Number != nil:
			out = append(out, numField(f.Name, f.Number))
		case f.Text != nil:
			out = append(out, strField(f.Name, f.Text))
		case f.Party != nil:
			out = append(out, partyField(f.Name, f.Party))
		case f.Kind == schemas.KindCounterparty:
			out = append(out, fieldSpec{name: f.Name,
				get: func(c *schemas.Contract) (string, *float64, bool) {
					switch {
					case c.Counterparty.Name != nil && *c.Counterparty.Name != "":
						return *c.Counterparty.Name, nil, true
					case c.Counterparty.Descriptor != nil && *c.Counterparty.Descriptor != "":
						return UndisclosedPrefix + *c.Counterparty.Descriptor, nil, true
					}
					return "", nil, false
				},
				set: func(dst, src *schemas.Contract) { dst.Counterparty = src.Counterparty }})
		case f.Kind == schemas.KindContractType:
			out = append(out, fieldSpec{name: f.Name,
				get: func(c *schemas.Contract) (string, *float64, bool) {
					return c.ContractType, nil, c.ContractType != "" && c.ContractType != schemas.TypeUnknown
				},
				set: func(dst, src *schemas.Contract) { dst.ContractType = src.ContractType }})
		default:
			panic("ledger: no provenance for field " + f.Name) // TestProvenanceFields
		}
	}
	return out
}

// compatible says whether two values of a field are the same claim: numbers
// within 0.5%, dates when one is a prefix of the other (2025-11 and 2025-11-03),
// text case-insensitively.
func compatible(field, a, b string, an, bn *float64) bool {
	if an != nil && bn != nil {
		return within(*an, *bn, 0.005)
	}
	if field == schemas.FieldAnnouncedOn {
		return strings.HasPrefix(a, b) || strings.HasPrefix(b, a)
	}
	return strings.EqualFold(a, b)
}

// within reports whether a and b differ by at most tol relative to the larger.
func within(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(math.Abs(a), math.Abs(b))
}

// claimGroup is one distinct value of a field and who gave it.
type claimGroup struct {
	value     string
	number    *float64
	sources   []*DealSource
	authority int
}

// recompute derives the shown fields, provenance and conflicts from the claims
// of the deal's report sources (event sources only name the parties).
func recompute(d *Deal) {
	var reports []*DealSource
	for i := range d.Sources {
		if d.Sources[i].role() == RoleReport && d.Sources[i].Claims != nil {
			reports = append(reports, &d.Sources[i])
		}
	}
	eventOnly := len(reports) == 0
	if eventOnly {
		for i := range d.Sources {
			if d.Sources[i].Claims != nil {
				reports = append(reports, &d.Sources[i])
			}
		}
	}
	if len(reports) == 0 {
		return
	}
	// Most authoritative first, then the earliest published, then by URL.
	sort.SliceStable(reports, func(i, j int) bool { return sourceBefore(reports[i], reports[j]) })
	top := reports[0]
	id, alerts := d.ID, d.Alerts
	c := *top.Claims
	c.ID = id
	c.Event = nil
	c.Source = schemas.Source{URL: top.URL, FetchedURL: top.FetchedURL, Title: top.Title, Outlet: top.Outlet, PublishedAt: top.PublishedAt}
	c.Evidence, c.Terms, c.Warnings = []string{}, []string{}, nil
	c.FieldEvidence = nil
	for _, s := range reports {
		c.Evidence = union(c.Evidence, s.Evidence)
		c.Terms = union(c.Terms, s.Claims.Terms)
		c.Confidence = math.Max(c.Confidence, s.Claims.Confidence)
		c.Warnings = union(c.Warnings, s.Claims.Warnings)
		if c.Operator.Ticker == nil {
			c.Operator.Ticker = s.Claims.Operator.Ticker
		}
	}
	sort.Strings(c.Terms)
	if len(c.Warnings) == 0 {
		c.Warnings = nil
	}
	d.Provenance, d.Conflicts = []FieldClaim{}, []string{}
	for _, f := range fields {
		var groups []*claimGroup
		for _, s := range reports {
			v, n, ok := f.get(s.Claims)
			if !ok {
				continue
			}
			var g *claimGroup
			for _, cand := range groups {
				if compatible(f.name, cand.value, v, cand.number, n) {
					g = cand
					break
				}
			}
			if g == nil {
				g = &claimGroup{value: v, number: n}
				groups = append(groups, g)
			}
			g.sources = append(g.sources, s)
			g.authority = max(g.authority, s.Authority)
		}
		if len(groups) == 0 {
			var zero schemas.Contract
			if !eventOnly || f.name != "counterparty" {
				f.set(&c, &zero)
			}
			if f.name == schemas.FieldContractType {
				c.ContractType = schemas.TypeUnknown
			}
			continue
		}
		if eventOnly && f.name != "counterparty" {
			// An event's figures restate the original deal only to find it.
			var zero schemas.Contract
			f.set(&c, &zero)
			if f.name == schemas.FieldContractType {
				c.ContractType = schemas.TypeUnknown
			}
			continue
		}
		shown := chooseGroup(f.name, groups)
		// The shown value comes from the first (most authoritative) source that gave it.
		f.set(&c, shown.sources[0].Claims)
		distinct := 0
		for _, g := range groups {
			if f.name == "counterparty" && strings.HasPrefix(g.value, UndisclosedPrefix) && !strings.HasPrefix(shown.value, UndisclosedPrefix) {
				// An article that does not name the customer does not contradict one that does.
			} else {
				distinct++
			}
			fc := FieldClaim{Field: f.name, Value: g.value, Number: g.number, Authority: g.authority, Shown: g == shown}
			for _, s := range g.sources {
				fc.Sources = append(fc.Sources, s.URL)
			}
			d.Provenance = append(d.Provenance, fc)
		}
		if distinct > 1 {
			d.Conflicts = append(d.Conflicts, f.name)
		}
	}
	c.USDPerMWYear = schemas.DerivedUSDPerMWYear(c.TotalValueUSD, c.CapacityMW, c.TermYears)
	d.Contract = c
	d.Alerts = alerts
}

// sourceBefore orders sources by authority (highest first), then publication
// date (earliest first, unknown last), then URL.
func sourceBefore(a, b *DealSource) bool {
	if a.Authority != b.Authority {
		return a.Authority > b.Authority
	}
	pa, pb := deref(a.PublishedAt), deref(b.PublishedAt)
	if pa != pb {
		if pa == "" || pb == "" {
			return pb == ""
		}
		return pa < pb
	}
	return a.URL < b.URL
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// chooseGroup picks the value shown: a disclosed counterparty over a descriptor,
// then the highest authority, then the most sources, then the group whose best
// source comes first (sourceBefore). For dates, among groups that agree, the most
// precise one.
func chooseGroup(field string, groups []*claimGroup) *claimGroup {
	best := groups[0]
	better := func(a, b *claimGroup) bool {
		if field == "counterparty" {
			au, bu := strings.HasPrefix(a.value, UndisclosedPrefix), strings.HasPrefix(b.value, UndisclosedPrefix)
			if au != bu {
				return bu
			}
		}
		if a.authority != b.authority {
			return a.authority > b.authority
		}
		if len(a.sources) != len(b.sources) {
			return len(a.sources) > len(b.sources)
		}
		return sourceBefore(a.sources[0], b.sources[0])
	}
	for _, g := range groups[1:] {
		if better(g, best) {
			best = g
		}
	}
	return best
}
