// Package review turns a reviewer's corrections into ledger changes: the
// shared part of `mwledger review` and the web page's review queue. Saving a
// reviewed article as a fixture is internal/fixturefile's.
package review

import (
	"fmt"
	"strings"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/schemas"
)

// CanonicalCorrections writes company names as the entities file spells them
// ("msft" → "Microsoft") and, when a named counterparty is corrected without
// saying whether it is a hyperscaler, adds the flag the entities file gives.
func CanonicalCorrections(cs []ledger.Correction) []ledger.Correction {
	g := extractor.DefaultGazetteer()
	out := append([]ledger.Correction(nil), cs...)
	flagGiven := false
	for _, c := range cs {
		flagGiven = flagGiven || c.Field == "hyperscaler"
	}
	for i, c := range out {
		switch c.Field {
		case schemas.FieldOperator, schemas.FieldCounterparty, schemas.FieldEndUser, schemas.FieldGuarantor:
		default:
			continue
		}
		if c.Value == "" || strings.HasPrefix(c.Value, "undisclosed: ") {
			if c.Field == schemas.FieldCounterparty && !flagGiven {
				out = append(out, ledger.Correction{Field: "hyperscaler", Value: "false"})
			}
			continue
		}
		ent := g.Lookup(c.Value)
		if ent != nil {
			out[i].Value = ent.Name
		}
		if c.Field == schemas.FieldCounterparty && !flagGiven {
			out = append(out, ledger.Correction{Field: "hyperscaler", Value: fmt.Sprint(ent != nil && ent.Hyperscaler)})
		}
	}
	return out
}
