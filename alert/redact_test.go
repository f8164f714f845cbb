package alert

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestWebhookErrorsHideItsPath: a Slack-style webhook's path is its secret.
// The errors of a webhook that is down (connection refused, 503) and the
// retry log line made of them carry no part of it, with or without the
// redacting logger.
func TestWebhookErrorsHideItsPath(t *testing.T) {
	const secret = "T0SECRET/B0SECRET/zz9SecretToken"
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer down.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there: connection refused
	for _, base := range []string{down.URL, closed} {
		s, err := NewWebhookSink(WebhookConfig{URL: base + "/services/" + secret + "?token=qq-secret-q"})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Send(context.Background(), Message{AlertID: "a1"})
		if err == nil {
			t.Fatalf("%s: no error", base)
		}
		var plain bytes.Buffer
		slog.New(slog.NewTextHandler(&plain, nil)).Warn("alert delivery failed, will retry", "sink", "webhook", "err", err)
		for _, leak := range []string{"zz9SecretToken", "B0SECRET", "qq-secret-q"} {
			if strings.Contains(err.Error(), leak) || strings.Contains(plain.String(), leak) {
				t.Errorf("%s: %q leaks in %q", base, leak, plain.String())
			}
		}
	}
	if err := (&WebhookConfig{URL: "ftp://hooks.example/services/" + secret}).Validate(); err == nil || strings.Contains(err.Error(), "zz9SecretToken") {
		t.Errorf("Validate: %v", err)
	}
}
