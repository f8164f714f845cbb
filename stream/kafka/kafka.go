package kafka

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
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
type Consumer struct {
	r *kafkago.Reader
}

var _ stream.Consumer = (*Consumer)(nil)

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
	r := kafkago.NewReader(kafkago.ReaderConfig{
		Brokers:        cfg.Brokers,
		GroupID:        group,
		Topic:          topic,
		Dialer:         dialer,
		MinBytes:       1,
		MaxBytes:       int(cfg.MaxMessageBytes) * 2,
		MaxWait:        100 * time.Millisecond,
		StartOffset:    kafkago.FirstOffset,
		CommitInterval: 0, // synchronous commits: errors are returned, not hidden
		// Rebalance quickly when an instance dies so that another picks its partitions up.
		HeartbeatInterval: time.Second,
		SessionTimeout:    10 * time.Second,
		RebalanceTimeout:  10 * time.Second,
		JoinGroupBackoff:  500 * time.Millisecond,
	})
	return &Consumer{r: r}, nil
}

// Fetch returns the next message without committing it.
//
// A failed fetch is one failure, however many kafka-go queued: see
// fetchPastQueuedErrors.
func (c *Consumer) Fetch(ctx context.Context) (stream.Message, error) {
	m, err := fetchPastQueuedErrors(ctx, readerQueue{c.r})
	if err != nil {
		return stream.Message{}, err
	}
	h := map[string]string{}
	for _, kh := range m.Headers {
		h[kh.Key] = string(kh.Value)
	}
	return stream.Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Partition: m.Partition, Offset: m.Offset, Headers: h, HighWaterMark: m.HighWaterMark, Raw: m}, nil
}

// queuedReader is what fetchPastQueuedErrors needs of a kafka-go Reader.
type queuedReader interface {
	FetchMessage(ctx context.Context) (kafkago.Message, error)
	// Queued is the number of messages and errors waiting in the reader.
	Queued() int
}

type readerQueue struct{ *kafkago.Reader }

// Queued reads the reader's stats, which also zeroes its counters (dials,
// fetches, ...): nothing here reads them; Lag is a gauge.
func (r readerQueue) Queued() int { return int(r.Stats().QueueLength) }

// fetchPastQueuedErrors is FetchMessage, except that an error comes with the
// errors queued behind it, and a message queued behind them is returned
// instead. In a consumer group, kafka-go reads each partition in a goroutine
// that retries by itself (a broker gone, a leader moving: it looks the leader
// up again, at most a second apart) and, from its third failed attempt on,
// queues each failure in the channel the messages come through, to be
// returned by FetchMessage one at a time, in order. A stage that backs off
// after a failed fetch then waited once for every failure queued while the
// broker was down, long after the partition was read again: 14 failures
// queued during the 8 s before a killed broker's partitions moved cost 65 s
// (issue 16). The failures skipped are counted in the error returned.
func fetchPastQueuedErrors(ctx context.Context, r queuedReader) (kafkago.Message, error) {
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

// Commit commits the offsets of msgs.
func (c *Consumer) Commit(ctx context.Context, msgs ...stream.Message) error {
	km := make([]kafkago.Message, 0, len(msgs))
	for _, m := range msgs {
		if r, ok := m.Raw.(kafkago.Message); ok {
			km = append(km, r)
		}
	}
	if len(km) == 0 {
		return nil
	}
	if err := c.r.CommitMessages(ctx, km...); err != nil {
		return fmt.Errorf("committing %d offset(s): %w", len(km), err)
	}
	return nil
}

// Lag is the number of messages behind the end of the partitions this
// consumer holds, as last seen by the reader.
func (c *Consumer) Lag() int64 { return c.r.Stats().Lag }

// Close leaves the group.
func (c *Consumer) Close() error { return c.r.Close() }

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
