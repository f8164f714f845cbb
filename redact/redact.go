// Package redact keeps secrets out of logs and error messages: credentials in
// URLs (user:password@), secret-looking query parameters, and the secrets the
// process registered (a webhook's path, passwords and API keys read from the
// environment) are replaced by "xxxxx" wherever they appear.
package redact

import (
	"log/slog"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Mask replaces what is redacted.
const Mask = "xxxxx"

var (
	mu      sync.RWMutex
	secrets []string // longest first
)

// Secret registers s (a password, a token, a webhook path) to be redacted
// from every text Text sees. Strings shorter than 6 bytes are not registered
// (they would mask ordinary words).
func Secret(s string) {
	if len(s) < 6 {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	for _, x := range secrets {
		if x == s {
			return
		}
	}
	secrets = append(secrets, s)
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
}

var (
	// scheme://user:pass@ or scheme://token@
	urlUserinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@"'<>]+@`)
	// user:pass@host without a scheme (a Kafka broker string)
	bareUserinfo = regexp.MustCompile(`(^|[\s"'(=,\[])[^\s/@:"'(=,\[]+:[^\s/@"']+@`)
	// query parameters that carry secrets
	secretParam = regexp.MustCompile(`(?i)([?&;](?:access_token|api[_-]?key|apikey|auth|client_secret|key|password|passwd|pwd|secret|sig|signature|token|x-amz-signature|x-goog-signature)=)[^&\s"'#<>]+`)
)

// Text returns s with credentials in URLs, secret query parameters and the
// registered secrets replaced by Mask.
func Text(s string) string {
	mu.RLock()
	for _, x := range secrets {
		if strings.Contains(s, x) {
			s = strings.ReplaceAll(s, x, Mask)
		}
	}
	mu.RUnlock()
	if strings.Contains(s, "@") {
		s = urlUserinfo.ReplaceAllString(s, "${1}"+Mask+"@")
		s = bareUserinfo.ReplaceAllString(s, "${1}"+Mask+"@")
	}
	if strings.Contains(s, "=") {
		s = secretParam.ReplaceAllString(s, "${1}"+Mask)
	}
	return s
}

// SecretURL returns a URL whose path and query are its secret (a Slack-style
// webhook) as scheme://host/xxxxx, and registers the path and query.
func SecretURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Mask
	}
	Secret(strings.TrimPrefix(u.EscapedPath(), "/"))
	Secret(strings.TrimPrefix(u.Path, "/"))
	Secret(u.RawQuery)
	if u.User != nil {
		Secret(u.User.String())
	}
	out := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		out += "/" + Mask
	}
	return out
}

// Error is err with a redacted message; errors.Is and errors.As still see err.
func Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if r := Text(msg); r != msg {
		return &redacted{err: err, msg: r}
	}
	return err
}

type redacted struct {
	err error
	msg string
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

// ReplaceAttr is a slog.HandlerOptions.ReplaceAttr that redacts every string
// and error value, the message included.
func ReplaceAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); s != Text(s) {
			a.Value = slog.StringValue(Text(s))
		}
	case slog.KindAny:
		switch v := a.Value.Any().(type) {
		case error:
			a.Value = slog.StringValue(Text(v.Error()))
		case interface{ String() string }:
			a.Value = slog.StringValue(Text(v.String()))
		}
	}
	return a
}
