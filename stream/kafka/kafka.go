package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/mwledger/mwledger/redact"
	"github.com/mwledger/mwledger/stream"
)

// Config says how to reach Kafka.
type Config struct {
	// Brokers is the list of host:port bootstrap addresses. Required.
	Brokers []string
	// BatchTimeout bounds how long the writer waits to fill a batch. Default 5ms
	// (kafka-go's own default of 1s adds a second to every synchronous write).
	BatchTimeout time.Duration
	// MaxMessageBytes is the largest message the writer sends. Default 16 MiB; the
	// broker's message.max.bytes must allow it.
	MaxMessageBytes int64
	// Partitions is used when EnsureTopics creates a topic. Default 6, so that up
	// to six instances of a stage can share the work.
	Partitions int
	// ReplicationFactor is used when EnsureTopics creates a topic. Default: 3,
	// or the number of brokers in the cluster when it has fewer (1 on a single
	// test broker). The topics' min.insync.replicas is the brokers' setting.
	ReplicationFactor int
	// Dial, when set, replaces the network dialer (tests use it to refuse
	// non-loopback addresses).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Security is TLS and SASL. Default: plaintext, no authentication.
	Security Security
}

// Validate names the first bad field.
func (c *Config) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("kafka: Brokers is empty (set --kafka or MWLEDGER_KAFKA, e.g. 127.0.0.1:19092)")
	}
	for _, b := range c.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			return fmt.Errorf("kafka: broker %q is not host:port (credentials go in MWLEDGER_KAFKA_USERNAME / MWLEDGER_KAFKA_PASSWORD): %w", redact.Text(b), redact.Error(err))
		}
	}
	if c.BatchTimeout < 0 || c.MaxMessageBytes < 0 || c.Partitions < 0 || c.ReplicationFactor < 0 {
		return errors.New("kafka: BatchTimeout, MaxMessageBytes, Partitions and ReplicationFactor must not be negative")
	}
	return c.Security.Validate()
}

func (c Config) withDefaults() Config {
	if c.BatchTimeout == 0 {
		c.BatchTimeout = 5 * time.Millisecond
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = 16 << 20
	}
	if c.Partitions == 0 {
		c.Partitions = 6
	}
	return c
}

