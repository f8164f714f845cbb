package stream

import (
	"context"
	"errors"
)

// Message is one record on a topic.
type Message struct {
	Topic     string
	Key       []byte
	Value     []byte
	Partition int
	Offset    int64
	Headers   map[string]string
	// HighWaterMark is the partition's end offset when the message was
	// fetched, when the transport knows it (Kafka); 0 otherwise. The
	// consumer lag of metrics comes from it.
	HighWaterMark int64

	// Raw is the transport's own message, kept for its Commit (for
	// stream/kafka, a kafka-go message and the consumer group generation it
	// was fetched in); stages never look at it.
	Raw any
}

// Publisher writes messages; it returns only when the bus acknowledged all of them.
type Publisher interface {
	Publish(ctx context.Context, msgs ...Message) error
}

// Consumer reads the messages of one topic for one consumer group.
type Consumer interface {
	// Fetch blocks until a message is available. It returns ErrClosed when the
	// topic was closed and drained (in-process bus only) or ctx.Err().
	Fetch(ctx context.Context) (Message, error)
	// Commit marks messages as processed.
	Commit(ctx context.Context, msgs ...Message) error
	Close() error
}

// ErrClosed reports that a topic has no more messages and never will.
var ErrClosed = errors.New("bus: topic closed")
