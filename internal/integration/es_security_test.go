package integration

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/ledger/es"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream/kafka"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// leaf issues a server certificate for 127.0.0.1.
func (ca *testCA) leaf(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	// The chain the server presents: its certificate, then the CA's (as
	// Elasticsearch's auto-configured HTTP layer does).
	return tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key}
}

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// esAuthProxy is a loopback TLS reverse proxy in front of the real (security-less)
// Elasticsearch that plays its security layer: it requires basic auth or an API
// key, per mode, and refuses anything else with 401. Its refusals echo the
// Authorization header it got, as a careless proxy might: our error messages
// must not repeat it.
type esAuthProxy struct {
	srv                *httptest.Server
	mode               atomic.Value // "basic", "apikey" or "revoked"
	user, pass, apiKey string
	passed, refused    atomic.Int64
}

func newESAuthProxy(t *testing.T, es string, ca *testCA) *esAuthProxy {
	t.Helper()
	target, err := url.Parse(es)
	if err != nil {
		t.Fatal(err)
	}
	p := &esAuthProxy{user: "mwledger-indexer", pass: "pw-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-Secret!"}
	p.apiKey = base64.StdEncoding.EncodeToString([]byte("key-id-1:apikey-" + strconv.FormatInt(time.Now().UnixNano(), 36)))
	p.mode.Store("basic")
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Header.Del("Authorization") // the test node has no security layer
		r.Out.Host = target.Host
	}}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.allowed(r) {
			p.refused.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("WWW-Authenticate", `Basic realm="security", ApiKey`)
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":{"type":"security_exception","reason":"unable to authenticate for REST request [%s] (got Authorization: %s)"},"status":401}`,
				r.URL.Path, r.Header.Get("Authorization"))
			return
		}
		p.passed.Add(1)
		rp.ServeHTTP(w, r)
	}))
	p.srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf(t)}, MinVersion: tls.VersionTLS12}
	p.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	p.srv.StartTLS()
	t.Cleanup(p.srv.Close)
	return p
}

func (p *esAuthProxy) allowed(r *http.Request) bool {
	switch p.mode.Load().(string) {
	case "basic":
		u, pw, ok := r.BasicAuth()
		return ok && u == p.user && pw == p.pass
	case "apikey":
		scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		return ok && strings.EqualFold(scheme, "ApiKey") && key == p.apiKey
	}
	return false
}

// cliRun is one run of the mwledger binary.
type cliRun struct {
	out  string // stdout and stderr
	err  error
	took time.Duration
}

