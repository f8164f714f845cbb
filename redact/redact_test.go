package redact

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	Secret("hunter2-es-password")
	for _, tc := range []struct{ in, leak, keep string }{
		{"http://elastic:changeme@10.0.0.5:9200/_bulk", "changeme", "10.0.0.5:9200/_bulk"},
		{`Post "https://user:pw@hooks.example/x": EOF`, "user:pw", "hooks.example"},
		{"kafka: broker \"alice:s3cretpw@127.0.0.1:9092\" is not host:port", "s3cretpw", "127.0.0.1:9092"},
		{"brokers=bob:t0psecret@k1:9092,k2:9092", "t0psecret", "k2:9092"},
		{"GET https://api.example/v1?q=deal&api_key=AKIA123456&page=2", "AKIA123456", "q=deal"},
		{"https://s3.example/o?X-Amz-Signature=abcdef0123&x=1", "abcdef0123", "x=1"},
		{"auth failed with hunter2-es-password", "hunter2-es-password", "auth failed"},
		{"https://news.example/2025/iren-microsoft?utm_source=x", "", "iren-microsoft?utm_source=x"},
		{"contact press@iren.example", "", "press@iren.example"},
	} {
		got := Text(tc.in)
		if (tc.leak != "" && strings.Contains(got, tc.leak)) || !strings.Contains(got, tc.keep) {
			t.Errorf("Text(%q) = %q: want %q gone, %q kept", tc.in, got, tc.leak, tc.keep)
		}
	}
}

// TestWebhookSecretNeverLogged: once SecretURL saw a Slack-style webhook URL,
// its path appears in no log line or error, also inside a *url.Error.
func TestWebhookSecretNeverLogged(t *testing.T) {
	hook := "https://hooks.slack.example/services/T0001/B0002/XyZsecretPath42"
	if got := SecretURL(hook); got != "https://hooks.slack.example/"+Mask {
		t.Errorf("SecretURL = %q", got)
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: ReplaceAttr}))
	uerr := &url.Error{Op: "Post", URL: hook, Err: errors.New("connection refused")}
	u, _ := url.Parse(hook)
	log.Warn("alert delivery failed, retrying "+hook, "err", fmt.Errorf("webhook: %w", uerr), "url", hook, "u", u)
	if out := buf.String(); strings.Contains(out, "XyZsecretPath42") || strings.Contains(out, "B0002") {
		t.Errorf("log line leaks the webhook path:\n%s", out)
	}
	if err := Error(uerr); strings.Contains(err.Error(), "XyZsecretPath42") || !errors.Is(err, uerr) {
		t.Errorf("Error = %v (wraps: %v)", err, errors.Is(err, uerr))
	}
}