// ParseBrokers splits a comma-separated broker list.
func ParseBrokers(s string) []string {
	var out []string
	for _, b := range strings.Split(s, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

func (c Config) transport() (*kafkago.Transport, error) {
	t := &kafkago.Transport{DialTimeout: 5 * time.Second, IdleTimeout: 30 * time.Second, MetadataTTL: 5 * time.Second}
	if c.Dial != nil {
		t.Dial = c.Dial
	}
	var err error
	if t.TLS, err = c.Security.tlsConfig(); err != nil {
		return nil, err
	}
	if t.SASL, err = c.Security.mechanism(); err != nil {
		return nil, err
	}
	return t, nil
}

func (c Config) dialer() (*kafkago.Dialer, error) {
	d := &kafkago.Dialer{Timeout: 5 * time.Second, DualStack: true}
	if c.Dial != nil {
		d.DialFunc = c.Dial
	}
	var err error
	if d.TLS, err = c.Security.tlsConfig(); err != nil {
		return nil, err
	}
	if d.SASLMechanism, err = c.Security.mechanism(); err != nil {
		return nil, err
	}
	return d, nil
}

// Publisher writes to Kafka with acks from all in-sync replicas and keys hashed
// to partitions, so that the messages of one key stay in order.
type Publisher struct {
	w *kafkago.Writer
}

var _ stream.Publisher = (*Publisher)(nil)

// NewPublisher returns a publisher; Close it when done.
func NewPublisher(cfg Config) (*Publisher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	tr, err := cfg.transport()
	if err != nil {
		return nil, err
	}
	w := &kafkago.Writer{
		Addr:         kafkago.TCP(cfg.Brokers...),
		Balancer:     &kafkago.Hash{},
		RequiredAcks: kafkago.RequireAll,
		BatchTimeout: cfg.BatchTimeout,
		BatchBytes:   cfg.MaxMessageBytes,
		Compression:  kafkago.Snappy,
		MaxAttempts:  5,
		Transport:    tr,
	}
	return &Publisher{w: w}, nil
}

// Publish writes msgs synchronously. On failure the error is a kafkago.WriteErrors
// when only some messages failed.
func (p *Publisher) Publish(ctx context.Context, msgs ...stream.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	km := make([]kafkago.Message, len(msgs))
	for i, m := range msgs {
		km[i] = kafkago.Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Headers: kafkaHeaders(m.Headers)}
	}
	if err := p.w.WriteMessages(ctx, km...); err != nil {
		return fmt.Errorf("publishing %d message(s) to kafka: %w", len(msgs), err)
	}
	return nil
}

// Close flushes and closes the writer.
func (p *Publisher) Close() error { return p.w.Close() }

func kafkaHeaders(h map[string]string) []kafkago.Header {
	if len(h) == 0 {
		return nil
	}
	out := make([]kafkago.Header, 0, len(h))
	for k, v := range h {
		out = append(out, kafkago.Header{Key: k, Value: []byte(v)})
	}
	return out
}

// Consumer reads one topic in a consumer group and commits explicitly.
//
// It joins the group with kafka-go's ConsumerGroup and reads each partition
// of a generation (one assignment of the group's partitions to its members)
// with a partition reader, rather than through a group Reader: that one
// commits the messages of an ended generation with the id of the next, so
// that a batch fetched before a rebalance and committed after it moves the
// new owner's committed offsets back, and the group keeps that lag for ever
// once the owner has read to the end (segmentio/kafka-go#1308). Here a
// message carries its generation, and Commit leaves out those of a
// generation that ended: the partition's owner in the new one reads them
// again from the group's committed offset (at-least-once).
type Consumer struct {
	cfg    Config
	dialer *kafkago.Dialer
	topic  string
	cg     *kafkago.ConsumerGroup
	// items brings the messages and errors of every partition reader.
	items  chan item
	cancel context.CancelFunc
	done   chan struct{}

	mu  sync.Mutex
	gen *kafkago.Generation // the latest generation; nil before the first
	lag map[int]int64       // per partition of gen, as last fetched
}

var _ stream.Consumer = (*Consumer)(nil)

// item is a message or an error of a partition reader of generation gen
// (nil: an error joining the group).
type item struct {
	msg kafkago.Message
	err error
	gen *kafkago.Generation
}

// delivery is a fetched message's stream.Message.Raw.
type delivery struct {
	msg kafkago.Message
	gen *kafkago.Generation
}

// NewConsumer joins group on topic. New groups start at the earliest offset.
func NewConsumer(cfg Config, group, topic string) (*Consumer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if group == "" || topic == "" {
		return nil, errors.New("kafka consumer: group and topic are required")
	}
	cfg = cfg.withDefaults()
	dialer, err := cfg.dialer()
	if err != nil {
		return nil, err
	}
	cg, err := kafkago.NewConsumerGroup(kafkago.ConsumerGroupConfig{
		ID:          group,
		Brokers:     cfg.Brokers,
		Dialer:      dialer,
		Topics:      []string{topic},
		StartOffset: kafkago.FirstOffset,
		// Rebalance quickly when an instance dies so that another picks its partitions up.
		HeartbeatInterval: time.Second,
		SessionTimeout:    10 * time.Second,
		RebalanceTimeout:  10 * time.Second,
		JoinGroupBackoff:  500 * time.Millisecond,
	})
	if err != nil {
		return nil, fmt.Errorf("kafka consumer: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Consumer{cfg: cfg, dialer: dialer, topic: topic, cg: cg, items: make(chan item, 100), cancel: cancel, done: make(chan struct{})}
	go c.run(ctx)
	return c, nil
}

// run follows the group from generation to generation: kafka-go joins,
// heartbeats and ends a generation (a member joins or leaves, the
// coordinator moves) and starts the next only once every reader of the
// last one has stopped.
func (c *Consumer) run(ctx context.Context) {
	defer close(c.done)
	failed := 0
	for {
		gen, err := c.cg.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, kafkago.ErrGroupClosed) {
				return
			}
			// kafka-go tries again by itself (after JoinGroupBackoff,
			// or when the coordinator says so). As its group Reader did,
			// the stage hears of every third failure in a row, as of a
			// partition that fails: a coordinator that is not ready yet
			// after a restart is not worth a warning.
			if failed++; failed%3 == 0 {
				select {
				case c.items <- item{err: fmt.Errorf("joining the consumer group: %w", err)}:
				default:
				}
			}
			continue
		}
		failed = 0
		c.mu.Lock()
		c.gen, c.lag = gen, map[int]int64{}
		c.mu.Unlock()
		for _, pa := range gen.Assignments[c.topic] {
			gen.Start(func(gctx context.Context) { c.readPartition(gctx, gen, pa) })
		}
	}
}

// readPartition reads one partition of gen from the group's committed
// offset until the generation ends. kafka-go's partition reader retries by
// itself (a broker gone, a leader moving) and, from its third failed
// attempt on, passes each failure on: see fetchPastQueuedErrors.
func (c *Consumer) readPartition(ctx context.Context, gen *kafkago.Generation, pa kafkago.PartitionAssignment) {
	r := kafkago.NewReader(kafkago.ReaderConfig{
		Brokers:   c.cfg.Brokers,
		Topic:     c.topic,
		Partition: pa.ID,
		Dialer:    c.dialer,
		MinBytes:  1,
		MaxBytes:  int(c.cfg.MaxMessageBytes) * 2,
		MaxWait:   100 * time.Millisecond,
		// A group reader queued at most 100 messages of all its
		// partitions; the partitions' queues and items together hold a
		// few hundred at most.
		QueueCapacity: 32,
	})
	defer r.Close()
	if err := r.SetOffset(pa.Offset); err != nil {
		select {
		case c.items <- item{err: fmt.Errorf("partition %d at offset %d: %w", pa.ID, pa.Offset, err), gen: gen}:
		case <-ctx.Done():
		}
		<-ctx.Done() // a reader that returns ends the generation
		return
	}
	for {
		m, err := r.FetchMessage(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			err = fmt.Errorf("partition %d: %w", pa.ID, err)
		}
		select {
		case c.items <- item{msg: m, err: err, gen: gen}:
		case <-ctx.Done():
			return
		}
	}
}

// Fetch returns the next message without committing it.
//
// A failed fetch is one failure, however many the partition readers queued:
// see fetchPastQueuedErrors.
func (c *Consumer) Fetch(ctx context.Context) (stream.Message, error) {
	d, err := fetchPastQueuedErrors(ctx, itemQueue{c})
	if err != nil {
		return stream.Message{}, err
	}
	m := d.msg
	h := map[string]string{}
	for _, kh := range m.Headers {
		h[kh.Key] = string(kh.Value)
	}
	return stream.Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Partition: m.Partition, Offset: m.Offset, Headers: h, HighWaterMark: m.HighWaterMark, Raw: d}, nil
}

