package stream

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestMemoryDeliversInOrderAndCloses(t *testing.T) {
	m := NewMemory()
	ctx := context.Background()
	c := m.Consumer("t")
	if err := m.Publish(ctx, Message{Topic: "t", Key: []byte("a"), Value: []byte("1")}, Message{Topic: "t", Key: []byte("b"), Value: []byte("2")}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"1", "2"} {
		msg, err := c.Fetch(ctx)
		if err != nil || string(msg.Value) != want || msg.Offset != int64(i) {
			t.Fatalf("fetch %d = %+v, %v; want value %s", i, msg, err, want)
		}
	}
	// Nothing more: Fetch waits until the context ends.
	wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := c.Fetch(wctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("fetch on an empty open topic = %v, want deadline exceeded", err)
	}
	m.CloseTopic("t")
	if _, err := c.Fetch(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("fetch on a drained closed topic = %v, want ErrClosed", err)
	}
}

func TestMemoryWakesWaitingConsumer(t *testing.T) {
	m := NewMemory()
	c := m.Consumer("t")
	got := make(chan string, 1)
	go func() {
		msg, err := c.Fetch(context.Background())
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(msg.Value)
	}()
	time.Sleep(10 * time.Millisecond)
	if err := m.Publish(context.Background(), Message{Topic: "t", Value: []byte("late")}); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-got:
		if v != "late" {
			t.Fatalf("got %q", v)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("waiting consumer was not woken")
	}
}
