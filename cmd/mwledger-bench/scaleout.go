package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mwledger/mwledger/internal/benchtool"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
	"github.com/mwledger/mwledger/stream/kafka"
)

// scalePartitions is how many partitions the scale-out figure needs on the
// articles and contracts topics (kafka.Config's default).
const scalePartitions = 6

// checkPartitions creates the topics if they are missing and checks that the
// articles and contracts topics have scalePartitions partitions.
func checkPartitions(ctx context.Context, cfg kafka.Config) error {
	if err := ensureTopics(ctx, cfg); err != nil {
		return err
	}
	for _, topic := range []string{schemas.TopicArticles, schemas.TopicContracts} {
		ends, err := benchtool.EndOffsets(ctx, cfg.Brokers, topic)
		if err != nil {
			return err
		}
		if len(ends) != scalePartitions {
			return fmt.Errorf("%s has %d partitions, the scale-out figure needs %d: the topic was created by something else (auto-create?); use fresh services (scripts/services.sh starts them empty) or -scale-articles 0",
				topic, len(ends), scalePartitions)
		}
	}
	return nil
}

// extractRun is one run of k extractor processes over the backlog.
type extractRun struct {
	instances int
	backlog   int64         // articles the group had to commit
	wall      time.Duration // from launching the processes to lag 0
	first     time.Duration // from launching to the first commit
	steady    int64         // articles committed between the first commit and lag 0
	contracts int64         // messages the run added to mwledger.contracts
	procCPU   time.Duration // CPU of the extractors between the first commit and lag 0
	allCPU    time.Duration // CPU of the extractors over their whole life (rusage)
	busy      float64       // the machine's busy cores between the first commit and lag 0
}

func (r extractRun) rate() float64 { return float64(r.backlog) / r.wall.Seconds() }

func (r extractRun) steadyRate() float64 {
	if r.wall <= r.first {
		return r.rate() // done at the first sample: no window to measure
	}
	return float64(r.steady) / (r.wall - r.first).Seconds()
}

// cores is how many cores the extractors kept busy after the first commit.
func (r extractRun) cores() float64 {
	if r.wall <= r.first {
		return 0
	}
	return r.procCPU.Seconds() / (r.wall - r.first).Seconds()
}

// scaleOut measures the extractor, the slowest stage, with one and with two
// `mwledger extract --consume` processes in one consumer group, over the same
// backlog of n generated articles on the 6-partition articles topic.
func scaleOut(ctx context.Context, bin, kafkaAddr string, n int) ([]row, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s: %w (make build)", bin, err)
	}
	brokers := []string{kafkaAddr}
	cfg := kafka.Config{Brokers: brokers}
	if err := checkPartitions(ctx, cfg); err != nil {
		return nil, err
	}
	now := time.Now().UnixNano()
	run := strconv.FormatInt(now, 36)
	seed := int(now % benchtool.Combos)
	base := "https://scaleout.example/bench-" + run

	// Fresh groups that start at the current end: both read exactly the backlog below.
	groups := []string{"bench-scale1-" + run, "bench-scale2-" + run}
	for _, g := range groups {
		if err := benchtool.SkipBacklog(ctx, brokers, g, schemas.TopicArticles); err != nil {
			return nil, err
		}
	}
	before, err := benchtool.EndOffsets(ctx, brokers, schemas.TopicArticles)
	if err != nil {
		return nil, err
	}
	pub, err := kafka.NewPublisher(cfg)
	if err != nil {
		return nil, err
	}
	defer pub.Close()
	logf("scale-out: publishing %d generated articles", n)
	for i := 0; i < n; {
		var batch []stream.Message
		for ; i < n && len(batch) < 500; i++ {
			a := benchtool.Article(base, seed, i)
			v, err := json.Marshal(a)
			if err != nil {
				return nil, err
			}
			batch = append(batch, stream.Message{Topic: schemas.TopicArticles, Key: []byte(a.CanonicalURL), Value: v})
		}
		if err := pub.Publish(ctx, batch...); err != nil {
			return nil, err
		}
	}
	after, err := benchtool.EndOffsets(ctx, brokers, schemas.TopicArticles)
	if err != nil {
		return nil, err
	}
	var backlog int64
	lo, hi := int64(-1), int64(0)
	for p, end := range after {
		d := end - before[p]
		backlog += d
		hi = max(hi, d)
		if lo < 0 || d < lo {
			lo = d
		}
	}
	if backlog != int64(n) {
		logf("scale-out: the articles topic grew by %d, not %d: something else publishes to it; the runs read it all", backlog, n)
	}

	var runs []extractRun
	for k, g := range groups {
		r, err := runExtractors(ctx, bin, kafkaAddr, g, k+1, backlog)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}

	cores := runtime.NumCPU()
	const sec = "scale-out (extract)"
	rows := []row{{sec, "backlog", fmt.Sprintf("%d generated articles on %s (%d partitions, %d–%d each), %d partitions on %s; a fresh consumer group per run",
		backlog, schemas.TopicArticles, len(after), lo, hi, scalePartitions, schemas.TopicContracts)}}
	for _, r := range runs {
		name := fmt.Sprintf("%d instance", r.instances)
		if r.instances > 1 {
			name += "s"
		}
		published := fmt.Sprintf("%d contracts published", r.contracts)
		if r.contracts > r.backlog {
			published += fmt.Sprintf(" (%d more than articles: read again after a rebalance, at-least-once)", r.contracts-r.backlog)
		}
		rows = append(rows,
			row{sec, name, fmt.Sprintf("%.0f articles/s: lag 0 after %.1f s (first commit at %.1f s, %.0f articles/s from then); %s",
				r.rate(), r.wall.Seconds(), r.first.Seconds(), r.steadyRate(), published)},
			row{sec, name + ", CPU", fmt.Sprintf("%.1f ms CPU (user+sys) per article after the first commit, of %.1f ms wall per article per instance (%.1f ms CPU with start-up); the extractors used %.2f of %d cores, the whole machine %.2f",
				ms(r.procCPU)/float64(max(1, r.steady)), 1000*float64(r.instances)/r.steadyRate(), ms(r.allCPU)/float64(r.backlog), r.cores(), cores, r.busy)},
		)
	}
	if len(runs) == 2 {
		one, two := runs[0], runs[1]
		rows = append(rows, row{sec, "speed-up, 2 instances vs 1", fmt.Sprintf("%.2f× (launch to lag 0), %.2f× after the first commit, on %d cores shared with Kafka and Elasticsearch",
			two.rate()/one.rate(), two.steadyRate()/one.steadyRate(), cores)})
	}
	return rows, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// runExtractors starts k `mwledger extract --consume` processes in group,