// current is the latest generation.
func (c *Consumer) current() *kafkago.Generation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// itemQueue is the consumer's queue of messages and errors as a queuedReader.
type itemQueue struct{ c *Consumer }

// FetchMessage returns the next message or error of the latest generation:
// those of an ended generation are dropped (their partitions are read
// again, by whichever member holds them now).
func (q itemQueue) FetchMessage(ctx context.Context) (delivery, error) {
	for {
		select {
		case <-ctx.Done():
			return delivery{}, ctx.Err()
		case <-q.c.done:
			return delivery{}, io.ErrClosedPipe
		case it := <-q.c.items:
			q.c.mu.Lock()
			stale := it.gen != nil && it.gen != q.c.gen
			if !stale && it.err == nil {
				q.c.lag[it.msg.Partition] = max(it.msg.HighWaterMark-it.msg.Offset-1, 0)
			}
			q.c.mu.Unlock()
			if stale {
				continue
			}
			return delivery{msg: it.msg, gen: it.gen}, it.err
		}
	}
}

func (q itemQueue) Queued() int { return len(q.c.items) }

// queuedReader is what fetchPastQueuedErrors needs of a queue of messages
// and errors.
type queuedReader[M any] interface {
	FetchMessage(ctx context.Context) (M, error)
	// Queued is the number of messages and errors waiting in the queue.
	Queued() int
}

// fetchPastQueuedErrors is FetchMessage, except that an error comes with the
// errors queued behind it, and a message queued behind them is returned
// instead. kafka-go's partition reader retries by itself (a broker gone, a
// leader moving: it looks the leader up again, at most a second apart) and,
// from its third failed attempt on, queues each failure in the channel the
// messages come through, to be returned one at a time, in order. A stage
// that backs off after a failed fetch then waited once for every failure
// queued while the broker was down, long after the partition was read
// again: 14 failures queued during the 8 s before a killed broker's
// partitions moved cost 65 s (issue 16). The failures skipped are counted
// in the error returned.
func fetchPastQueuedErrors[M any](ctx context.Context, r queuedReader[M]) (M, error) {
	m, err := r.FetchMessage(ctx)
	skipped := 0
	for err != nil && ctx.Err() == nil && r.Queued() > 0 {
		next, nerr := r.FetchMessage(ctx)
		if nerr == nil {
			return next, nil
		}
		if ctx.Err() != nil {
			break
		}
		err = nerr
		skipped++
	}
	if err != nil && skipped > 0 {
		err = fmt.Errorf("%w (the last of %d failed attempts queued by the reader)", err, skipped+1)
	}
	return m, err
}

