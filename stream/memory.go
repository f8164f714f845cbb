package stream

import (
	"context"
	"sync"
)

// Memory is an in-process bus for the embedded `mwledger run`: one append-only log per
// topic, consumers that read it in order, and Close to tell consumers that a topic
// is complete. It lives as long as the process; durability comes from the store
// the indexer writes to.
type Memory struct {
	mu     sync.Mutex
	cond   *sync.Cond
	logs   map[string][]Message
	closed map[string]bool
}

var _ Publisher = (*Memory)(nil)

// NewMemory returns an empty bus.
func NewMemory() *Memory {
	m := &Memory{logs: map[string][]Message{}, closed: map[string]bool{}}
	m.cond = sync.NewCond(&m.mu)
	return m
}

// Publish appends msgs to their topics.
func (m *Memory) Publish(ctx context.Context, msgs ...Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, msg := range msgs {
		msg.Offset = int64(len(m.logs[msg.Topic]))
		msg.Value = append([]byte(nil), msg.Value...)
		m.logs[msg.Topic] = append(m.logs[msg.Topic], msg)
	}
	m.cond.Broadcast()
	return nil
}

// CloseTopic marks topic complete: consumers get ErrClosed once they read it all.
func (m *Memory) CloseTopic(topic string) {
	m.mu.Lock()
	m.closed[topic] = true
	m.mu.Unlock()
	m.cond.Broadcast()
}

// Len is the number of messages ever published to topic.
func (m *Memory) Len(topic string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.logs[topic])
}

// Consumer returns a reader of topic starting at the first message.
func (m *Memory) Consumer(topic string) Consumer {
	return &memoryConsumer{bus: m, topic: topic}
}

type memoryConsumer struct {
	bus       *Memory
	topic     string
	next      int64
	committed int64
}

func (c *memoryConsumer) Fetch(ctx context.Context) (Message, error) {
	stop := context.AfterFunc(ctx, func() {
		c.bus.mu.Lock()
		c.bus.cond.Broadcast()
		c.bus.mu.Unlock()
	})
	defer stop()
	c.bus.mu.Lock()
	defer c.bus.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return Message{}, err
		}
		log := c.bus.logs[c.topic]
		if c.next < int64(len(log)) {
			msg := log[c.next]
			c.next++
			return msg, nil
		}
		if c.bus.closed[c.topic] {
			return Message{}, ErrClosed
		}
		c.bus.cond.Wait()
	}
}

func (c *memoryConsumer) Commit(_ context.Context, msgs ...Message) error {
	c.bus.mu.Lock()
	defer c.bus.mu.Unlock()
	for _, m := range msgs {
		if m.Offset+1 > c.committed {
			c.committed = m.Offset + 1
		}
	}
	return nil
}

func (c *memoryConsumer) Close() error { return nil }
