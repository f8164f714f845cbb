package stream

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Backoff is an exponential backoff with full jitter.
type Backoff struct {
	Min, Max time.Duration
	attempt  int
}

// Next returns the next wait.
func (b *Backoff) Next() time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = 100 * time.Millisecond
	}
	if hi <= 0 {
		hi = 30 * time.Second
	}
	d := lo << min(b.attempt, 20)
	if d > hi || d <= 0 {
		d = hi
	}
	b.attempt++
	return d/2 + rand.N(d/2+1)
}

// Reset starts over after a success.
func (b *Backoff) Reset() { b.attempt = 0 }

// Sleep waits d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Retry calls fn until it succeeds, returns a non-retryable error, or ctx ends.
func Retry(ctx context.Context, b *Backoff, onRetry func(err error, wait time.Duration), fn func() error) error {
	for {
		err := fn()
		if err == nil || !IsRetryable(err) {
			return err
		}
		if ctx.Err() != nil {
			return errors.Join(err, ctx.Err())
		}
		wait := b.Next()
		if onRetry != nil {
			onRetry(err, wait)
		}
		if err := Sleep(ctx, wait); err != nil {
			return err
		}
	}
}
