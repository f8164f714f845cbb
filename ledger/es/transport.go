package es

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// tlsConfig is the TLS side of the https:// addresses: CAFile replaces the
// system roots, CertFingerprint pins the server's certificate or a CA of its
// chain.
func (c *Config) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("elasticsearch: CAFile: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("elasticsearch: CAFile %s holds no PEM certificate", c.CAFile)
		}
		cfg.RootCAs = pool
	}
	if c.CertFingerprint != "" {
		want, err := parseFingerprint(c.CertFingerprint)
		if err != nil {
			return nil, err
		}
		chainChecked := c.CAFile != ""
		// Without a CA file the pin is the verification: VerifyConnection below
		// refuses any server whose chain has no certificate with that digest.
		cfg.InsecureSkipVerify = !chainChecked
		cfg.VerifyConnection = func(cs tls.ConnectionState) error { return verifyPinned(cs, want, chainChecked) }
	}
	return cfg, nil
}

// parseFingerprint reads a SHA-256 fingerprint in hex, with or without colons.
func parseFingerprint(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("elasticsearch: CertFingerprint %q is not a SHA-256 fingerprint (64 hex digits, colons allowed)", s)
	}
	return b, nil
}

// FingerprintError says that no certificate the server presented matches the
// pinned fingerprint.
type FingerprintError struct {
	// Presented are the SHA-256 fingerprints of the server's chain, leaf first.
	Presented []string
}

func (e *FingerprintError) Error() string {
	return fmt.Sprintf("no certificate of the server matches CertFingerprint (it presented %s)", strings.Join(e.Presented, ", "))
}

// verifyPinned accepts the connection when a certificate of the chain has the
// pinned digest. A pinned leaf is enough; a pinned CA must have signed the leaf
// (anyone can present a public CA certificate next to their own), unless the
// chain was verified against CAFile already.
func verifyPinned(cs tls.ConnectionState, want []byte, chainChecked bool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("the server presented no certificate")
	}
	leaf := cs.PeerCertificates[0]
	certs := append([]*x509.Certificate(nil), cs.PeerCertificates...)
	for _, chain := range cs.VerifiedChains {
		certs = append(certs, chain...)
	}
	for _, cert := range certs {
		sum := sha256.Sum256(cert.Raw)
		if !bytes.Equal(sum[:], want) {
			continue
		}
		if chainChecked || cert.Equal(leaf) {
			return nil
		}
		roots, inter := x509.NewCertPool(), x509.NewCertPool()
		roots.AddCert(cert)
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter}); err != nil {
			return fmt.Errorf("the server's certificate is not signed by the pinned CA: %w", err)
		}
		return nil
	}
	e := &FingerprintError{}
	for _, c := range cs.PeerCertificates {
		sum := sha256.Sum256(c.Raw)
		e.Presented = append(e.Presented, hex.EncodeToString(sum[:]))
	}
	return e
}

// AuthError says that Elasticsearch, or a proxy in front of it, refused a
// request with 401 (credentials missing or wrong) or 403 (not allowed). It is
// returned as a transport error, so that callers treat it as retryable: the
// records are not at fault, and stay unacknowledged until the credentials are
// fixed. It never holds a secret.
type AuthError struct {
	Status int    // 401 or 403
	Path   string // the request's path, e.g. /_bulk
	Auth   string // what was sent: "basic auth as user \"x\"", "an API key" or "no credentials"
	Reason string // what the server said (its error reason), secrets removed
}

func (e *AuthError) Error() string {
	hint := "check the credentials (MWLEDGER_ES_USERNAME and MWLEDGER_ES_PASSWORD, or MWLEDGER_ES_API_KEY)"
	if e.Status == http.StatusForbidden {
		hint = "the credentials are valid but lack a privilege this request needs (or the index is blocked)"
	}
	msg := fmt.Sprintf("elasticsearch refused %s with %s: %d %s", e.Path, e.Auth, e.Status, http.StatusText(e.Status))
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg + "; " + hint
}

// TLSError says that the server's certificate could not be trusted.
type TLSError struct{ Err error }

func (e *TLSError) Error() string {
	return fmt.Sprintf("elasticsearch TLS: %v; trust the server's CA with MWLEDGER_ES_CA_FILE (PEM) or pin its certificate with MWLEDGER_ES_CERT_FINGERPRINT", e.Err)
}

