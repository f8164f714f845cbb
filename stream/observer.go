package stream

import (
	"context"
	"time"
)

// Observer hears what Run does, for metrics. Its methods are called from the
// stage's loop: they must be quick and must not block.
type Observer interface {
	// Retrying: a call to the BatchFunc is about to be repeated for n
	// messages that failed in a retryable way.
	Retrying(stage string, n int)
	// BatchDone: a batch was published and committed.
	BatchDone(stage string, b BatchReport)
}

// BatchReport is what one committed batch did.
type BatchReport struct {
	// Messages read; Published downstream (dead letters not counted).
	Messages, Published int
	// DeadLetters counts the messages sent to the dead-letter topic, by reason.
	DeadLetters map[string]int
	// Took is the time from the batch's fetch to its commit.
	Took time.Duration
	// Lag is, per partition of the batch whose transport knows its high-water
	// mark (Message.HighWaterMark > 0), how many messages are left after the
	// batch's last one.
	Lag []PartitionLag
}

// PartitionLag is a consumer's distance from the end of one partition.
type PartitionLag struct {
	Topic     string
	Partition int
	Lag       int64
}

type observerKey struct{}

// WithObserver returns a context whose Run calls report to o (as
// httptrace.WithClientTrace does for HTTP requests): a command hooks the
// metrics of whichever stage it runs without the stage knowing.
// RunnerConfig.Observer, when set, takes precedence.
func WithObserver(ctx context.Context, o Observer) context.Context {
	return context.WithValue(ctx, observerKey{}, o)
}

// ObserverFrom returns the context's Observer, or nil.
func ObserverFrom(ctx context.Context) Observer {
	o, _ := ctx.Value(observerKey{}).(Observer)
	return o
}

// batchLag is the lag after the last message of each partition in batch.
func batchLag(batch []Message) []PartitionLag {
	type tp struct {
		topic     string
		partition int
	}
	last := map[tp]Message{}
	var order []tp
	for _, m := range batch {
		if m.HighWaterMark <= 0 {
			continue
		}
		k := tp{m.Topic, m.Partition}
		p, ok := last[k]
		if !ok {
			order = append(order, k)
		}
		if !ok || m.Offset >= p.Offset {
			last[k] = m
		}
	}
	out := make([]PartitionLag, 0, len(order))
	for _, k := range order {
		m := last[k]
		out = append(out, PartitionLag{Topic: k.topic, Partition: k.partition, Lag: max(m.HighWaterMark-m.Offset-1, 0)})
	}
	return out
}
