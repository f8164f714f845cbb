package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/mwledger/mwledger/redact"
	"github.com/mwledger/mwledger/stream"
)

// Topic is the Kafka topic alerts are published to (key = alert id).
const Topic = "mwledger.alerts"

// Sink delivers alert messages somewhere. Send returns nil only when the
// receiver acknowledged the message; any error is retried later.
type Sink interface {
	Name() string
	Send(ctx context.Context, msg Message) error
}

// LogSink writes each alert as one structured log line.
type LogSink struct{ Log *slog.Logger }

// Name is "log".
func (LogSink) Name() string { return "log" }

// Send logs the alert.
func (s LogSink) Send(_ context.Context, m Message) error {
	s.Log.Info("ALERT "+m.Text, "alert_id", m.AlertID, "kind", m.Kind, "rule", m.Rule, "deal", m.DealID)
	return nil
}

// KafkaSink publishes each alert to the mwledger.alerts topic.
type KafkaSink struct {
	Pub stream.Publisher
	// Topic defaults to mwledger.alerts.
	Topic string
}

// Name is "kafka".
func (KafkaSink) Name() string { return "kafka" }

// Send publishes the message (JSON, key = alert id) and waits for the ack.
func (s KafkaSink) Send(ctx context.Context, m Message) error {
	v, err := json.Marshal(m)
	if err != nil {
		return err
	}
	topic := s.Topic
	if topic == "" {
		topic = Topic
	}
	return s.Pub.Publish(ctx, stream.Message{Topic: topic, Key: []byte(m.AlertID), Value: v,
		Headers: map[string]string{"kind": m.Kind, "deal_id": m.DealID}})
}

// WebhookConfig configures a webhook sink.
type WebhookConfig struct {
	// URL receives a JSON POST per alert (Slack incoming-webhook compatible:
	// "text" plus the structured fields). Required, http or https.
	URL string
	// Timeout of one POST. Default 10s.
	Timeout time.Duration
	// Client, when set, is used instead of a default client (tests).
	Client *http.Client
}

// Validate names the first bad field.
func (c *WebhookConfig) Validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("webhook: URL %q must be an http:// or https:// URL", redact.SecretURL(c.URL))
	}
	if c.Timeout < 0 {
		return errors.New("webhook: Timeout must not be negative")
	}
	return nil
}

// WebhookSink POSTs each alert as JSON.
type WebhookSink struct {
	cfg    WebhookConfig
	client *http.Client
}

// NewWebhookSink validates cfg.
func NewWebhookSink(cfg WebhookConfig) (*WebhookSink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	// The path and query of a webhook URL are its secret (Slack's are): they
	// are redacted from every log line and error from now on.
	redact.SecretURL(cfg.URL)
	c := cfg.Client
	if c == nil {
		c = &http.Client{Timeout: cfg.Timeout}
	}
	return &WebhookSink{cfg: cfg, client: c}, nil
}

// Name is "webhook".
func (*WebhookSink) Name() string { return "webhook" }

// Send POSTs the message; a 2xx answer is an acknowledgement. The alert id is
// also sent as Idempotency-Key so that a receiver can drop the rare duplicate
// (a crash between its 2xx and our acknowledgement in the store).
func (s *WebhookSink) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", m.AlertID)
	res, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = redact.SecretURL(ue.URL) // its message quotes the URL
		}
		return fmt.Errorf("webhook: %w", err)
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("webhook: status %s", res.Status)
	}
	return nil
}
