package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// Security is how a client authenticates to Kafka. The zero value is plaintext
// without authentication (the loopback test broker's default listener).
type Security struct {
	// TLS turns on TLS. Default false.
	TLS bool
	// CAFile is a PEM bundle of the CAs to trust. Default: the system roots.
	CAFile string
	// CertFile and KeyFile are a client certificate for mutual TLS. Default: none.
	CertFile, KeyFile string
	// SASL is the mechanism: "", "plain", "scram-sha-256" or "scram-sha-512". Default "".
	SASL string
	// Username and Password for SASL. Never logged.
	Username, Password string
}

// String describes the settings without the password.
func (s Security) String() string {
	return fmt.Sprintf("tls=%v sasl=%q user=%q", s.TLS, s.SASL, s.Username)
}

// Validate names the first bad field.
func (s Security) Validate() error {
	switch strings.ToLower(s.SASL) {
	case "":
	case "plain", "scram-sha-256", "scram-sha-512":
		if s.Username == "" || s.Password == "" {
			return fmt.Errorf("kafka: SASL %s needs a username and a password (MWLEDGER_KAFKA_USERNAME, MWLEDGER_KAFKA_PASSWORD)", s.SASL)
		}
	default:
		return fmt.Errorf("kafka: SASL mechanism %q is not one of plain, scram-sha-256, scram-sha-512", s.SASL)
	}
	if (s.CertFile == "") != (s.KeyFile == "") {
		return fmt.Errorf("kafka: give both a client certificate and its key, or neither")
	}
	if !s.TLS && (s.CAFile != "" || s.CertFile != "") {
		return fmt.Errorf("kafka: a CA or client certificate is set but TLS is off (MWLEDGER_KAFKA_TLS=true)")
	}
	return nil
}

func (s Security) tlsConfig() (*tls.Config, error) {
	if !s.TLS {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka: reading CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka: no certificate in CA file %s", s.CAFile)
		}
		cfg.RootCAs = pool
	}
	if s.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka: loading client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

func (s Security) mechanism() (sasl.Mechanism, error) {
	switch strings.ToLower(s.SASL) {
	case "plain":
		return plain.Mechanism{Username: s.Username, Password: s.Password}, nil
	case "scram-sha-256":
		return scram.Mechanism(scram.SHA256, s.Username, s.Password)
	case "scram-sha-512":
		return scram.Mechanism(scram.SHA512, s.Username, s.Password)
	}
	return nil, nil
}
