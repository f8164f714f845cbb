package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mwledger/mwledger/indexer"
	"github.com/mwledger/mwledger/internal/testkit"
	"github.com/mwledger/mwledger/ledger/es"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
	"github.com/mwledger/mwledger/stream/kafka"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// mwledgerBinary builds cmd/mwledger once, for the tests that kill a stage.
func mwledgerBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mwledger-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "mwledger")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/mwledger").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// faultRecords are n distinct deals of a run, each its own operator so that
// identity resolution keeps them apart.
func faultRecords(run string, n int) []schemas.Contract {
	out := make([]schemas.Contract, n)
	for i := range out {
		mw, usd, years := float64(50+i%200), float64(1e9+float64(i)*1e7), 15.0
		cp := "Fluidstack"
		out[i] = schemas.Contract{
			SchemaVersion: schemas.Version,
			Operator:      schemas.Operator{Name: fmt.Sprintf("Fault %s %05d", run, i)},
			Counterparty:  schemas.Counterparty{Name: &cp},
			ContractType:  schemas.TypeColocation, CapacityMW: &mw, TotalValueUSD: &usd, TermYears: &years,
			USDPerMWYear: schemas.DerivedUSDPerMWYear(&usd, &mw, &years), Terms: []string{},
			Source:   schemas.Source{URL: fmt.Sprintf("https://fault.example/%s/%d", run, i)},
			Evidence: []string{"synthetic"}, Confidence: 0.9, ExtractorVersion: "fault-test",
		}
		out[i].ID = fmt.Sprintf("deal-%016x", uint64(time.Now().UnixNano())+uint64(i)*7919)
	}
	return out
}

func publishRecords(t *testing.T, ctx context.Context, cfg kafka.Config, recs []schemas.Contract) {
	t.Helper()
	pub, err := kafka.NewPublisher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	msgs := make([]stream.Message, len(recs))
	for i, r := range recs {
		v, _ := json.Marshal(r)
		msgs[i] = stream.Message{Topic: schemas.TopicContracts, Key: []byte(r.ID), Value: v}
	}
	for i := 0; i < len(msgs); i += 500 {
		if err := pub.Publish(ctx, msgs[i:min(i+500, len(msgs))]...); err != nil {
			t.Fatal(err)
		}
	}
}

// runDeals counts the records of a run in Elasticsearch by their source URLs
// (each fault record has its own): deals found, and records found in more than
// one deal or more than once.
func runDeals(t *testing.T, ctx context.Context, store *es.Store, run string) (deals, twice int) {
	t.Helper()
	counts, err := testkit.SourceCounts(ctx, store, "https://fault.example/"+run+"/")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range counts {
		if n > 1 {
			twice++
		}
	}
	return len(counts), twice
}

// caughtUp waits until group has committed everything on topic (lag 0): a
// stage commits a batch only once it has written it downstream, so then the
// group's work is done.
func caughtUp(t *testing.T, ctx context.Context, brokers []string, group, topic string) {
	t.Helper()
	var lag int64
	var err error
	if !waitFor(ctx, 100*time.Millisecond, func() bool {
		lag, err = testkit.Lag(ctx, brokers, group, topic)
		return err == nil && lag == 0
	}) {
		t.Fatalf("group %s did not catch up on %s: lag %d, %v", group, topic, lag, err)
	}
}

// stop ends a stage process the way an operator does (SIGTERM) once its work
// is done, instead of waiting for its idle exit; it must exit cleanly.
func stop(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s after SIGTERM: %v", cmd.Args[1], err)
	}
}

func waitFor(ctx context.Context, every time.Duration, cond func() bool) bool {
	for ctx.Err() == nil {
		if cond() {
			return true
		}
		time.Sleep(every)
	}
	return false
}

