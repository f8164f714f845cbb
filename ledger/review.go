package ledger

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mwledger/mwledger/schemas"
)

// Reviews. A reviewer accepts a deal as shown or corrects some of its fields.
// The verdict is stored on the deal (Deal.Review) and applied after the deal is
// recomputed from its sources, on every later merge too: a correction is never
// undone by a source arriving afterwards, and the sources' own claims stay in
// the provenance next to the reviewer's.

// ReviewFields are the fields a correction may set. "counterparty" takes a
// name, or "undisclosed: <descriptor>"; "hyperscaler" is the counterparty's
// flag (true or false); numbers are plain (9700000000, 9.7e9); announced_on is
// YYYY-MM-DD or YYYY-MM; contract_type one of schemas' types. The value "-"
// (or empty) says the field is not known.
var ReviewFields = reviewFields()

// reviewFields are the registry's Review fields, with "hyperscaler" after
// "counterparty".
func reviewFields() []string {
	var out []string
	for _, f := range schemas.Fields {
		if f.Review {
			out = append(out, f.Name)
		}
		if f.Name == "counterparty" {
			out = append(out, "hyperscaler")
		}
	}
	return out
}

// ReviewThreshold: deals with a lower confidence are listed for review.
const ReviewThreshold = 0.7

// ReviewSource is the provenance "source" of a reviewer's value.
const ReviewSource = "review"

// reviewAuthority ranks a reviewer's value above any source (see authority.go).
const reviewAuthority = 100

