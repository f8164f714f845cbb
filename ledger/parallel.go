package ledger

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelMin is the fewest items worth spreading over several goroutines.
const parallelMin = 64

// Parallel calls fn(i) for every i in [0, n), on up to GOMAXPROCS goroutines
// when n is large enough. fn must only touch what belongs to item i. The
// indexer's batches spend much of their time decoding and encoding JSON,
// item by item, while Elasticsearch waits: this uses every core for it.
func Parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n/parallelMin)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}
