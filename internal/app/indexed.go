package app

import (
	"context"
	"errors"
	"sync"

	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

// IndexedBus is the in-process bus of an embedded run whose sources keep
// state (a crawl seen-set, backfill resume points): Publish of articles
// returns only once they were extracted and their records stored in the
// ledger (or dead-lettered), so that what the state records as published is
// in the ledger even if the process is killed. The memory bus alone would
// lose what it held.
type IndexedBus struct {
	*stream.Memory

	mu        sync.Mutex
	cond      *sync.Cond
	done      map[string]int64 // topic → offsets committed by its stage (+1)
	stopped   bool
	stopCause error
}

// embeddedBus is the bus of the embedded pipeline: stream.Memory, or an
// IndexedBus when the source keeps state.
type embeddedBus interface {
	stream.Publisher
	Consumer(topic string) stream.Consumer
	CloseTopic(topic string)
}

var (
	_ embeddedBus = (*stream.Memory)(nil)
	_ embeddedBus = (*IndexedBus)(nil)
)

// errStagesStopped: the stages ended before the articles were indexed.
var errStagesStopped = errors.New("the extractor or indexer stopped before the articles were indexed")

// NewIndexedBus returns an empty acknowledging bus (see Embedded.AckBus).
func NewIndexedBus() *IndexedBus {
	b := &IndexedBus{Memory: stream.NewMemory(), done: map[string]int64{}}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// Consumer is the stage's consumer of topic; its commits release publishers.
func (b *IndexedBus) Consumer(topic string) stream.Consumer {
	return &ackConsumer{Consumer: b.Memory.Consumer(topic), bus: b, topic: topic}
}

// stop releases every waiting publisher with an error: a stage ended.
func (b *IndexedBus) stop(cause error) {
	b.mu.Lock()
	b.stopped = true
	if b.stopCause == nil {
		b.stopCause = cause
	}
	b.mu.Unlock()
	b.cond.Broadcast()
}

// Publish publishes; articles wait until they and every contract record
// published so far were committed by the extractor and the indexer.
func (b *IndexedBus) Publish(ctx context.Context, msgs ...stream.Message) error {
	if err := b.Memory.Publish(ctx, msgs...); err != nil {
		return err
	}
	articles := false
	for _, m := range msgs {
		articles = articles || m.Topic == schemas.TopicArticles
	}
	if !articles {
		return nil
	}
	target := int64(b.Memory.Len(schemas.TopicArticles))
	stop := context.AfterFunc(ctx, func() {
		b.mu.Lock()
		b.cond.Broadcast()
		b.mu.Unlock()
	})
	defer stop()
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		if b.done[schemas.TopicArticles] >= target && b.done[schemas.TopicContracts] >= int64(b.Memory.Len(schemas.TopicContracts)) {
			return nil
		}
		if b.stopped {
			return stream.Permanent("crawl", "stages_stopped", errors.Join(errStagesStopped, b.stopCause))
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		b.cond.Wait()
	}
}

type ackConsumer struct {
	stream.Consumer
	bus   *IndexedBus
	topic string
}

func (c *ackConsumer) Commit(ctx context.Context, msgs ...stream.Message) error {
	if err := c.Consumer.Commit(ctx, msgs...); err != nil {
		return err
	}
	c.bus.mu.Lock()
	for _, m := range msgs {
		if m.Offset+1 > c.bus.done[c.topic] {
			c.bus.done[c.topic] = m.Offset + 1
		}
	}
	c.bus.mu.Unlock()
	c.bus.cond.Broadcast()
	return nil
}
