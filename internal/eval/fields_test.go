package eval

import (
	"slices"
	"testing"

	"github.com/mwledger/mwledger/schemas"
)

// The golden record holds exactly the registry's golden fields, in its order.
func TestGoldenMatchesFieldRegistry(t *testing.T) {
	if got := schemas.JSONNames(Golden{}); !slices.Equal(got, Fields) {
		t.Errorf("Golden's JSON fields = %v\nschemas.Fields golden = %v", got, Fields)
	}
}
