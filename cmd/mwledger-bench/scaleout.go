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

	kafkago "github.com/segmentio/kafka-go"

	"github.com/mwledger/mwledger/internal/testkit"
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
		ends, err := testkit.EndOffsets(ctx, cfg.Brokers, topic)
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

// backlog is what a scale-out step published for its runs to read.
type backlog struct {
	records    int64 // messages the topic grew by
	partitions int
	replicas   int   // of the topic's partitions (the fewest): 3 on the cluster, 1 on one broker
	lo, hi     int64 // the fewest and the most on one partition
}

func (b backlog) String() string {
	return fmt.Sprintf("%d partitions, replication factor %d, %d–%d each", b.partitions, b.replicas, b.lo, b.hi)
}

// publishBacklog positions groups at the end of topic, then publishes n
// messages (msg(i), in batches of 500) for them to read.
func publishBacklog(ctx context.Context, cfg kafka.Config, topic string, groups []string, n int, msg func(i int) (stream.Message, error)) (backlog, error) {
	var b backlog
	// Fresh groups that start at the current end: each reads exactly the backlog below.
	for _, g := range groups {
		if err := testkit.SkipBacklog(ctx, cfg.Brokers, g, topic); err != nil {
			return b, err
		}
	}
	before, err := testkit.EndOffsets(ctx, cfg.Brokers, topic)
	if err != nil {
		return b, err
	}
	pub, err := kafka.NewPublisher(cfg)
	if err != nil {
		return b, err
	}
	defer pub.Close()
	for i := 0; i < n; {
		var batch []stream.Message
		for ; i < n && len(batch) < 500; i++ {
			m, err := msg(i)
			if err != nil {
				return b, err
			}
			batch = append(batch, m)
		}
		if err := pub.Publish(ctx, batch...); err != nil {
			return b, err
		}
	}
	after, err := testkit.EndOffsets(ctx, cfg.Brokers, topic)
	if err != nil {
		return b, err
	}
	b.partitions, b.lo = len(after), -1
	if b.replicas, err = replicas(ctx, cfg.Brokers, topic); err != nil {
		return b, err
	}
	for p, end := range after {
		d := end - before[p]
		b.records += d
		b.hi = max(b.hi, d)
		if b.lo < 0 || d < b.lo {
			b.lo = d
		}
	}
	if b.records != int64(n) {
		logf("scale-out: %s grew by %d, not %d: something else publishes to it; the runs read it all", topic, b.records, n)
	}
	return b, nil
}

// replicas is the fewest replicas a partition of topic has.
func replicas(ctx context.Context, brokers []string, topic string) (int, error) {
	client := &kafkago.Client{Addr: kafkago.TCP(brokers...), Timeout: 15 * time.Second}
	md, err := client.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	n := -1
	for _, t := range md.Topics {
		for _, p := range t.Partitions {
			if n < 0 || len(p.Replicas) < n {
				n = len(p.Replicas)
			}
		}
	}
	if n < 0 {
		return 0, fmt.Errorf("metadata of %s: no partitions", topic)
	}
	return n, nil
}

// scaleStep is where a scale-out step starts: the binary is there, the
// topics have their partitions, and the step has a run id and a seed of its own.
type scaleStep struct {
	cfg  kafka.Config
	run  string
	seed int
}

func newScaleStep(ctx context.Context, bin, kafkaAddr string) (scaleStep, error) {
	if _, err := os.Stat(bin); err != nil {
		return scaleStep{}, fmt.Errorf("%s: %w (make build)", bin, err)
	}
	cfg := kafka.Config{Brokers: kafka.ParseBrokers(kafkaAddr)}
	if err := checkPartitions(ctx, cfg); err != nil {
		return scaleStep{}, err
	}
	now := time.Now().UnixNano()
	return scaleStep{cfg: cfg, run: strconv.FormatInt(now, 36), seed: int(now % testkit.Combos)}, nil
}

// scaleOrder is the runs of a scale-out step (-scale-runs, -scale-warmup).
type scaleOrder struct {
	runs   []int // instances of each run
	warmup bool  // runs[0] is a warm-up: shown, not counted in the means
}

func (o scaleOrder) warm(k int) bool { return o.warmup && k == 0 }

