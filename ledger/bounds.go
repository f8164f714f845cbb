package ledger

import (
	"fmt"
	"github.com/mwledger/mwledger/schemas"
	"math"
	"time"
)

// Bounds of what a query or a reviewer's correction may say. Numbers must be
// finite and within the sane range of their field: a deal of 1.7e308 MW would
// make sums infinite and means NaN, which no JSON encoder writes. The bounds are
// far above any real contract (the largest announced are a few GW and a few
// hundred billion dollars) and far below overflow (a sum over a million deals
// stays finite).
const (
	// MaxCapacityMW bounds capacity_mw (and MW query bounds): 1 TW.
	MaxCapacityMW = 1e6
	// MaxUSD bounds dollar amounts (total value, prepayment, guarantee): $100 trillion.
	MaxUSD = 1e14
	// MaxUSDPerMWYear bounds $/MW/year: $1 billion per MW per year.
	MaxUSDPerMWYear = 1e9
	// MaxTermYears bounds term_years.
	MaxTermYears = 200

	// MaxTextBytes bounds Query.Text (free text), MaxTextWords its words: each
	// word is a lookup per deal.
	MaxTextBytes = 1000
	MaxTextWords = 32
	// MaxFilterBytes bounds each text filter of a query (operator,
	// counterparty, location, hardware, dates, sort, order, type).
	MaxFilterBytes = 200
)

// maxNoteBytes bounds a review's note.
const maxNoteBytes = 4000

// dateExists says whether a YYYY-MM-DD or YYYY-MM date is on the calendar
// (2025-02-30 is not).
func dateExists(s string) bool {
	layout := "2006-01-02"
	if len(s) == 7 {
		layout = "2006-01"
	}
	_, err := time.Parse(layout, s)
	return err == nil
}

// fieldMax is the largest value of each numeric deal field.
var fieldMax = map[string]float64{
	schemas.FieldCapacityMW:           MaxCapacityMW,
	schemas.FieldTotalValueUSD:        MaxUSD,
	schemas.FieldPrepaymentUSD:        MaxUSD,
	schemas.FieldGuaranteeUSD:         MaxUSD,
	schemas.FieldUSDPerMWYear:         MaxUSDPerMWYear,
	schemas.FieldReportedUSDPerMWYear: MaxUSDPerMWYear,
	schemas.FieldTermYears:            MaxTermYears,
}

// CheckFigure says whether v is a value field may hold: finite, not negative,
// at most the field's bound.
func CheckFigure(field string, v float64) error {
	hi, ok := fieldMax[field]
	if !ok {
		return fmt.Errorf("%s is not a numeric field", field)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > hi {
		return fmt.Errorf("%s: %v is not a number from 0 to %g", field, v, hi)
	}
	return nil
}
