package integration

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/stream"
	"github.com/mwledger/mwledger/stream/kafka"
)

// TestKafkaSecuredListeners publishes and consumes through the broker's SCRAM
// listener (SASL_PLAINTEXT) and its SCRAM-over-TLS listener (SASL_SSL), and
// checks that a wrong password and an untrusted certificate are refused.
func TestKafkaSecuredListeners(t *testing.T) {
	isolated(t)
	testkit.Kafka(t)
	saslAddr, sslAddr, ca := os.Getenv("MWLEDGER_TEST_KAFKA_SASL"), os.Getenv("MWLEDGER_TEST_KAFKA_SASL_SSL"), os.Getenv("MWLEDGER_TEST_KAFKA_CA")
	user, pass := os.Getenv("MWLEDGER_TEST_KAFKA_USER"), os.Getenv("MWLEDGER_TEST_KAFKA_PASSWORD")
	if saslAddr == "" || sslAddr == "" || ca == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("the secured Kafka listeners are not configured (eval \"$(scripts/services.sh env)\")")
		}
		t.Skip("secured Kafka listeners not configured; run eval \"$(scripts/services.sh env)\"")
	}
	tests := []struct {
		name        string
		addr        string
		sec         kafka.Security
		errContains string
	}{
		{name: "scram-sha-256", addr: saslAddr, sec: kafka.Security{SASL: "scram-sha-256", Username: user, Password: pass}},
		{name: "scram-sha-512 over tls", addr: sslAddr, sec: kafka.Security{TLS: true, CAFile: ca, SASL: "scram-sha-512", Username: user, Password: pass}},
		{name: "wrong password", addr: saslAddr, sec: kafka.Security{SASL: "scram-sha-256", Username: user, Password: "not-the-password"}, errContains: "SASL"},
		{name: "untrusted certificate", addr: sslAddr, sec: kafka.Security{TLS: true, SASL: "scram-sha-512", Username: user, Password: pass}, errContains: "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			cfg := kafka.Config{Brokers: []string{tt.addr}, Security: tt.sec}
			topic := fmt.Sprintf("mwledger.test.security.%d", time.Now().UnixNano())
			err := kafka.Ping(ctx, cfg)
			if tt.errContains != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errContains) {
					t.Fatalf("Ping = %v, want an error containing %q", err, tt.errContains)
				}
				if strings.Contains(err.Error(), tt.sec.Password) {
					t.Errorf("the error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := kafka.EnsureTopics(ctx, cfg, kafka.TopicSpec{Name: topic, Partitions: 1}); err != nil {
				t.Fatal(err)
			}
			pub, err := kafka.NewPublisher(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			if err := pub.Publish(ctx, stream.Message{Topic: topic, Key: []byte("k"), Value: []byte("secured")}); err != nil {
				t.Fatal(err)
			}
			c, err := kafka.NewConsumer(cfg, topic+"-group", topic)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			m, err := c.Fetch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if string(m.Value) != "secured" {
				t.Fatalf("read %q", m.Value)
			}
			if err := c.Commit(ctx, m); err != nil {
				t.Fatal(err)
			}
		})
	}
}
