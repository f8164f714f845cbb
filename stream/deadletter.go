package stream

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/mwledger/mwledger/schemas"
)

// DeadLetter publishes msg to the dead-letter topic with the reason it failed.
// It returns an error when the dead letter itself could not be written: the
// caller must then not commit msg.
func DeadLetter(ctx context.Context, pub Publisher, stage string, msg Message, cause error) error {
	dl, err := DeadLetterMessage(stage, msg, cause)
	if err != nil {
		return err
	}
	return pub.Publish(ctx, dl)
}

// DeadLetterMessage is the mwledger.dlq message for msg, which stage could not process.
func DeadLetterMessage(stage string, msg Message, cause error) (Message, error) {
	reason := deadLetterReason(cause)
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
		return Message{}, fmt.Errorf("encoding dead letter: %w", err)
	}
	return Message{Topic: schemas.TopicDLQ, Key: msg.Key, Value: v,
		Headers: map[string]string{"reason": reason, "stage": stage}}, nil
}

// deadLetterReason is the reason a dead letter gives for cause: its
// StageError's, else "error".
func deadLetterReason(cause error) string {
	var se *StageError
	if errors.As(cause, &se) {
		return se.Reason
	}
	return "error"
}