// TestESOverTLSWithAuth runs `mwledger index` and `mwledger search --store es`
// through a TLS proxy with a generated CA that requires basic auth or an API
// key, in front of the real Elasticsearch: with the right settings they work;
// with wrong credentials, an untrusted CA or a wrong fingerprint they fail with
// an error that says what to fix, without a crash; credentials revoked while
// the indexer runs leave the records unacknowledged (no commit, no dead
// letter) until they are valid again. No output of any run holds a secret.
func TestESOverTLSWithAuth(t *testing.T) {
	shares(t, contractsTopic)
	kafkaAddr, esURL := testkit.Kafka(t), testkit.ES(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	bin := mwledgerBinary(t)
	kcfg := kafka.Config{Brokers: []string{kafkaAddr}}
	if err := kafka.EnsureTopics(ctx, kcfg, kafka.TopicSpec{Name: schemas.TopicContracts}, kafka.TopicSpec{Name: schemas.TopicDLQ, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	store, err := es.New(es.Config{Addresses: []string{esURL}}) // direct, to check what arrived
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureIndex(ctx); err != nil {
		t.Fatal(err)
	}

	ca, otherCA := newTestCA(t, "mwledger test CA"), newTestCA(t, "some other CA")
	proxy := newESAuthProxy(t, esURL, ca)
	dir := t.TempDir()
	caFile, otherCAFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "other-ca.pem")
	if err := os.WriteFile(caFile, ca.pem, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(otherCAFile, otherCA.pem, 0o644); err != nil {
		t.Fatal(err)
	}
	wrongPass := "wrong-" + proxy.pass
	wrongKey := base64.StdEncoding.EncodeToString([]byte("key-id-1:nope-" + run0()))
	secrets := []string{proxy.pass, wrongPass, proxy.apiKey, wrongKey,
		base64.StdEncoding.EncodeToString([]byte(proxy.user + ":" + proxy.pass)),
		base64.StdEncoding.EncodeToString([]byte(proxy.user + ":" + wrongPass))}
	if _, key, ok := strings.Cut(mustB64(t, proxy.apiKey), ":"); ok {
		secrets = append(secrets, key)
	}

	// Every run: debug logs on, the ES settings given, nothing else inherited.
	var runs []cliRun
	// run runs the binary to its end; with stopWhen, it stops it (SIGTERM)
	// once stopWhen returns, as an operator would a stage whose work is done.
	runUntil := func(stopWhen func(), env map[string]string, args ...string) cliRun {
		t.Helper()
		c := exec.CommandContext(ctx, bin, args...)
		c.Env = append(os.Environ(), "MWLEDGER_KAFKA="+kafkaAddr, "MWLEDGER_ES="+proxy.srv.URL, "MWLEDGER_LOG_LEVEL=debug",
			"MWLEDGER_ES_USERNAME=", "MWLEDGER_ES_PASSWORD=", "MWLEDGER_ES_API_KEY=", "MWLEDGER_ES_CA_FILE=", "MWLEDGER_ES_CERT_FINGERPRINT=")
		for k, v := range env {
			c.Env = append(c.Env, k+"="+v)
		}
		var out bytes.Buffer
		c.Stdout, c.Stderr = &out, &out
		start := time.Now()
		err := c.Start()
		if err == nil && stopWhen != nil {
			stopWhen()
			err = c.Process.Signal(syscall.SIGTERM)
		}
		if err == nil {
			err = c.Wait()
		}
		r := cliRun{out: out.String(), err: err, took: time.Since(start)}
		runs = append(runs, r)
		return r
	}
	run := func(env map[string]string, args ...string) cliRun { t.Helper(); return runUntil(nil, env, args...) }
	basic := map[string]string{"MWLEDGER_ES_USERNAME": proxy.user, "MWLEDGER_ES_PASSWORD": proxy.pass, "MWLEDGER_ES_CA_FILE": caFile}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	mustFail := func(name string, r cliRun, want ...string) {
		t.Helper()
		if r.err == nil {
			t.Errorf("%s: succeeded, want a failure\n%s", name, r.out)
			return
		}
		if ee, ok := r.err.(*exec.ExitError); !ok || ee.ExitCode() <= 0 {
			t.Errorf("%s: %v (want a plain non-zero exit, not a crash or a signal)\n%s", name, r.err, r.out)
		}
		if strings.Contains(r.out, "panic:") || strings.Contains(r.out, "goroutine ") {
			t.Errorf("%s: crashed\n%s", name, r.out)
		}
		for _, w := range want {
			if !strings.Contains(r.out, w) {
				t.Errorf("%s: output lacks %q:\n%s", name, w, r.out)
			}
		}
		t.Logf("%s: fails in %s: %s", name, r.took.Round(time.Millisecond), lastLine(r.out))
	}

	run1 := strconv.FormatInt(time.Now().UnixNano(), 36)
	recs := faultRecords(run1, 20)
	group := "it-es-tls-" + run1
	if err := testkit.SkipBacklog(ctx, kcfg.Brokers, group, schemas.TopicContracts); err != nil {
		t.Fatal(err)
	}
	dlqGroup := group + "-dlq"
	if err := testkit.SkipBacklog(ctx, kcfg.Brokers, dlqGroup, schemas.TopicDLQ); err != nil {
		t.Fatal(err)
	}

	// 1. Basic auth and the CA file: the indexer writes through the proxy.
	publishRecords(t, ctx, kcfg, recs[:10])
	if r := runUntil(func() { caughtUp(t, ctx, kcfg.Brokers, group, schemas.TopicContracts) },
		basic, "index", "--group", group, "--no-alerts", "--batch", "100"); r.err != nil {
		t.Fatalf("index with basic auth over TLS: %v\n%s", r.err, r.out)
	}
	if deals, twice := runDeals(t, ctx, store, run1); deals != 10 || twice != 0 {
		t.Fatalf("after indexing over TLS: %d deals of the run (%d twice), want 10", deals, twice)
	}
	op := recs[3].Operator.Name
	if r := run(basic, "search", "--store", "es", "--operator", op, "--json"); r.err != nil || !strings.Contains(r.out, recs[3].ID) {
		t.Fatalf("search with basic auth over TLS: %v\n%s", r.err, r.out)
	}

	// 2. Wrong credentials, untrusted CAs, a wrong pin: clear failures.
	wrong := with(basic, "MWLEDGER_ES_PASSWORD", wrongPass)
	mustFail("index, wrong password", run(wrong, "index", "--group", group+"-x", "--idle-exit", "2s", "--no-alerts"),
		"401 Unauthorized", `basic auth as user "`+proxy.user+`"`, "MWLEDGER_ES_PASSWORD")
	mustFail("search, wrong password", run(wrong, "search", "--store", "es", "--operator", op), "401 Unauthorized")
	mustFail("search, no credentials", run(with(basic, "MWLEDGER_ES_USERNAME", "", "MWLEDGER_ES_PASSWORD", ""), "search", "--store", "es", "--operator", op),
		"with no credentials", "401")
	mustFail("search, another CA", run(with(basic, "MWLEDGER_ES_CA_FILE", otherCAFile), "search", "--store", "es", "--operator", op),
		"elasticsearch TLS", "unknown authority", "MWLEDGER_ES_CA_FILE")
	mustFail("index, system roots", run(with(basic, "MWLEDGER_ES_CA_FILE", ""), "index", "--group", group+"-x", "--idle-exit", "2s", "--no-alerts"),
		"elasticsearch TLS", "unknown authority")
	mustFail("search, wrong fingerprint", run(with(basic, "MWLEDGER_ES_CA_FILE", "", "MWLEDGER_ES_CERT_FINGERPRINT", fingerprint(otherCA.cert.Raw)), "search", "--store", "es", "--operator", op),
		"no certificate of the server matches CertFingerprint")
	mustFail("search, credentials in the URL", run(with(basic, "MWLEDGER_ES", strings.Replace(proxy.srv.URL, "https://", "https://"+proxy.user+":"+proxy.pass+"@", 1)), "search", "--store", "es", "--operator", op),
		"carries credentials")
	if proxy.passed.Load() == 0 || proxy.refused.Load() == 0 {
		t.Errorf("proxy passed %d and refused %d requests; want both", proxy.passed.Load(), proxy.refused.Load())
	}

	// 3. A pinned CA or leaf certificate instead of the CA file; then an API key.
	for name, fp := range map[string]string{"CA": fingerprint(ca.cert.Raw), "leaf": fingerprint(proxy.srv.TLS.Certificates[0].Certificate[0])} {
		colons := strings.ToUpper(fp[:2]) // Elasticsearch prints AA:BB:…; accepted either way
		for i := 2; i < len(fp); i += 2 {
			colons += ":" + strings.ToUpper(fp[i:i+2])
		}
		if r := run(with(basic, "MWLEDGER_ES_CA_FILE", "", "MWLEDGER_ES_CERT_FINGERPRINT", colons), "search", "--store", "es", "--operator", op, "--json"); r.err != nil || !strings.Contains(r.out, recs[3].ID) {
			t.Errorf("search pinned to the %s fingerprint: %v\n%s", name, r.err, r.out)
		}
	}
	proxy.mode.Store("apikey")
	apiKey := map[string]string{"MWLEDGER_ES_API_KEY": proxy.apiKey, "MWLEDGER_ES_CA_FILE": caFile}
	if r := run(apiKey, "search", "--store", "es", "--operator", op, "--json"); r.err != nil || !strings.Contains(r.out, recs[3].ID) {
		t.Fatalf("search with an API key over TLS: %v\n%s", r.err, r.out)
	}
	mustFail("search, basic auth where an API key is needed", run(basic, "search", "--store", "es", "--operator", op), "401 Unauthorized")
	mustFail("search, wrong API key", run(with(apiKey, "MWLEDGER_ES_API_KEY", wrongKey), "search", "--store", "es", "--operator", op),
		"with an API key", "MWLEDGER_ES_API_KEY")

	// 4. The API key revoked while the indexer runs: the new records stay
	// unacknowledged (nothing committed, nothing dead-lettered) and are indexed
	// once the key is valid again; then the indexer is stopped (SIGTERM).
	var out bytes.Buffer
	ix := exec.CommandContext(ctx, bin, "index", "--group", group, "--no-alerts", "--batch", "100")
	ix.Env = append(os.Environ(), "MWLEDGER_KAFKA="+kafkaAddr, "MWLEDGER_ES="+proxy.srv.URL, "MWLEDGER_LOG_LEVEL=debug",
		"MWLEDGER_ES_USERNAME=", "MWLEDGER_ES_PASSWORD=", "MWLEDGER_ES_API_KEY="+proxy.apiKey, "MWLEDGER_ES_CA_FILE="+caFile)
	ix.Stdout, ix.Stderr = &out, &out
	passedBefore := proxy.passed.Load()
	if err := ix.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ix.Wait() }()
	// EnsureIndex went through (template, alias): revoke the key.
	if !waitFor(ctx, 20*time.Millisecond, func() bool { return proxy.passed.Load() >= passedBefore+2 }) {
		t.Fatal("the indexer never reached Elasticsearch")
	}
	proxy.mode.Store("revoked")
	refusedBefore := proxy.refused.Load()
	revokedAt := time.Now()
	publishRecords(t, ctx, kcfg, recs[10:])
	if !waitFor(ctx, 50*time.Millisecond, func() bool { return proxy.refused.Load() > refusedBefore+2 || time.Since(revokedAt) > 30*time.Second }) {
		t.Fatal(ctx.Err())
	}
	if err := sleepCtx(ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	lag, err := testkit.Lag(ctx, kcfg.Brokers, group, schemas.TopicContracts)
	if err != nil {
		t.Fatal(err)
	}
	deals, _ := runDeals(t, ctx, store, run1)
	refusedWhileRevoked := proxy.refused.Load() - refusedBefore
	if lag != 10 || deals != 10 || refusedWhileRevoked == 0 {
		t.Fatalf("key revoked: lag %d (want 10: nothing committed), %d deals of the run (want the first 10), %d requests refused\n%s", lag, deals, refusedWhileRevoked, out.String())
	}
	select {
	case err := <-done:
		t.Fatalf("the indexer stopped while the key was revoked: %v\n%s", err, out.String())
	default:
	}
	proxy.mode.Store("apikey")
	restoredAt := time.Now()
	if !waitFor(ctx, 200*time.Millisecond, func() bool {
		n, _ := runDeals(t, ctx, store, run1)
		return n == 20 || time.Since(restoredAt) > 60*time.Second
	}) {
		t.Fatal(ctx.Err())
	}
	caughtUpIn := time.Since(restoredAt)
	caughtUp(t, ctx, kcfg.Brokers, group, schemas.TopicContracts)
	if err := ix.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var exitErr error
	select {
	case exitErr = <-done:
	case <-ctx.Done():
		t.Fatalf("the indexer did not finish after the key was restored\n%s", out.String())
	}
	runs = append(runs, cliRun{out: out.String(), err: exitErr})
	if exitErr != nil {
		t.Fatalf("index after the key was restored: %v\n%s", exitErr, out.String())
	}
	deals, twice := runDeals(t, ctx, store, run1)
	lag, err = testkit.Lag(ctx, kcfg.Brokers, group, schemas.TopicContracts)
	if err != nil {
		t.Fatal(err)
	}
	if deals != 20 || twice != 0 || lag != 0 {
		t.Fatalf("after the key was restored: %d deals of the run (%d twice), lag %d; want 20, 0, 0\n%s", deals, twice, lag, out.String())
	}
	retries := strings.Count(out.String(), "store not ready, retrying")
	if retries == 0 || !strings.Contains(out.String(), "401 Unauthorized") {
		t.Errorf("the indexer's log should show retries with the 401:\n%s", out.String())
	}
	// Nothing of the run went to the dead-letter topic: every indexer above has
	// exited, and an indexer dead-letters a record before it commits it, so the
	// dead letters are all there; read them to the end (lag 0).
	dlq, err := kafka.NewConsumer(kcfg, dlqGroup, schemas.TopicDLQ)
	if err != nil {
		t.Fatal(err)
	}
	defer dlq.Close()
	ours := map[string]bool{}
	for _, r := range recs {
		ours[r.ID] = true
	}
	for {
		lag, err := testkit.Lag(ctx, kcfg.Brokers, dlqGroup, schemas.TopicDLQ)
		if err != nil {
			t.Fatal(err)
		}
		if lag == 0 {
			break
		}
		fctx, fcancel := context.WithTimeout(ctx, 20*time.Second)
		m, err := dlq.Fetch(fctx)
		fcancel()
		if err != nil {
			t.Fatalf("reading the dead letters (lag %d): %v", lag, err)
		}
		if ours[string(m.Key)] {
			t.Errorf("record %s was dead-lettered: %s", m.Key, m.Value)
		}
		if err := dlq.Commit(ctx, m); err != nil {
			t.Fatal(err)
		}
	}

	// 5. No secret in any output.
	for i, r := range runs {
		for _, s := range secrets {
			if strings.Contains(r.out, s) {
				t.Errorf("run %d printed a secret (%d chars):\n%s", i, len(s), r.out)
			}
		}
	}
	t.Logf("key revoked for %s: %d requests refused, %d store retries logged, lag stayed 10, 0 dead letters; all 20 indexed %s after the key was restored; %d CLI runs checked for secrets",
		restoredAt.Sub(revokedAt).Round(time.Millisecond), refusedWhileRevoked, retries, caughtUpIn.Round(time.Millisecond), len(runs))
}

func run0() string { return strconv.FormatInt(time.Now().UnixNano(), 36) }

func mustB64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
