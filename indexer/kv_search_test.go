package indexer

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// selectFirst puts the same first n hits in front as a full sort does, ties
// and missing keys included.
func TestSelectFirstAgreesWithSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	less := func(a, b keyed) bool {
		if a.ok != b.ok {
			return a.ok
		}
		if a.key != b.key {
			return a.key > b.key
		}
		return a.d.ID < b.d.ID
	}
	for round := range 50 {
		n := 1 + r.IntN(2000)
		hits := make([]keyed, n)
		for i := range hits {
			d := &Deal{}
			d.ID = fmt.Sprintf("deal-%05d", r.IntN(100000))
			hits[i] = keyed{float64(r.IntN(50)), r.IntN(5) > 0, d}
		}
		want := slices.Clone(hits)
		sort.Slice(want, func(i, j int) bool { return less(want[i], want[j]) })
		page := 1 + r.IntN(n)
		selectFirst(hits, page, less)
		got := hits[:page]
		sort.Slice(got, func(i, j int) bool { return less(got[i], got[j]) })
		for i := range got {
			if got[i] != want[i] && (less(got[i], want[i]) || less(want[i], got[i])) {
				t.Fatalf("round %d: hit %d of the first %d of %d differs from the sort", round, i, page, n)
			}
		}
	}
}
