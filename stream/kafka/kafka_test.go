package kafka

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name        string
		cfg         Config
		errContains string
	}{
		{"ok", Config{Brokers: []string{"127.0.0.1:19092"}}, ""},
		{"empty", Config{}, "Brokers is empty"},
		{"no port", Config{Brokers: []string{"localhost"}}, "not host:port"},
		{"negative", Config{Brokers: []string{"127.0.0.1:1"}, Partitions: -1}, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != (tt.errContains == "") || (err != nil && !contains(err.Error(), tt.errContains)) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.errContains)
			}
		})
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// fakeQueue is a kafka-go reader's queue: messages and errors in order.
type fakeQueue struct{ items []any }

func (q *fakeQueue) Queued() int { return len(q.items) }

func (q *fakeQueue) FetchMessage(ctx context.Context) (kafkago.Message, error) {
	if len(q.items) == 0 {
		<-ctx.Done()
		return kafkago.Message{}, ctx.Err()
	}
	it := q.items[0]
	q.items = q.items[1:]
	if err, ok := it.(error); ok {
		return kafkago.Message{}, err
	}
	return it.(kafkago.Message), nil
}

func TestFetchPastQueuedErrors(t *testing.T) {
	refused := errors.New("failed to dial: connection refused")
	msg := kafkago.Message{Partition: 3, Offset: 28}
	tests := []struct {
		name        string
		items       []any
		want        kafkago.Message
		errContains string
		left        int
	}{
		{"a message", []any{msg, refused}, msg, "", 1},
		{"one error", []any{refused}, kafkago.Message{}, "connection refused", 0},
		{"queued errors, then a message", []any{refused, refused, refused, msg, refused}, msg, "", 1},
		{"queued errors only", []any{refused, refused, refused}, kafkago.Message{}, "the last of 3 failed attempts", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			q := &fakeQueue{items: tt.items}
			got, err := fetchPastQueuedErrors[kafkago.Message](ctx, q)
			if (err == nil) != (tt.errContains == "") || (err != nil && !contains(err.Error(), tt.errContains)) {
				t.Fatalf("err = %v, want one containing %q", err, tt.errContains)
			}
			if err != nil && !errors.Is(err, refused) {
				t.Errorf("err = %v does not wrap the reader's error", err)
			}
			if got.Partition != tt.want.Partition || got.Offset != tt.want.Offset {
				t.Errorf("message = %d/%d, want %d/%d", got.Partition, got.Offset, tt.want.Partition, tt.want.Offset)
			}
			if q.Queued() != tt.left {
				t.Errorf("%d left in the queue, want %d", q.Queued(), tt.left)
			}
		})
	}
}
