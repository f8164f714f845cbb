// The real Kafka and Elasticsearch that scripts/services.sh started for the
// tests. Under CI=true a missing service fails the test; on a developer
// machine it skips with the command that starts them.

package testkit

import (
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Kafka returns the broker address (MWLEDGER_KAFKA, default 127.0.0.1:19092).
func Kafka(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("MWLEDGER_KAFKA")
	if addr == "" {
		addr = "127.0.0.1:19092"
	}
	require(t, "Kafka", addr)
	return addr
}

// ES returns the Elasticsearch URL (MWLEDGER_ES, default http://127.0.0.1:19200).
func ES(t testing.TB) string {
	t.Helper()
	u := os.Getenv("MWLEDGER_ES")
	if u == "" {
		u = "http://127.0.0.1:19200"
	}
	p, err := url.Parse(u)
	if err != nil {
		t.Fatalf("MWLEDGER_ES=%q: %v", u, err)
	}
	require(t, "Elasticsearch", p.Host)
	return u
}

func require(t testing.TB, what, hostport string) {
	t.Helper()
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatalf("%s address %q: %v", what, hostport, err)
	}
	// Loopback only: tests never connect anywhere else.
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		t.Fatalf("%s address %s is not a loopback address; tests only talk to 127.0.0.0/8 or ::1", what, hostport)
	}
	c, err := net.DialTimeout("tcp", hostport, 2*time.Second)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not reachable at %s (CI=true: integration tests must not skip): %v", what, hostport, err)
		}
		t.Skipf("%s is not reachable at %s; start the services with `make services-up` (%v)", what, hostport, err)
	}
	c.Close()
}

// ServicePID returns the pid of a test service from the pid file named by the
// environment variable envVar (set by `eval "$(scripts/services.sh env)"`), for
// the fault tests that freeze a service.
func ServicePID(t testing.TB, envVar string) int {
	t.Helper()
	pidFile := os.Getenv(envVar)
	if pidFile == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set (eval \"$(scripts/services.sh env)\")", envVar)
		}
		t.Skipf("%s is not set", envVar)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("%s: %v", pidFile, err)
	}
	return pid
}
