package es

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

func TestESConfigValidate(t *testing.T) {
	fp := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name        string
		cfg         Config
		errContains string
	}{
		{name: "plain", cfg: Config{Addresses: []string{"http://127.0.0.1:9200"}}},
		{name: "basic over https with a CA", cfg: Config{Addresses: []string{"https://es:9200"}, Username: "u", Password: "p", CAFile: "ca.pem"}},
		{name: "api key and pin with colons", cfg: Config{Addresses: []string{"https://es:9200"}, APIKey: "k", CertFingerprint: strings.ToUpper(fp[:2]) + ":" + fp[2:]}},
		{name: "no address", cfg: Config{}, errContains: "Addresses is empty"},
		{name: "not a URL", cfg: Config{Addresses: []string{"es:9200"}}, errContains: "must be an http:// or https:// URL"},
		{name: "credentials in the URL", cfg: Config{Addresses: []string{"https://elastic:hunter2@es:9200"}}, errContains: "carries credentials"},
		{name: "user without password", cfg: Config{Addresses: []string{"https://es:9200"}, Username: "u"}, errContains: "both Username and Password"},
		{name: "password without user", cfg: Config{Addresses: []string{"https://es:9200"}, Password: "p"}, errContains: "both Username and Password"},
		{name: "api key and user", cfg: Config{Addresses: []string{"https://es:9200"}, APIKey: "k", Username: "u", Password: "p"}, errContains: "either APIKey or Username"},
		{name: "CA for http only", cfg: Config{Addresses: []string{"http://es:9200"}, CAFile: "ca.pem"}, errContains: "no address is https://"},
		{name: "short fingerprint", cfg: Config{Addresses: []string{"https://es:9200"}, CertFingerprint: "abcd"}, errContains: "not a SHA-256 fingerprint"},
		{name: "bad alias", cfg: Config{Addresses: []string{"http://es:9200"}, Alias: "deals"}, errContains: "must start with"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.errContains == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errContains) {
				t.Fatalf("error %v, want one containing %q", err, tc.errContains)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("the error prints the password: %v", err)
			}
		})
	}
}

func TestESConfigCAFile(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(empty, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, file, errContains string }{
		{"missing", filepath.Join(dir, "nope.pem"), "CAFile"},
		{"no PEM", empty, "holds no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{Addresses: []string{"https://127.0.0.1:1"}, CAFile: tc.file})
			if err == nil || !strings.Contains(err.Error(), tc.errContains) {
				t.Fatalf("error %v, want one containing %q", err, tc.errContains)
			}
		})
	}
}

// TestESRefusedCredentialsAreRetryable: a server that answers 401 (and echoes the
// Authorization header it got) makes every record of Upsert retryable, never a
// dead letter, and no error or log line holds the password, the API key or the
// header.
func TestESRefusedCredentialsAreRetryable(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"type":"security_exception","reason":"unable to authenticate, got %s"},"status":401}`, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	const password = "correct-horse-battery-staple"
	apiKey := base64.StdEncoding.EncodeToString([]byte("id42:the-api-key-itself"))
	for _, tc := range []struct {
		name    string
		cfg     Config
		auth    string
		secrets []string
	}{
		{"basic", Config{Username: "indexer", Password: password}, `basic auth as user "indexer"`,
			[]string{password, base64.StdEncoding.EncodeToString([]byte("indexer:" + password))}},
		{"api key", Config{APIKey: apiKey}, "an API key", []string{apiKey, "the-api-key-itself"}},
		{"none", Config{}, "no credentials", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			tc.cfg.Addresses = []string{srv.URL}
			tc.cfg.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			s, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			requests.Store(0)
			c := schemas.Contract{ID: "deal-1", SchemaVersion: schemas.Version, Operator: schemas.Operator{Name: "Op"}}
			var msgs []string
			for _, err := range s.Upsert(context.Background(), []schemas.Contract{c}) {
				if err == nil || !stream.IsRetryable(err) {
					t.Fatalf("Upsert against a 401: %v, want a retryable error", err)
				}
				var auth *AuthError
				if !errors.As(err, &auth) || auth.Status != http.StatusUnauthorized {
					t.Errorf("Upsert error %v is not an AuthError 401", err)
				}
				msgs = append(msgs, err.Error())
			}
			if err := s.EnsureIndex(context.Background()); err == nil || !stream.IsRetryable(err) {
				t.Errorf("EnsureIndex against a 401: %v, want a retryable error", err)
			} else {
				msgs = append(msgs, err.Error())
			}
			if _, err := s.Search(context.Background(), ledger.Query{}); err == nil {
				t.Error("Search against a 401 succeeded")
			} else {
				msgs = append(msgs, err.Error())
			}
			all := strings.Join(msgs, "\n") + logs.String()
			if !strings.Contains(all, "401 Unauthorized") || !strings.Contains(all, tc.auth) {
				t.Errorf("errors should name the status and what was sent (%s):\n%s", tc.auth, all)
			}
			for _, secret := range tc.secrets {
				if strings.Contains(all, secret) {
					t.Errorf("a secret leaked into an error or log:\n%s", all)
				}
			}
			if n := requests.Load(); n > 3 {
				t.Errorf("%d requests for Upsert, EnsureIndex and Search; want at most 3 (no retries of a refused request)", n)
			}
		})
	}
}
