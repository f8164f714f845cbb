// Package pipeline holds what the three stages share: the typed stage error that
// says whether to retry or dead-letter, the dead-letter writer, and retry backoff.
package pipeline

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
	"unicode/utf8"

	"github.com/mwledger/mwledger/internal/bus"
	"github.com/mwledger/mwledger/schemas"
)

// StageError tells a consumer what to do with a message that failed: retry it
// later (Retryable) or send it to the dead-letter topic with Reason.
type StageError struct {
	Stage     string // "crawl", "extract", "index"
	Reason    string // short machine-readable reason: invalid_json, schema_version, too_large, ...
	Retryable bool
	Err       error
}

func (e *StageError) Error() string {
	return fmt.Sprintf("%s: %s: %v", e.Stage, e.Reason, e.Err)
}

func (e *StageError) Unwrap() error { return e.Err }

// Permanent returns a non-retryable StageError.
func Permanent(stage, reason string, err error) error {
	return &StageError{Stage: stage, Reason: reason, Err: err}
}

// Retryable returns a retryable StageError.
func Retryable(stage, reason string, err error) error {
	return &StageError{Stage: stage, Reason: reason, Retryable: true, Err: err}
}

// IsRetryable reports whether err says to try again. Context errors are not
// retryable (the stage is stopping) and other errors are treated as retryable:
// losing a message is worse than trying it twice.
func IsRetryable(err error) bool {
	var se *StageError
	if errors.As(err, &se) {
		return se.Retryable
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// DeadLetter publishes msg to the dead-letter topic with the reason it failed.
// It returns an error when the dead letter itself could not be written: the
// caller must then not commit msg.
func DeadLetter(ctx context.Context, pub bus.Publisher, stage string, msg bus.Message, cause error) error {
	dl, err := DeadLetterMessage(stage, msg, cause)
	if err != nil {
		return err
	}
	return pub.Publish(ctx, dl)
}

// DeadLetterMessage is the mwledger.dlq message for msg, which stage could not process.
func DeadLetterMessage(stage string, msg bus.Message, cause error) (bus.Message, error) {
	reason := "error"
	var se *StageError
	if errors.As(cause, &se) {
		reason = se.Reason
	}
	dl := schemas.DeadLetter{
		SchemaVersion: schemas.Version,
		Stage:         stage,
		Reason:        reason,
		Error:         cause.Error(),
		FailedAt:      time.Now().UTC(),
		Topic:         msg.Topic,
		Partition:     msg.Partition,
		Offset:        msg.Offset,
		Key:           string(msg.Key),
	}
	if utf8.Valid(msg.Value) {
		dl.Payload = string(msg.Value)
	} else {
		dl.Payload, dl.PayloadBase64 = base64.StdEncoding.EncodeToString(msg.Value), true
	}
	v, err := json.Marshal(dl)
	if err != nil {
		return bus.Message{}, fmt.Errorf("encoding dead letter: %w", err)
	}
	return bus.Message{Topic: schemas.TopicDLQ, Key: msg.Key, Value: v,
		Headers: map[string]string{"reason": reason, "stage": stage}}, nil
}

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