// Commit commits the offsets of msgs, leaving out those fetched in a
// generation of the group that has ended: their partitions may be another
// member's now, and that member may have committed past them. A commit that
// fails because the generation ends meanwhile (the broker refuses its id)
// returns the error; tried again, it leaves them out as well.
func (c *Consumer) Commit(ctx context.Context, msgs ...stream.Message) error {
	gen := c.current()
	offsets := map[int]int64{}
	for _, m := range msgs {
		d, ok := m.Raw.(delivery)
		if !ok || d.gen == nil || d.gen != gen {
			continue
		}
		offsets[d.msg.Partition] = max(offsets[d.msg.Partition], d.msg.Offset+1)
	}
	if len(offsets) == 0 {
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- gen.CommitOffsets(map[string]map[int]int64{c.topic: offsets}) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("committing %d partition offset(s) in generation %d: %w", len(offsets), gen.ID, err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Lag is the number of messages behind the end of the partitions this
// consumer holds, as last seen when fetching.
func (c *Consumer) Lag() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, l := range c.lag {
		n += l
	}
	return n
}

// Close leaves the group.
func (c *Consumer) Close() error {
	c.cancel()
	err := c.cg.Close()
	<-c.done
	return err
}

// TopicSpec describes a topic EnsureTopics creates.
type TopicSpec struct {
	Name       string
	Partitions int
	// Configs such as retention.ms; max.message.bytes is always set.
	Configs map[string]string
}

// EnsureTopics creates the topics that do not exist yet. Existing topics are left alone.
func EnsureTopics(ctx context.Context, cfg Config, topics ...TopicSpec) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	tr, err := cfg.transport()
	if err != nil {
		return err
	}
	client := &kafkago.Client{Addr: kafkago.TCP(cfg.Brokers...), Timeout: 15 * time.Second, Transport: tr}
	rf := cfg.ReplicationFactor
	if rf == 0 {
		md, err := client.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{}})
		if err != nil {
			return fmt.Errorf("reading the brokers of %v: %w", cfg.Brokers, err)
		}
		rf = min(3, max(len(md.Brokers), 1))
	}
	req := &kafkago.CreateTopicsRequest{}
	for _, t := range topics {
		n := t.Partitions
		if n == 0 {
			n = cfg.Partitions
		}
		entries := []kafkago.ConfigEntry{{ConfigName: "max.message.bytes", ConfigValue: fmt.Sprint(cfg.MaxMessageBytes + 1<<20)}}
		for k, v := range t.Configs {
			entries = append(entries, kafkago.ConfigEntry{ConfigName: k, ConfigValue: v})
		}
		req.Topics = append(req.Topics, kafkago.TopicConfig{Topic: t.Name, NumPartitions: n, ReplicationFactor: rf, ConfigEntries: entries})
	}
	resp, err := client.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("creating topics on %v: %w", cfg.Brokers, err)
	}
	for name, terr := range resp.Errors {
		if terr != nil && !errors.Is(terr, kafkago.TopicAlreadyExists) {
			return fmt.Errorf("creating topic %s: %w", name, terr)
		}
	}
	// Wait until the leaders are known, so the first write does not race the creation.
	deadline := time.Now().Add(15 * time.Second)
	for {
		md, err := client.Metadata(ctx, &kafkago.MetadataRequest{Topics: topicNames(topics)})
		if err == nil && allHaveLeaders(md) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("topics %v have no leader after 15s (last error: %v)", topicNames(topics), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func topicNames(ts []TopicSpec) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	return out
}

func allHaveLeaders(md *kafkago.MetadataResponse) bool {
	for _, t := range md.Topics {
		if t.Error != nil || len(t.Partitions) == 0 {
			return false
		}
		for _, p := range t.Partitions {
			if p.Error != nil || p.Leader.Host == "" {
				return false
			}
		}
	}
	return true
}

// Ping connects to the first reachable broker with the configured TLS and SASL and
// returns why it could not: a clear error at start-up instead of retries later.
func Ping(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	d, err := cfg.withDefaults().dialer()
	if err != nil {
		return err
	}
	var errs []error
	for _, b := range cfg.Brokers {
		conn, err := d.DialContext(ctx, "tcp", b)
		if err == nil {
			return conn.Close()
		}
		errs = append(errs, fmt.Errorf("%s: %w", b, err))
	}
	return fmt.Errorf("connecting to kafka (%s): %w", cfg.Security, errors.Join(errs...))
}