// TestIndexerKilledMidStream SIGKILLs `mwledger index` while it works through a
// backlog, restarts it in the same consumer group, and checks that every deal
// is in Elasticsearch exactly once. The restarted indexer is stopped (SIGTERM)
// once its group has committed the whole backlog.
func TestIndexerKilledMidStream(t *testing.T) {
	shares(t, contractsTopic)
	kafkaAddr, esURL := testkit.Kafka(t), testkit.ES(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	bin := mwledgerBinary(t)
	cfg := kafka.Config{Brokers: []string{kafkaAddr}}
	store, err := es.New(es.Config{Addresses: []string{esURL}})
	if err != nil {
		t.Fatal(err)
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	const n = 3000
	if err := store.EnsureIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if err := kafka.EnsureTopics(ctx, cfg, kafka.TopicSpec{Name: schemas.TopicContracts}, kafka.TopicSpec{Name: schemas.TopicDLQ, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	group := "fault-kill-" + run
	// A new group that skips what other tests left on mwledger.contracts.
	skipBacklog(t, ctx, cfg.Brokers, group, schemas.TopicContracts)
	publishRecords(t, ctx, cfg, faultRecords(run, n))

	// The idle exit must outlast the group's session timeout (10 s): the restarted
	// member gets partitions only once the coordinator has given up on the killed
	// one. It is only a bound: the test stops the member once it caught up.
	start := func() *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, "index", "--group", group, "--batch", "100", "--idle-exit", "25s", "--no-alerts")
		cmd.Env = append(os.Environ(), "MWLEDGER_KAFKA="+kafkaAddr, "MWLEDGER_ES="+esURL, "MWLEDGER_LOG_LEVEL=warn")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	first := start()
	if !waitFor(ctx, 100*time.Millisecond, func() bool { d, _ := runDeals(t, ctx, store, run); return d >= n/5 }) {
		t.Fatal("the indexer made no progress")
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	killedAt, _ := runDeals(t, ctx, store, run)
	if killedAt >= n {
		t.Fatalf("the indexer finished (%d deals) before it could be killed; raise n", killedAt)
	}
	second := start()
	caughtUp(t, ctx, cfg.Brokers, group, schemas.TopicContracts)
	stop(t, second)
	deals, twice := runDeals(t, ctx, store, run)
	if deals != n || twice != 0 {
		t.Fatalf("after the kill at %d deals and a restart: %d deals (want %d), %d with a record indexed twice", killedAt, deals, n, twice)
	}
	t.Logf("killed at %d of %d deals; after the restart %d deals, none twice", killedAt, n, deals)
}

// TestElasticsearchPausedWhileIndexing freezes the Elasticsearch process for 30 s
// (SIGSTOP) against the store's 10 s request timeout (-short: 6 s against 4 s;
// either way the freeze outlasts a request) while records flow, then thaws it:
// the indexer must ride it out with retries, never fail, and index everything.
func TestElasticsearchPausedWhileIndexing(t *testing.T) {
	kafkaAddr, esURL := testkit.Kafka(t), testkit.ES(t)
	pause := sized(t, "pause", 30*time.Second, 6*time.Second)
	timeout := sized(t, "request timeout", 10*time.Second, 4*time.Second)
	pid := testkit.ServicePID(t, "MWLEDGER_TEST_ES_PID_FILE")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cfg := kafka.Config{Brokers: []string{kafkaAddr}}
	store, err := es.New(es.Config{Addresses: []string{esURL}, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureIndex(ctx); err != nil {
		t.Fatal(err)
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	recs := faultRecords(run, 600)
	if err := kafka.EnsureTopics(ctx, cfg, kafka.TopicSpec{Name: schemas.TopicContracts}, kafka.TopicSpec{Name: schemas.TopicDLQ, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	// A new group that skips what other tests left on mwledger.contracts.
	skipBacklog(t, ctx, cfg.Brokers, "fault-pause-"+run, schemas.TopicContracts)
	publishRecords(t, ctx, cfg, recs[:200])

	in, err := kafka.NewConsumer(cfg, "fault-pause-"+run, schemas.TopicContracts)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dlq, err := kafka.NewPublisher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer dlq.Close()
	stageCtx, stopStage := context.WithCancel(ctx)
	defer stopStage()
	stageErr := make(chan error, 1)
	go func() {
		_, err := indexer.RunStage(stageCtx, in, store, dlq, indexer.StageConfig{BatchSize: 50})
		stageErr <- err
	}()
	if !waitFor(ctx, 100*time.Millisecond, func() bool { d, _ := runDeals(t, ctx, store, run); return d >= 100 }) {
		t.Fatal("no progress before the pause")
	}

	thaw := freeze(t, pid)
	defer thaw()                            // never leave Elasticsearch frozen, whatever happens
	publishRecords(t, ctx, cfg, recs[200:]) // articles keep flowing while it is down
	time.Sleep(pause)
	thaw()

	drainCtx, drainCancel := context.WithTimeout(ctx, 2*time.Minute)
	defer drainCancel()
	ok := waitFor(drainCtx, 500*time.Millisecond, func() bool { d, _ := runDeals(t, ctx, store, run); return d >= len(recs) })
	select {
	case err := <-stageErr:
		t.Fatalf("the indexer stopped: %v", err)
	default:
	}
	deals, twice := runDeals(t, ctx, store, run)
	if !ok || deals != len(recs) || twice != 0 {
		t.Fatalf("after a %s pause: %d of %d deals, %d indexed twice", pause, deals, len(recs), twice)
	}
	stopStage()
	if err := <-stageErr; err != nil {
		t.Fatalf("indexer stage: %v", err)
	}
	t.Logf("Elasticsearch paused %s; backlog drained, %d deals, none lost or doubled", pause, deals)
}

// freeze stops process pid (SIGSTOP) and returns thaw, which continues it
// (SIGCONT) the first time it is called: defer it, so that a service is never
// left frozen, whatever happens.
func freeze(t *testing.T, pid int) (thaw func()) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	return func() { once.Do(func() { _ = syscall.Kill(pid, syscall.SIGCONT) }) }
}
