package extractor

import "testing"

func TestHypothetical(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"Bitdeer could sign a 200 MW deal with a hyperscaler.", true},
		{"The miner plans to sign a lease with Microsoft next year.", true},
		{"Hut 8 leased 352 MW to an investment-grade client it would not identify.", false},
		{"IREN signed a five-year contract with Microsoft.", false},
		{"IREN will provide Microsoft with GB300 capacity.", false},
	}
	for _, tt := range tests {
		if got := tag(tt.in).hypothetical(); got != tt.want {
			t.Errorf("hypothetical(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestProperSubject(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Northwind Compute signed a 40 MW lease with Microsoft.", "Northwind Compute"},
		{"Northwind has signed a lease with Microsoft.", "Northwind"},
		{"The company signed a lease with Microsoft.", ""},
		{"Analysts expect Northwind to sign a lease.", ""},
		{"CEO Jane Doe said the lease was signed.", ""},
	}
	for _, tt := range tests {
		if got := tag(tt.in).properSubject(); got != tt.want {
			t.Errorf("properSubject(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
