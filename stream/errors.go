package stream

import (
	"context"
	"errors"
	"fmt"

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

// Decode is schemas.Decode for a stage: a message that does not decode is a
// permanent StageError with the decode's reason (invalid_json, schema_version,
// schema_invalid), so that the runner dead-letters it.
func Decode[T any](stage, schema string, msg []byte) (T, error) {
	v, err := schemas.Decode[T](schema, msg)
	if err != nil {
		reason := schemas.ReasonInvalidJSON
		var de *schemas.DecodeError
		if errors.As(err, &de) {
			reason = de.Reason
		}
		return v, Permanent(stage, reason, err)
	}
	return v, nil
}
