package testkit

import (
	"context"
	"sync/atomic"

	"github.com/mwledger/mwledger/stream"
)

// CancelAfter publishes through Publisher and calls Cancel once N messages were
// published: a crawl stopped halfway, for the restart tests.
type CancelAfter struct {
	stream.Publisher
	N      int64
	Cancel context.CancelFunc
	count  atomic.Int64
}

// Publish publishes, then cancels when the count is reached.
func (p *CancelAfter) Publish(ctx context.Context, msgs ...stream.Message) error {
	if err := p.Publisher.Publish(ctx, msgs...); err != nil {
		return err
	}
	if p.count.Add(int64(len(msgs))) >= p.N {
		p.Cancel()
	}
	return nil
}
