package indexer

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
)

// StageConfig configures the indexer stage.
type StageConfig struct {
	// BatchSize is the most records per bulk request. Default 500.
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
		c.BatchSize = 500
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

// RunStage consumes contract records and writes them to store. Each batch is
// committed only after every record in it was stored or dead-lettered.
func RunStage(ctx context.Context, in stream.Consumer, store Store, dlq stream.Publisher, cfg StageConfig) (StageStats, error) {
	cfg = cfg.withDefaults()
	var st StageStats
	for {
		batch, end, err := stream.FetchBatch(ctx, in, cfg.BatchSize, cfg.FlushInterval, cfg.IdleExit)
		if err != nil {
			return st, fmt.Errorf("fetching contracts: %w", err)
		}
		if len(batch) > 0 {
			if err := indexBatch(ctx, batch, store, dlq, cfg, &st); err != nil {
				return st, err
			}
			if err := stream.Retry(ctx, &stream.Backoff{}, nil, func() error { return in.Commit(ctx, batch...) }); err != nil {
				return st, err
			}
		}
		if end != stream.More {
			if end == stream.Idle {
				cfg.Log.Info("indexer idle, stopping", "idle", cfg.IdleExit)
			}
			return st, nil
		}
	}
}

type pending struct {
	msg stream.Message
	rec schemas.Contract
}

func indexBatch(ctx context.Context, batch []stream.Message, store Store, dlq stream.Publisher, cfg StageConfig, st *StageStats) error {
	st.Records += len(batch)
	var todo []pending
	var dead []stream.Message
	var deadErr []error
	for _, m := range batch {
		rec, err := decodeContract(m.Value)
		if err != nil {
			dead, deadErr = append(dead, m), append(deadErr, err)
			continue
		}
		todo = append(todo, pending{m, rec})
	}
	backoff := stream.Backoff{Min: 250 * time.Millisecond, Max: 30 * time.Second}
	for len(todo) > 0 {
		recs := make([]schemas.Contract, len(todo))
		for i, p := range todo {
			recs[i] = p.rec
		}
		errs := store.Upsert(ctx, recs)
		var retry []pending
		var lastErr error
		for i, err := range errs {
			switch {
			case err == nil:
				st.Indexed++
			case stream.IsRetryable(err):
				retry, lastErr = append(retry, todo[i]), err
			default:
				dead, deadErr = append(dead, todo[i].msg), append(deadErr, err)
			}
		}
		if len(retry) == 0 {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err() // nothing of this batch is committed
		}
		wait := backoff.Next()
		st.Retries++
		cfg.Log.Warn("store not ready, retrying", "records", len(retry), "wait", wait, "err", lastErr)
		if err := stream.Sleep(ctx, wait); err != nil {
			return err
		}
		todo = retry
	}
	for i, m := range dead {
		cfg.Log.Warn("record to dead-letter topic", "key", string(m.Key), "partition", m.Partition, "offset", m.Offset, "err", deadErr[i])
		if err := stream.Retry(ctx, &stream.Backoff{}, nil, func() error {
			return stream.DeadLetter(ctx, dlq, "index", m, deadErr[i])
		}); err != nil {
			return err
		}
		st.DeadLetters++
	}
	return nil
}

// decodeContract checks a message against the contract schema.
func decodeContract(v []byte) (schemas.Contract, error) {
	return stream.Decode[schemas.Contract]("index", schemas.ContractSchema, v)
}
