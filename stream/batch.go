package stream

import (
	"context"
	"errors"
	"time"
)

// BatchEnd says why FetchBatch stopped the stream (More: it did not).
type BatchEnd int

const (
	// More: the stream goes on.
	More BatchEnd = iota
	// Closed: the topic was closed and drained (in-process bus).
	Closed
	// Idle: nothing arrived for the idle time.
	Idle
	// Cancelled: the context ended; the batch is empty (what was fetched and
	// not committed is delivered again).
	Cancelled
)

// FetchBatch waits for one message (at most idle, when positive), then takes
// what else arrives within linger, up to max messages: a stage amortises its
// publish, commit or bulk request over the batch, while a lone message waits
// only linger.
func FetchBatch(ctx context.Context, in Consumer, max int, linger, idle time.Duration) ([]Message, BatchEnd, error) {
	var batch []Message
	for len(batch) < max {
		var fctx context.Context
		var cancel context.CancelFunc
		switch {
		case len(batch) > 0:
			fctx, cancel = context.WithTimeout(ctx, linger)
		case idle > 0:
			fctx, cancel = context.WithTimeout(ctx, idle)
		default:
			fctx, cancel = context.WithCancel(ctx)
		}
		msg, err := in.Fetch(fctx)
		cancel()
		switch {
		case err == nil:
			batch = append(batch, msg)
		case errors.Is(err, ErrClosed):
			return batch, Closed, nil
		case ctx.Err() != nil:
			return nil, Cancelled, nil
		case errors.Is(err, context.DeadlineExceeded):
			if len(batch) == 0 {
				return nil, Idle, nil
			}
			return batch, More, nil
		default:
			return batch, More, err
		}
	}
	return batch, More, nil
}