func (e *TLSError) Unwrap() error { return e.Err }

// esTransport turns refused credentials and untrusted certificates into typed
// errors that say what to fix, with the secrets removed from what the server
// answered.
type esTransport struct {
	next    http.RoundTripper
	auth    string
	secrets []string
	onBulk  func(took time.Duration, status int)
	onReq   func(kind string, took time.Duration, status int)
}

func newESTransport(next http.RoundTripper, cfg Config) *esTransport {
	t := &esTransport{next: next, auth: "no credentials", onBulk: cfg.OnBulk, onReq: cfg.OnRequest}
	switch {
	case cfg.APIKey != "":
		t.auth = "an API key"
		t.secrets = append(t.secrets, cfg.APIKey)
		if raw, err := base64.StdEncoding.DecodeString(cfg.APIKey); err == nil {
			if _, key, ok := strings.Cut(string(raw), ":"); ok && key != "" {
				t.secrets = append(t.secrets, key)
			}
		}
	case cfg.Username != "":
		t.auth = fmt.Sprintf("basic auth as user %q", cfg.Username)
		t.secrets = append(t.secrets, cfg.Password, base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+cfg.Password)))
	}
	return t
}

// RoundTrip implements http.RoundTripper.
func (t *esTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	res, err := t.next.RoundTrip(req)
	if t.onBulk != nil || t.onReq != nil {
		took, status := time.Since(start), 0
		if err == nil {
			status = res.StatusCode
		}
		kind := RequestKind(req.URL.Path)
		if t.onBulk != nil && kind == "bulk" {
			t.onBulk(took, status)
		}
		if t.onReq != nil {
			t.onReq(kind, took, status)
		}
	}
	if err != nil {
		if isTLSTrustError(err) {
			return nil, &TLSError{Err: err}
		}
		return nil, err
	}
	if res.StatusCode != http.StatusUnauthorized && res.StatusCode != http.StatusForbidden {
		return res, nil
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 8<<10))
	res.Body.Close()
	return nil, &AuthError{Status: res.StatusCode, Path: req.URL.Path, Auth: t.auth, Reason: t.redact(esReason(body))}
}

// RequestKind names a request by its endpoint: bulk, msearch, search,
// mget, get, refresh, count, or other.
func RequestKind(path string) string {
	last := path[strings.LastIndexByte(path, '/')+1:]
	switch last {
	case "_bulk", "_msearch", "_search", "_mget", "_refresh", "_count":
		return last[1:]
	}
	if strings.Contains(path, "/_doc/") {
		return "get"
	}
	return "other"
}

func (t *esTransport) redact(s string) string {
	for _, secret := range t.secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

// esReason is the "reason" of an Elasticsearch error body, or the start of
// any other body (a proxy's page), on one line.
func esReason(body []byte) string {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && len(e.Error) > 0 {
		var obj struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		}
		var str string
		switch {
		case json.Unmarshal(e.Error, &obj) == nil && obj.Reason != "":
			if obj.Type != "" {
				return obj.Type + ": " + obj.Reason
			}
			return obj.Reason
		case json.Unmarshal(e.Error, &str) == nil:
			return str
		}
	}
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// isTLSTrustError reports whether err is a failed verification of the server's
// certificate.
func isTLSTrustError(err error) bool {
	var (
		verr *tls.CertificateVerificationError
		unk  x509.UnknownAuthorityError
		host x509.HostnameError
		inv  x509.CertificateInvalidError
		fp   *FingerprintError
	)
	return errors.As(err, &verr) || errors.As(err, &unk) || errors.As(err, &host) || errors.As(err, &inv) || errors.As(err, &fp)
}

// isConfigError reports the errors a retry of the same request cannot cure.
func isConfigError(err error) bool {
	var auth *AuthError
	var trust *TLSError
	return errors.As(err, &auth) || errors.As(err, &trust)
}

// isLoopbackHost reports whether host is localhost or a loopback address.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redactURL hides the user information of an address that does not parse as a URL.
func redactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	hostEnd := strings.IndexAny(rest, "/?#")
	if hostEnd < 0 {
		hostEnd = len(rest)
	}
	if at := strings.LastIndex(rest[:hostEnd], "@"); at >= 0 {
		return scheme + "://xxxxx@" + rest[at+1:]
	}
	return s
}