// samples the group's lag every 100 ms until it is 0, then stops them.
func runExtractors(ctx context.Context, bin, kafkaAddr, group string, k int, backlog int64) (extractRun, error) {
	brokers := []string{kafkaAddr}
	r := extractRun{instances: k, backlog: backlog}
	c0, err := sumEnds(ctx, brokers, schemas.TopicContracts)
	if err != nil {
		return r, err
	}
	env := []string{"MWLEDGER_KAFKA=" + kafkaAddr, "MWLEDGER_LOG_LEVEL=warn"}
	logf("scale-out: %d extractor process(es) in group %s", k, group)
	start := time.Now()
	var procs []*proc
	stopAll := func() {
		for _, p := range procs {
			if p.running() {
				_ = p.cmd.Process.Signal(syscall.SIGTERM)
			}
		}
		for _, p := range procs {
			<-p.done
		}
	}
	defer stopAll()
	for range k {
		// The idle exit only guards against a bench that stops sampling.
		p, err := startProc(ctx, "extract", bin, env, "extract", "--consume", "--group", group, "--idle-exit", "2m")
		if err != nil {
			return r, err
		}
		procs = append(procs, p)
	}
	cpu := func() time.Duration {
		var t time.Duration
		for _, p := range procs {
			t += procCPU(p.cmd.Process.Pid)
		}
		return t
	}
	var cpuFirst time.Duration
	var busyFirst, totalFirst int64
	for {
		lag, err := benchtool.Lag(ctx, brokers, group, schemas.TopicArticles)
		at := time.Since(start)
		if err != nil {
			logf("scale-out: reading the lag of %s: %v", group, err)
		}
		if err == nil && lag < backlog && r.first == 0 {
			r.first, r.steady, cpuFirst = at, lag, cpu()
			busyFirst, totalFirst = machineCPU()
		}
		if err == nil && lag == 0 {
			r.wall = at
			r.procCPU = cpu() - cpuFirst
			b, t := machineCPU()
			if t > totalFirst {
				r.busy = float64(b-busyFirst) / float64(t-totalFirst) * float64(runtime.NumCPU())
			}
			break
		}
		for _, p := range procs {
			if !p.running() {
				return r, fmt.Errorf("an extractor of group %s exited before the lag reached 0 (%d left): %v", group, lag, p.err)
			}
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	stopAll()
	for _, p := range procs {
		if p.err != nil {
			return r, fmt.Errorf("extractor of group %s: %v", group, p.err)
		}
		r.allCPU += p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
	}
	c1, err := sumEnds(ctx, brokers, schemas.TopicContracts)
	if err != nil {
		return r, err
	}
	r.contracts = c1 - c0
	return r, nil
}

func sumEnds(ctx context.Context, brokers []string, topic string) (int64, error) {
	ends, err := benchtool.EndOffsets(ctx, brokers, topic)
	var sum int64
	for _, e := range ends {
		sum += e
	}
	return sum, err
}

// userHZ is the unit of the CPU times in /proc (USER_HZ, 100 on Linux).
const userHZ = 100

// procCPU is the user+system CPU time a process used so far (0 once it is gone).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after "(comm) ": state is the 1st, utime the 12th, stime the 13th.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * time.Second / userHZ
}

// machineCPU returns the busy and total time of all cores so far, from /proc/stat.
func machineCPU() (busy, total int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	for k := 1; k < len(f) && k <= 8; k++ {
		v, _ := strconv.ParseInt(f[k], 10, 64)
		total += v
		if k != 4 && k != 5 {
			busy += v
		}
	}
	return busy, total
}
