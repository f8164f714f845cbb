package integration

import (
	"context"
	"flag"
	"sync"
	"testing"
	"time"

	"github.com/mwledger/mwledger/internal/testkit"
)

// What keeps the package's run short: reduced sizes under -short, isolated
// tests in parallel, the tests on the shared topics in parallel with them (one
// at a time per topic), and new consumer groups that skip the shared topics'
// backlog. Only the tests that freeze or restart a service run alone, first.

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
// package has finished, so they never overlap the tests that freeze or restart
// the services (those are the package's only sequential tests).
func isolated(t *testing.T) {
	t.Helper()
	t.Parallel()
}

// The pipeline's topics, which the command line reads and writes by their
// fixed names. A test that reads one in a new consumer group sees what a test
// beside it publishes there, even after skipping the backlog, and its stage
// then processes that too (into mwledger.contracts and the default alias); so
// the tests on a topic run one at a time, in parallel with the isolated tests
// and with the tests on the other topic.
type sharedTopic int

const (
	// articlesTopic is mwledger.articles (the crawler's output and the archive
	// `mwledger reprocess` replays).
	articlesTopic sharedTopic = 1 << iota
	// contractsTopic is mwledger.contracts, which `mwledger index` reads into
	// the default alias.
	contractsTopic
)

// sharedOrder is the order in which the tests on shared topics take them:
// those that need both topics first (the replay of the whole archive while it
// is short, the pipeline while the default alias it reads in full is small),
// then the contracts tests beside the articles tests. A test not listed comes
// after these, in the order the package declares it.
var sharedOrder = []string{
	"TestCrawlReprocessReplaysArchive", "TestPipelineEndToEnd", "TestScaleOutSurvivesKills", // both
	"TestIndexerKilledMidStream", "TestESOverTLSWithAuth", // contracts
	"TestCrawlTestSiteToKafka", "TestCrawlRestartPublishesOnce", "TestPoisonMessagesGoToDLQ", // articles
}

type sharer struct {
	rank, seq        int // in sharedOrder (len(sharedOrder) if absent); in the package
	topics           sharedTopic
	resumed, running bool
	done             bool
}

func (s *sharer) before(o *sharer) bool {
	return s.rank < o.rank || s.rank == o.rank && s.seq < o.seq
}

// turns is who runs on the shared topics and who waits.
type turns struct {
	sync.Mutex
	changed chan struct{} // closed and replaced when a test starts or ends
	tests   []*sharer
}

var sharing = &turns{changed: make(chan struct{})}

func (ts *turns) notify() {
	close(ts.changed)
	ts.changed = make(chan struct{})
}

// shares runs t in parallel with the isolated tests and with the tests on the
// other topic, after the tests on its topics that come before it in
// sharedOrder and before the tests that come after it. Go pauses parallel tests
// until the package's sequential tests are done, so every test that shares
// has been announced (below) by the time one resumes. With -parallel greater
// than the number of those tests (`make test` runs -parallel 16) the order is
// strict; with fewer slots a test waits only for those that already have one,
// so that a test never waits for one that waits for its slot.
func shares(t *testing.T, topics sharedTopic) {
	t.Helper()
	me := &sharer{rank: len(sharedOrder), topics: topics}
	for i, name := range sharedOrder {
		if name == t.Name() {
			me.rank = i
		}
	}
	sharing.Lock()
	me.seq = len(sharing.tests)
	sharing.tests = append(sharing.tests, me)
	sharing.Unlock()

	t.Parallel()
	began := time.Now()
	slots := 0
	if f := flag.Lookup("test.parallel"); f != nil {
		slots, _ = f.Value.(flag.Getter).Get().(int)
	}
	sharing.Lock()
	strict := slots > len(sharing.tests) // no test announces any more: they all have
	me.resumed = true
	for !sharing.mayStart(me, strict) {
		changed := sharing.changed
		sharing.Unlock()
		<-changed
		sharing.Lock()
	}
	me.running = true
	sharing.notify()
	sharing.Unlock()
	if waited := time.Since(began); waited > time.Second {
		t.Logf("waited %s for the tests before it on the same topics", waited.Round(time.Millisecond))
	}
	t.Cleanup(func() {
		sharing.Lock()
		me.running, me.done = false, true
		sharing.notify()
		sharing.Unlock()
	})
}

func (ts *turns) mayStart(me *sharer, strict bool) bool {
	for _, o := range ts.tests {
		if o == me || o.done || o.topics&me.topics == 0 {
			continue
		}
		if o.running || o.before(me) && (strict || o.resumed) {
			return false
		}
	}
	return true
}

// skipBacklog makes a new consumer group start at the current end of a shared
// topic (testkit.SkipBacklog), so that its stage reads what the test
// publishes, not everything the tests before it left there. A topic created a
// moment ago may have no metadata or no leader yet: it retries for 15 s.
func skipBacklog(t *testing.T, ctx context.Context, brokers []string, group, topic string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := testkit.SkipBacklog(ctx, brokers, group, topic)
		if err == nil {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("skipping the backlog of %s for group %s: %v", topic, group, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
