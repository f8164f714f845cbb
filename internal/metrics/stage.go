package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mwledger/mwledger/stream"
)

// Stage holds the counters every stream stage (extract, index) shares; it is
// the stream.Observer a command puts in the context of the stage it runs.
type Stage struct {
	in, out, batches *prometheus.CounterVec
	dead             *prometheus.CounterVec
	retries          *prometheus.CounterVec
	batch            *prometheus.HistogramVec
	lag              *prometheus.GaugeVec
}

var _ stream.Observer = (*Stage)(nil)

// batchBuckets are the bounds of the batch latency histogram, in seconds: a
// batch takes milliseconds (a lone article) to minutes (retries while a
// service is down).
var batchBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}

// NewStage registers the stage counters with reg.
func NewStage(reg prometheus.Registerer) *Stage {
	s := &Stage{
		in: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mwledger_stage_records_in_total",
			Help: "Messages read and committed by a stage (extract: articles; index: contract records)."}, []string{"stage"}),
		out: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mwledger_stage_records_out_total",
			Help: "Messages a stage published downstream, dead letters not counted (extract: contract records)."}, []string{"stage"}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mwledger_stage_batches_total",
			Help: "Batches a stage committed."}, []string{"stage"}),
		dead: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mwledger_stage_dead_letters_total",
			Help: "Messages a stage sent to mwledger.dlq, by reason."}, []string{"stage", "reason"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mwledger_stage_retries_total",
			Help: "Messages handed to a stage again after a retryable failure (a service not ready)."}, []string{"stage"}),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mwledger_stage_batch_duration_seconds",
			Help: "Time from a batch's fetch to its commit, retries included.", Buckets: batchBuckets}, []string{"stage"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mwledger_stage_consumer_lag",
			Help: "Messages left on a partition after the last committed batch of this process (updated when a batch of the partition is committed)."},
			[]string{"stage", "topic", "partition"}),
	}
	reg.MustRegister(s.in, s.out, s.batches, s.dead, s.retries, s.batch, s.lag)
	return s
}

// Init makes the series of stage exist at zero before anything happened, so
// that rate() and alerts see them from the start.
func (s *Stage) Init(stage string) {
	s.in.WithLabelValues(stage)
	s.out.WithLabelValues(stage)
	s.batches.WithLabelValues(stage)
	s.retries.WithLabelValues(stage)
}

// Retrying implements stream.Observer.
func (s *Stage) Retrying(stage string, n int) { s.retries.WithLabelValues(stage).Add(float64(n)) }

// BatchDone implements stream.Observer.
func (s *Stage) BatchDone(stage string, b stream.BatchReport) {
	s.in.WithLabelValues(stage).Add(float64(b.Messages))
	s.out.WithLabelValues(stage).Add(float64(b.Published))
	s.batches.WithLabelValues(stage).Inc()
	for reason, n := range b.DeadLetters {
		s.dead.WithLabelValues(stage, reason).Add(float64(n))
	}
	s.batch.WithLabelValues(stage).Observe(b.Took.Seconds())
	for _, l := range b.Lag {
		s.lag.WithLabelValues(stage, l.Topic, strconv.Itoa(l.Partition)).Set(float64(l.Lag))
	}
}

// durationBuckets are the bounds of request latency histograms, in seconds.
var durationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

func seconds(d time.Duration) float64 { return d.Seconds() }
