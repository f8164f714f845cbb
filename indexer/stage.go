package indexer

import (
	"context"
	"log/slog"
	"time"

	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

// StageConfig configures the indexer stage.
type StageConfig struct {
	// BatchSize is the most records per batch (one bulk request). Default
	// 2000: the Elasticsearch store reads the candidate deals of a batch's
	// operators once per batch, so larger batches read them less often.
	BatchSize int
	// FlushInterval bounds how long a partial batch waits for more records. Default 200ms.
	FlushInterval time.Duration
	// IdleExit, when positive, ends the stage once nothing arrived for that long. Default 0.
	IdleExit time.Duration
	// Log receives the stage's logs. Default: discard.
	Log *slog.Logger
}

func (c StageConfig) withDefaults() StageConfig {
	if c.BatchSize <= 0 {
		c.BatchSize = 2000
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = 200 * time.Millisecond
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// StageStats counts what the stage did.
type StageStats struct {
	Records, Indexed, DeadLetters, Retries int
}

// RunStage consumes contract records and writes them to store through
// stream.Run. Each batch is committed only after every record in it was
// stored or dead-lettered (to dlq); records the store could not take yet are
// retried with backoff.
func RunStage(ctx context.Context, in stream.Consumer, store ledger.Store, dlq stream.Publisher, cfg StageConfig) (StageStats, error) {
	cfg = cfg.withDefaults()
	rs, err := stream.Run(ctx, in, dlq, stream.RunnerConfig{Stage: "index", BatchSize: cfg.BatchSize, Linger: cfg.FlushInterval,
		IdleExit: cfg.IdleExit, RetryLog: "store not ready, retrying", Log: cfg.Log},
		func(ctx context.Context, batch []stream.Message) ([]stream.Message, []error, error) {
			return nil, indexBatch(ctx, batch, store), nil
		})
	return StageStats{Records: rs.Messages, Indexed: rs.Done, DeadLetters: rs.DeadLetters, Retries: rs.Retries}, err
}

// indexBatch decodes the records of a batch and upserts them: one error per
// message (a retryable one when the store was not ready).
func indexBatch(ctx context.Context, batch []stream.Message, store ledger.Store) []error {
	if p, ok := store.(ledger.Preparer); ok {
		p.Prepare(ctx)
	}
	errs := make([]error, len(batch))
	decoded := make([]schemas.Contract, len(batch))
	ledger.Parallel(len(batch), func(i int) { decoded[i], errs[i] = decodeContract(batch[i].Value) })
	var recs []schemas.Contract
	var at []int
	for i := range batch {
		if errs[i] == nil {
			recs, at = append(recs, decoded[i]), append(at, i)
		}
	}
	if len(recs) > 0 {
		for j, err := range store.Upsert(ctx, recs) {
			errs[at[j]] = err
		}
	}
	return errs
}

// decodeContract checks a message against the contract schema.
func decodeContract(v []byte) (schemas.Contract, error) {
	return stream.Decode[schemas.Contract]("index", schemas.ContractSchema, v)
}
