package alert

import (
	"slices"
	"testing"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/schemas"
)

// The alert message carries deal fields under their registry names: a field
// renamed in schemas.Fields fails here until the message follows.
func TestMessageFieldsMatchRegistry(t *testing.T) {
	deal := schemas.JSONNames(ledger.Deal{})
	own := []string{"text", "alert_id", "kind", "rule", "deal_id", "hyperscaler", "event", "raised_at"}
	for _, n := range schemas.JSONNames(Message{}) {
		if !slices.Contains(deal, n) && !slices.Contains(own, n) {
			t.Errorf("Message field %q is neither a deal field (schemas.Fields, ledger.Deal) nor one of the message's own %v", n, own)
		}
	}
}