var (
	// ErrNoDeal is returned when a reviewed deal does not exist.
	ErrNoDeal = errors.New("no such deal")
	dateRe    = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$`)
)

// ParseCorrection checks one field=value correction and normalises its value.
func ParseCorrection(field, value string) (Correction, error) {
	field = strings.TrimSpace(strings.ToLower(field))
	value = strings.TrimSpace(value)
	if value == "-" {
		value = ""
	}
	if len(value) > MaxFilterBytes {
		return Correction{}, fmt.Errorf("%s: value longer than %d bytes", field, MaxFilterBytes)
	}
	known := false
	for _, f := range ReviewFields {
		known = known || f == field
	}
	if !known {
		return Correction{}, fmt.Errorf("cannot correct %q: fields are %s", field, strings.Join(ReviewFields, ", "))
	}
	switch field {
	case "operator":
		if value == "" {
			return Correction{}, errors.New("operator cannot be empty")
		}
	case "hyperscaler":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return Correction{}, fmt.Errorf("hyperscaler: %q is not true or false", value)
		}
		value = strconv.FormatBool(b)
	case schemas.FieldContractType:
		switch value {
		case schemas.TypeColocation, schemas.TypeBareMetal, schemas.TypeCloudServices, schemas.TypeUnknown:
		case "":
			value = schemas.TypeUnknown
		default:
			return Correction{}, fmt.Errorf("contract_type: %q is not one of %s, %s, %s, %s", value,
				schemas.TypeColocation, schemas.TypeBareMetal, schemas.TypeCloudServices, schemas.TypeUnknown)
		}
	case schemas.FieldAnnouncedOn:
		if value != "" && (!dateRe.MatchString(value) || !dateExists(value)) {
			return Correction{}, fmt.Errorf("announced_on: %q is not a date YYYY-MM-DD or YYYY-MM", value)
		}
	case "counterparty":
		if strings.HasPrefix(strings.ToLower(value), "undisclosed:") {
			d := strings.TrimSpace(value[len("undisclosed:"):])
			if d == "" {
				return Correction{}, errors.New(`counterparty: "undisclosed:" needs a descriptor, e.g. "undisclosed: investment-grade hyperscaler"`)
			}
			value = UndisclosedPrefix + d
		}
	default:
		if isNumberField(field) && value != "" {
			n, err := strconv.ParseFloat(strings.ReplaceAll(strings.ReplaceAll(value, ",", ""), "_", ""), 64)
			if err != nil || n < 0 || math.IsNaN(n) || math.IsInf(n, 0) {
				return Correction{}, fmt.Errorf("%s: %q is not a non-negative number", field, value)
			}
			if err := CheckFigure(field, n); err != nil {
				return Correction{}, err // 1.7e308 MW would make sums infinite
			}
			value = strconv.FormatFloat(n, 'f', -1, 64)
		}
	}
	return Correction{Field: field, Value: value}, nil
}

func isNumberField(f string) bool { return schemas.IsNumber(f) }

// setField writes a correction's value into c.
func setField(c *schemas.Contract, field, value string) {
	str := func() *string {
		if value == "" {
			return nil
		}
		v := value
		return &v
	}
	num := func() *float64 {
		n, err := strconv.ParseFloat(value, 64)
		if value == "" || err != nil {
			return nil
		}
		return &n
	}
	party := func() *schemas.Party {
		if value == "" {
			return nil
		}
		return &schemas.Party{Name: value}
	}
	switch field {
	case "operator":
		c.Operator = schemas.Operator{Name: value}
	case "counterparty":
		hs := c.Counterparty.Hyperscaler
		switch {
		case value == "":
			c.Counterparty = schemas.Counterparty{}
		case strings.HasPrefix(value, UndisclosedPrefix):
			d := strings.TrimPrefix(value, UndisclosedPrefix)
			c.Counterparty = schemas.Counterparty{Descriptor: &d}
		default:
			c.Counterparty = schemas.Counterparty{Name: str()}
		}
		c.Counterparty.Hyperscaler = hs
	case "hyperscaler":
		c.Counterparty.Hyperscaler = value == "true"
	case schemas.FieldContractType:
		c.ContractType = value
	default:
		f, ok := schemas.FieldByName(field)
		switch {
		case !ok || !f.Review:
		case f.Number != nil:
			*f.Number(c) = num()
		case f.Text != nil:
			*f.Text(c) = str()
		case f.Party != nil:
			*f.Party(c) = party()
		}
	}
}

// ApplyCorrections writes corrections into a record and derives its $/MW/year
// again (a golden record made from a reviewer's correction).
func ApplyCorrections(c *schemas.Contract, cs []Correction) {
	for _, cr := range cs {
		setField(c, cr.Field, cr.Value)
	}
	c.USDPerMWYear = schemas.DerivedUSDPerMWYear(c.TotalValueUSD, c.CapacityMW, c.TermYears)
}

// FieldValue is a field of c as a correction would write it ("" when unknown).
func FieldValue(c schemas.Contract, field string) string {
	switch field {
	case "operator":
		return c.Operator.Name
	case "hyperscaler":
		return strconv.FormatBool(c.Counterparty.Hyperscaler)
	}
	for _, f := range fields {
		if f.name == field {
			v, _, _ := f.get(&c)
			if field == schemas.FieldContractType && v == "" {
				return schemas.TypeUnknown
			}
			return v
		}
	}
	return ""
}

// applyReview writes the review's corrections over the recomputed deal and
// shows them in the provenance, above what the sources said.
func applyReview(d *Deal) {
	if d.Review == nil {
		return
	}
	for _, cr := range d.Review.Corrections {
		setField(&d.Contract, cr.Field, cr.Value)
		if cr.Field == "hyperscaler" || cr.Field == "operator" {
			continue
		}
		for i := range d.Provenance {
			if d.Provenance[i].Field == cr.Field {
				d.Provenance[i].Shown = false
			}
		}
		fc := FieldClaim{Field: cr.Field, Value: cr.Value, Sources: []string{ReviewSource}, Authority: reviewAuthority, Shown: true}
		if isNumberField(cr.Field) && cr.Value != "" {
			n, _ := strconv.ParseFloat(cr.Value, 64)
			fc.Number = &n
		}
		d.Provenance = append(d.Provenance, fc)
	}
	d.USDPerMWYear = schemas.DerivedUSDPerMWYear(d.TotalValueUSD, d.CapacityMW, d.TermYears)
}

// rederive recomputes everything a deal shows from its sources, its review and
// its events.
func rederive(d *Deal) {
	recompute(d)
	applyReview(d)
	applyEvents(d)
	d.ReviewReasons = ReviewReasons(*d)
	SetKeys(&d.Contract)
}

// SetKeys writes the names' keys beside them (schemas.Key): the ledger
// stores operator.key and counterparty.key with every deal it writes. The
// counterparty's is the key of its label: its name, or the descriptor of an
// undisclosed one. Identity resolution compares names by these keys only.
func SetKeys(c *schemas.Contract) {
	c.Operator.Key = schemas.Key(c.Operator.Name)
	c.Counterparty.Key = schemas.Key(c.Counterparty.Label())
}

// ReviewAction is what a reviewer does to a deal.
type ReviewAction struct {
	// Accept marks the deal as right as shown (after any corrections given too).
	Accept bool
	// Corrections to apply; a field corrected before is replaced.
	Corrections []Correction
	// Reset drops the deal's review and all its corrections first.
	Reset bool
	By    string
	Note  string
}

// Validate checks the action.
func (a ReviewAction) Validate() error {
	if strings.TrimSpace(a.By) == "" {
		return errors.New("review: say who reviews (reviewer name)")
	}
	if len(a.By) > MaxFilterBytes || len(a.Note) > maxNoteBytes {
		return fmt.Errorf("review: reviewer name over %d bytes or note over %d bytes", MaxFilterBytes, maxNoteBytes)
	}
	if !a.Accept && !a.Reset && len(a.Corrections) == 0 {
		return errors.New("review: nothing to do: accept, reset or give corrections")
	}
	seen := map[string]bool{}
	for _, c := range a.Corrections {
		if _, err := ParseCorrection(c.Field, c.Value); err != nil {
			return err
		}
		if seen[c.Field] {
			return fmt.Errorf("review: %s corrected twice", c.Field)
		}
		seen[c.Field] = true
	}
	return nil
}

// ApplyReview applies a reviewer's action a (valid) to deal old at time now
// and returns the new deal, with the alerts policy (may be nil) raises for
// it. Stores write it in place of old, conditionally.
func ApplyReview(old *Deal, a ReviewAction, policy AlertPolicy, now time.Time) Deal {
	d := reviewed(old, a, now)
	if policy != nil {
		raiseAlerts(policy, old, &d, now)
	}
	return d
}

// reviewed applies action a to deal old at time now and returns the new deal.
func reviewed(old *Deal, a ReviewAction, now time.Time) Deal {
	d := cloneDeal(old)
	var r Review
	if old.Review != nil && !a.Reset {
		r = *old.Review
		r.Corrections = append([]Correction(nil), old.Review.Corrections...)
	}
	for _, c := range a.Corrections {
		c, _ = ParseCorrection(c.Field, c.Value) // validated
		// Was is what the sources said, whatever an earlier correction set.
		base := cloneDeal(old)
		base.Review = nil
		rederive(&base)
		c.Was = FieldValue(base.Contract, c.Field)
		kept := r.Corrections[:0]
		for _, have := range r.Corrections {
			if have.Field != c.Field {
				kept = append(kept, have)
			}
		}
		r.Corrections = append(kept, c)
	}
	sort.SliceStable(r.Corrections, func(i, j int) bool { return fieldOrder(r.Corrections[i].Field) < fieldOrder(r.Corrections[j].Field) })
	switch {
	case len(r.Corrections) > 0:
		r.Status = ReviewCorrected
	case a.Accept:
		r.Status = ReviewAccepted
	}
	r.By, r.At, r.Note, r.RecordCount = a.By, now.UTC(), a.Note, len(old.RecordIDs)
	if r.Status == "" { // a reset and nothing else
		d.Review = nil
	} else {
		d.Review = &r
	}
	rederive(&d)
	d.IndexedAt = now
	return d
}

func fieldOrder(f string) int {
	for i, x := range ReviewFields {
		if x == f {
			return i
		}
	}
	return len(ReviewFields)
}

// ReviewReasons says why a deal needs a reviewer: low confidence, sources in
// conflict, failed plausibility checks. A reviewed deal needs none until a new
// record arrives (then the reasons are listed again, with "new sources").
func ReviewReasons(d Deal) []string {
	var why []string
	if d.Confidence < ReviewThreshold {
		why = append(why, fmt.Sprintf("confidence %.2f", d.Confidence))
	}
	if len(d.Conflicts) > 0 {
		why = append(why, "conflicts: "+strings.Join(d.Conflicts, ","))
	}
	why = append(why, d.Warnings...)
	if d.Review != nil && len(why) > 0 {
		if len(d.RecordIDs) <= d.Review.RecordCount {
			return nil
		}
		why = append([]string{fmt.Sprintf("%d new record(s) since the %s review", len(d.RecordIDs)-d.Review.RecordCount, d.Review.Status)}, why...)
	}
	return why
}