// runGroups names a fresh consumer group for each run of order.
func runGroups(prefix, run string, order []int) []string {
	var gs []string
	for i, k := range order {
		gs = append(gs, fmt.Sprintf("%s%d-%d-%s", prefix, i+1, k, run))
	}
	return gs
}

// scaleOut measures the extractor with one and with two `mwledger extract
// --consume` processes in one consumer group, over the same backlog of n
// generated articles on the 6-partition articles topic; order is the
// instances of each run (1,2 or, against drift and warm-up, 1,2,2,1). It
// returns the rows, to write once every run has measured the services' idle
// rate (servicePIDs.measureIdle).
func scaleOut(ctx context.Context, bin, kafkaAddr string, n int, order scaleOrder, svc *servicePIDs) (func() []row, error) {
	st, err := newScaleStep(ctx, bin, kafkaAddr)
	if err != nil {
		return nil, err
	}
	brokers, cfg, run, seed := st.cfg.Brokers, st.cfg, st.run, st.seed
	base := "https://scaleout.example/bench-" + run
	groups := runGroups("bench-scale", run, order.runs)
	logf("scale-out: publishing %d generated articles", n)
	bl, err := publishBacklog(ctx, cfg, schemas.TopicArticles, groups, n, func(i int) (stream.Message, error) {
		a := testkit.Article(base, seed, i)
		v, err := json.Marshal(a)
		return stream.Message{Topic: schemas.TopicArticles, Key: []byte(a.CanonicalURL), Value: v}, err
	})
	if err != nil {
		return nil, err
	}

	spec := groupSpec{stage: "extract", topic: schemas.TopicArticles,
		env: []string{"MWLEDGER_KAFKA=" + kafkaAddr, "MWLEDGER_LOG_LEVEL=warn"}, args: []string{"extract", "--consume"}}
	const sec = "scale-out (extract)"
	rows := []row{{sec, "backlog", fmt.Sprintf("%d generated articles on %s (%s), %d partitions on %s; a fresh consumer group per run",
		bl.records, schemas.TopicArticles, bl, scalePartitions, schemas.TopicContracts)}}
	var runs []groupRun
	for k, g := range groups {
		c0, err := sumEnds(ctx, brokers, schemas.TopicContracts)
		if err != nil {
			return nil, err
		}
		r, err := runGroup(ctx, bin, brokers, spec, g, order.runs[k], bl.records, svc)
		if err != nil {
			return nil, err
		}
		r.warmup = order.warm(k)
		c1, err := sumEnds(ctx, brokers, schemas.TopicContracts)
		if err != nil {
			return nil, err
		}
		r.note = fmt.Sprintf("; %d contracts published", c1-c0)
		if c1-c0 > r.backlog {
			r.note += fmt.Sprintf(" (%d more than articles: read again after a rebalance, at-least-once)", c1-c0-r.backlog)
		}
		runs = append(runs, r)
	}
	return func() []row {
		rows = append(rows, runRows(sec, "article", runs, svc)...)
		return append(rows, predictRows(sec, "article", runs, svc)...)
	}, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// groupRun is one run of k processes of a stage in one fresh consumer group
// over a backlog, timed to consumer lag 0.
type groupRun struct {
	instances int
	backlog   int64         // records the group had to commit
	wall      time.Duration // from launching the processes to lag 0
	first     time.Duration // from launching to the first commit
	steady    int64         // records committed between the first commit and lag 0
	procCPU   time.Duration // CPU of the stage's processes between the first commit and lag 0
	allCPU    time.Duration // CPU of the stage's processes over their whole life (rusage)
	svcRaw    serviceCPU    // CPU of Elasticsearch and of Kafka from launch to svcWall
	svcWall   time.Duration // from launch to 3 s after lag 0 (their work on the run's writes goes on: refresh, merges, replication)
	idle      [2]float64    // cores Elasticsearch and Kafka kept busy over 3 s before the run
	note      string        // what the caller checked after the run
	warmup    bool          // shown, not counted in the means
	busy      float64       // the machine's busy cores from launch to lag 0
	load      string        // the load averages at lag 0 (/proc/loadavg)
}

func (r groupRun) rate() float64 { return float64(r.backlog) / r.wall.Seconds() }

func (r groupRun) steadyRate() float64 {
	if r.wall <= r.first {
		return r.rate() // done at the first sample: no window to measure
	}
	return float64(r.steady) / (r.wall - r.first).Seconds()
}

// cores is how many cores the stage's processes kept busy after the first commit.
func (r groupRun) cores() float64 {
	if r.wall <= r.first {
		return 0
	}
	return r.procCPU.Seconds() / (r.wall - r.first).Seconds()
}

// perRecord is d spread over the backlog, in ms.
func (r groupRun) perRecord(d time.Duration) float64 { return ms(d) / float64(max(1, r.backlog)) }

// stageCPU is the stage's CPU per record in ms: after the first commit when
// most of the backlog came after it (start-up left out, as on a long-running
// stage), else over the processes' whole life, start-up included (with the
// indexer's batches of 2000 the time after the first commit may hold a
// fraction of a batch's work, or none).
func (r groupRun) stageCPU() float64 {
	if r.steadyCPU() {
		return ms(r.procCPU) / float64(r.steady)
	}
	return r.perRecord(r.allCPU)
}

// steadyCPU says whether most of the backlog came after the first commit.
func (r groupRun) steadyCPU() bool { return r.steady > 0 && 2*r.steady >= r.backlog }

// name is "1 instance" or "k instances".
func (r groupRun) name() string {
	name := fmt.Sprintf("%d instances", r.instances)
	if r.instances == 1 {
		name = "1 instance"
	}
	if r.warmup {
		name += " (warm-up, not counted)"
	}
	return name
}

// groupSpec says how to run one stage's processes in a consumer group.
type groupSpec struct {
	stage string   // "extract", "index": the process name in messages
	topic string   // what the group reads
	env   []string // added to the bench's environment
	args  []string // the command line before --group
}

// runGroup starts k processes of spec in group, samples the group's lag on
// spec.topic every 100 ms until it is 0, then stops them (SIGTERM).
func runGroup(ctx context.Context, bin string, brokers []string, spec groupSpec, group string, k int, backlog int64, svc *servicePIDs) (groupRun, error) {
	r := groupRun{instances: k, backlog: backlog}
	r.idle[0], r.idle[1] = svc.measureIdle(ctx, 3*time.Second, func() { _, _ = testkit.Lag(ctx, brokers, group, spec.topic) })
	logf("scale-out: %d %s process(es) in group %s", k, spec.stage, group)
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
		args := append(append([]string{}, spec.args...), "--group", group, "--idle-exit", "2m")
		p, err := startProc(ctx, spec.stage, bin, spec.env, args...)
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
	svc0 := svc.cpu()
	busy0, total0 := machineCPU()
	for {
		lag, err := testkit.Lag(ctx, brokers, group, spec.topic)
		at := time.Since(start)
		if err != nil {
			logf("scale-out: reading the lag of %s: %v", group, err)
		}
		if err == nil && lag < backlog && r.first == 0 {
			r.first, r.steady, cpuFirst = at, lag, cpu()
		}
		if err == nil && lag == 0 {
			r.wall = at
			r.procCPU = cpu() - cpuFirst
			b, t := machineCPU()
			if t > total0 {
				r.busy = float64(b-busy0) / float64(t-total0) * float64(runtime.NumCPU())
			}
			r.load = loadAvg()
			break
		}
		for _, p := range procs {
			if !p.running() {
				return r, fmt.Errorf("a process of group %s exited before the lag reached 0 (%d left): %v", group, lag, p.err)
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
			return r, fmt.Errorf("%s of group %s: %v", spec.stage, group, p.err)
		}
		r.allCPU += p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
	}
	select {
	case <-ctx.Done():
		return r, ctx.Err()
	case <-time.After(time.Until(start.Add(r.wall + svcTail))):
	}
	r.svcRaw, r.svcWall = svc.cpu().sub(svc0), time.Since(start)
	return r, nil
}

// svcTail is how long after lag 0 the services' CPU still counts for a run.
const svcTail = 3 * time.Second

// svc is the services' CPU of a run, less their idle rate (the lowest of all runs).
func (r groupRun) svc(s *servicePIDs) serviceCPU { return r.svcRaw.lessIdle(s, r.svcWall) }

// runRows are the figures of each run: records/s, then the CPU per record of
// the stage, of Elasticsearch and of Kafka.
func runRows(sec, unit string, runs []groupRun, s *servicePIDs) []row {
	var rows []row
	for _, r := range runs {
		rows = append(rows, r.rows(sec, unit, s)...)
	}
	return rows
}

func (r groupRun) rows(sec, unit string, s *servicePIDs) []row {
	stage := fmt.Sprintf("stage %.2f ms (user+sys over the processes' whole life, start-up included; ", r.perRecord(r.allCPU))
	switch {
	case r.steadyCPU():
		stage = fmt.Sprintf("stage %.2f ms (user+sys after the first commit, %.2f cores; %.2f ms over the processes' whole life)", r.stageCPU(), r.cores(), r.perRecord(r.allCPU))
	case r.steady > 0:
		stage += fmt.Sprintf("%d %ss after the first commit)", r.steady, unit)
	default:
		stage += "lag 0 at the first commit)"
	}
	svc := r.svc(s)
	cpu := fmt.Sprintf("%s, Elasticsearch %s, Kafka %s (launch to %s after lag 0, less their idle rate; before this run they kept %.2f and %.2f cores busy); the whole machine busy %.2f of %d cores, load average %s",
		stage, svc.perRecordES(r), svc.perRecordKafka(r), svcTail, r.idle[0], r.idle[1], r.busy, runtime.NumCPU(), r.load)
	return []row{
		{sec, r.name(), fmt.Sprintf("%.0f %ss/s: lag 0 after %.1f s (first commit at %.1f s, %.0f %ss/s from then)%s",
			r.rate(), unit, r.wall.Seconds(), r.first.Seconds(), r.steadyRate(), unit, r.note)},
		{sec, r.name() + ", CPU per " + unit, cpu},
	}
}

// predictRows compare the runs with one and with two instances (the mean of
// each, when the order ran them more than once) and say, from the CPU per
// record of the 1-instance runs, what throughput more cores would allow.
func predictRows(sec, unit string, runs []groupRun, s *servicePIDs) []row {
	type mean struct {
		n                           int
		rate, stage, elastic, kafka float64
		servicesFound, withSteady   bool
	}
	of := func(k int) mean {
		m := mean{servicesFound: true, withSteady: true}
		for _, r := range runs {
			if r.instances != k || r.warmup {
				continue
			}
			elastic, kafka, ok := r.svc(s).perRecord(r)
			m.n++
			m.rate += r.rate()
			m.stage += r.stageCPU()
			m.elastic += elastic
			m.kafka += kafka
			m.servicesFound = m.servicesFound && ok
		}
		if m.n > 0 {
			d := float64(m.n)
			m.rate, m.stage, m.elastic, m.kafka = m.rate/d, m.stage/d, m.elastic/d, m.kafka/d
		}
		return m
	}
	one, two := of(1), of(2)
	if one.n == 0 || one.stage <= 0 {
		return nil
	}
	cores := runtime.NumCPU()
	var rows []row
	if two.n > 0 {
		rows = append(rows, row{sec, "speed-up, 2 instances vs 1", fmt.Sprintf("%.2f× (launch to lag 0, mean of %d and %d runs: %.0f against %.0f %ss/s), on %d cores shared with Kafka and Elasticsearch",
			two.rate/one.rate, two.n, one.n, two.rate, one.rate, unit, cores)})
	}
	perCore := func(ms float64) string {
		if ms <= 0 {
			return "no measurable work"
		}
		return fmt.Sprintf("%.0f %ss/s", 1000/ms, unit)
	}
	p := fmt.Sprintf("from the 1-instance runs' CPU (%.2f ms stage + %.2f ms Elasticsearch + %.2f ms Kafka per %s): per core, the stage %s, Elasticsearch %s, Kafka %s",
		one.stage, one.elastic, one.kafka, unit, perCore(one.stage), perCore(one.elastic), perCore(one.kafka))
	if one.servicesFound {
		total := one.stage + one.elastic + one.kafka
		p += fmt.Sprintf("; all on one machine, at most %.0f/s on %d cores (measured %.0f with 1 instance), %.0f on 4, %.0f on 8",
			float64(cores)*1000/total, cores, one.rate, 4000/total, 8000/total)
	}
	return append(rows, row{sec, "throughput predicted by the CPU per " + unit, p})
}

func sumEnds(ctx context.Context, brokers []string, topic string) (int64, error) {
	ends, err := testkit.EndOffsets(ctx, brokers, topic)
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
