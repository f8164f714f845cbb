package app

import (
	"context"
	"time"

	"github.com/mwledger/mwledger/alert"
	"github.com/mwledger/mwledger/indexer"
	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
	"github.com/mwledger/mwledger/stream/kafka"
)

// Indexer is the indexer stage with the alert dispatcher beside it: what
// `mwledger index` runs on Kafka and Elasticsearch, the embedded mode runs on
// its bus, and the bench and the tests run on their own topics.
type Indexer struct {
	// Store is the ledger the stage writes. Required.
	Store Store
	// Stage configures the indexer stage.
	Stage indexer.StageConfig
	// Policy and Dispatcher, when both are set, raise and deliver alerts: the
	// store raises them with Policy and tells the dispatcher, which runs
	// while the stage does and, after a clean stop, is drained for at most
	// Drain (default 10s; negative: not drained). What a sink could not take
	// stays in the ledger's outbox for the next run.
	Policy     ledger.AlertPolicy
	Dispatcher *alert.Dispatcher
	Drain      time.Duration
	// Stored, when set, hears of the deals a write changed before the
	// dispatcher does (the bench's clock).
	Stored func(dealIDs []string)
}

// Run consumes contract records from in into the store, dead-lettering to
// dlq, until ctx ends or the stage's IdleExit passes. A clean stop (the stage
// returned no error and ctx did not end) drains the dispatcher; the
// dispatcher stops before Run returns.
func (ix Indexer) Run(ctx context.Context, in stream.Consumer, dlq stream.Publisher) (indexer.StageStats, error) {
	if ix.Dispatcher == nil || ix.Policy == nil {
		return indexer.RunStage(ctx, in, ix.Store, dlq, ix.Stage)
	}
	notify := ix.Dispatcher.Notify
	if ix.Stored != nil {
		notify = func(ids []string) { ix.Stored(ids); ix.Dispatcher.Notify(ids) }
	}
	ix.Store.SetAlerts(ix.Policy, notify)
	dctx, stopDispatch := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); ix.Dispatcher.Run(dctx) }()
	defer func() { stopDispatch(); <-done }()
	st, err := indexer.RunStage(ctx, in, ix.Store, dlq, ix.Stage)
	if err == nil && ctx.Err() == nil && ix.Drain >= 0 {
		drain := ix.Drain
		if drain == 0 {
			drain = 10 * time.Second
		}
		dc, cancel := context.WithTimeout(context.WithoutCancel(ctx), drain)
		defer cancel()
		ix.Dispatcher.Drain(dc)
	}
	return st, err
}

// Index runs ix on Kafka: mwledger.contracts read in consumer group group,
// dead letters to mwledger.dlq, until ctx ends (or the stage's IdleExit
// passes). sinks, when set, builds the dispatcher and policy once the
// publisher exists (the Kafka alert sink publishes with it); nil: no alerts.
// `mwledger index` uses it.
func Index(ctx context.Context, cfg kafka.Config, group string, ix Indexer,
	sinks func(pub stream.Publisher) (ledger.AlertPolicy, *alert.Dispatcher, error)) (indexer.StageStats, error) {
	return onKafka(ctx, cfg, group, schemas.TopicContracts, func(in stream.Consumer, pub stream.Publisher) (indexer.StageStats, error) {
		if sinks != nil {
			var err error
			if ix.Policy, ix.Dispatcher, err = sinks(pub); err != nil {
				return indexer.StageStats{}, err
			}
		}
		return ix.Run(ctx, in, pub)
	}, kafka.TopicSpec{Name: alert.Topic})
}
