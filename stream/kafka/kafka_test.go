package kafka

import (
	"strings"
	"testing"
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
