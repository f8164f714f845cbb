package integration

import (
	"context"
	"testing"
	"time"

	"github.com/mwledger/mwledger/internal/benchtool"
)

// What keeps the package's run short: reduced sizes under -short, isolated
// tests in parallel, and new consumer groups that skip the shared topics'
// backlog.

// sized is full, or short under -short: the size of a long check (`make test`
// runs -short, `make test-full` the full size before a release).
func sized[T any](t *testing.T, what string, full, short T) T {
	t.Helper()
	if testing.Short() {
		t.Logf("%s: %v (-short; %v at full size)", what, short, full)
		return short
	}
	return full
}

// isolated runs t in parallel with the package's other isolated tests: those
// whose Kafka topics and Elasticsearch alias are their own (newLedgerEnv,
// aliasStore, a topic of their own) and that neither pause nor restart a
// service. Go starts parallel tests only once every sequential test of the
// package has finished, so they never overlap the tests that share the
// mwledger.* topics and the default alias, or freeze and restart the services.
func isolated(t *testing.T) {
	t.Helper()
	t.Parallel()
}

// skipBacklog makes a new consumer group start at the current end of a shared
// topic (benchtool.SkipBacklog), so that its stage reads what the test
// publishes, not everything the tests before it left there. A topic created a
// moment ago may have no metadata or no leader yet: it retries for 15 s.
func skipBacklog(t *testing.T, ctx context.Context, brokers []string, group, topic string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := benchtool.SkipBacklog(ctx, brokers, group, topic)
		if err == nil {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("skipping the backlog of %s for group %s: %v", topic, group, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
