package extractor

import (
	"os"
	"testing"

	"github.com/mwledger/mwledger/schemas"
)

func TestEvents(t *testing.T) {
	x, err := New()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                 string
		html                 string
		typ                  string
		added, total, restMW float64
	}{
		{
			name: "option exercised",
			html: `<p>CoreWeave has exercised its option to lease an additional 150 MW from Applied Digital at Ellendale.</p>
<p>The two leases signed in June covered 250 MW for about $7 billion over 15 years. CoreWeave's commitment now rises to 400 MW.</p>`,
			typ: schemas.EventUpsize, added: 150, total: 400, restMW: 250,
		},
		{
			name: "cancellation",
			html: `<p>Microsoft has terminated its 200 MW contract with IREN, the company said.</p>`,
			typ:  schemas.EventCancellation, added: -1, total: -1, restMW: 200,
		},
		{
			name: "a new deal is not an event",
			html: `<p>Hut 8 signed a 15-year lease with Fluidstack for 245 MW worth $7 billion.</p>`,
			typ:  "", added: -1, total: -1, restMW: 245,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := onlyRecord(t, x, tt.html)
			if tt.typ == "" {
				if c.Event != nil {
					t.Fatalf("event %+v on a new deal", c.Event)
				}
				return
			}
			if c.Event == nil || c.Event.Type != tt.typ {
				t.Fatalf("event = %+v, want %s", c.Event, tt.typ)
			}
			if v(c.Event.AddedMW) != tt.added || v(c.Event.NewCapacityMW) != tt.total || v(c.CapacityMW) != tt.restMW {
				t.Errorf("added %v total %v restated %v", v(c.Event.AddedMW), v(c.Event.NewCapacityMW), v(c.CapacityMW))
			}
		})
	}
}

func TestUpsizeFixtureIsAnEvent(t *testing.T) {
	b, err := os.ReadFile("../fixtures/ledger/upsize-apld-coreweave-option.html")
	if err != nil {
		t.Fatal(err)
	}
	x, _ := New()
	p, err := ReadHTML(b, "")
	if err != nil {
		t.Fatal(err)
	}
	cs := x.FromPage(p, p.Canonical)
	if len(cs) != 1 || cs[0].Event == nil || cs[0].Event.Type != schemas.EventUpsize || !cs[0].Aggregate {
		t.Fatalf("records = %+v", cs)
	}
}
