package extractor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mwledger/mwledger/internal/bus"
	"github.com/mwledger/mwledger/internal/pipeline"
	"github.com/mwledger/mwledger/schemas"
)

// StageConfig configures the extractor stage.
type StageConfig struct {
	// IdleExit, when positive, ends the stage once no article arrived for that
	// long (batch runs and tests). Default 0: run until the context ends.
	IdleExit time.Duration
	// Log receives the stage's logs. Default: discard.
	Log *slog.Logger
}

// StageStats counts what the stage did.
type StageStats struct {
	Articles, Contracts, DeadLetters int
}

// RunStage consumes articles, publishes their contracts and commits each article
// only after its contracts (or its dead letter) were acknowledged.
func (x *Extractor) RunStage(ctx context.Context, in bus.Consumer, out bus.Publisher, cfg StageConfig) (StageStats, error) {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var st StageStats
	for {
		fctx, cancel := ctx, context.CancelFunc(func() {})
		if cfg.IdleExit > 0 {
			fctx, cancel = context.WithTimeout(ctx, cfg.IdleExit)
		}
		msg, err := in.Fetch(fctx)
		cancel()
		switch {
		case errors.Is(err, bus.ErrClosed):
			return st, nil
		case err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded):
			log.Info("extractor idle, stopping", "idle", cfg.IdleExit, "articles", st.Articles)
			return st, nil
		case err != nil:
			if ctx.Err() != nil {
				return st, nil
			}
			return st, fmt.Errorf("fetching articles: %w", err)
		}
		st.Articles++
		contracts, perr := x.processMessage(ctx, msg)
		backoff := pipeline.Backoff{Min: 200 * time.Millisecond, Max: 10 * time.Second}
		onRetry := func(err error, wait time.Duration) {
			log.Warn("publish failed, retrying", "err", err, "wait", wait, "offset", msg.Offset)
		}
		if perr != nil {
			log.Warn("article to dead-letter topic", "key", string(msg.Key), "partition", msg.Partition, "offset", msg.Offset, "err", perr)
			if err := pipeline.Retry(ctx, &backoff, onRetry, func() error {
				return pipeline.DeadLetter(ctx, out, "extract", msg, perr)
			}); err != nil {
				return st, err
			}
			st.DeadLetters++
		} else if len(contracts) > 0 {
			msgs := make([]bus.Message, len(contracts))
			for i, c := range contracts {
				v, err := json.Marshal(c)
				if err != nil {
					return st, fmt.Errorf("encoding contract %s: %w", c.ID, err)
				}
				msgs[i] = bus.Message{Topic: schemas.TopicContracts, Key: []byte(c.ID), Value: v,
					Headers: map[string]string{"extractor_version": Version}}
			}
			if err := pipeline.Retry(ctx, &backoff, onRetry, func() error { return out.Publish(ctx, msgs...) }); err != nil {
				return st, err
			}
			st.Contracts += len(contracts)
			log.Debug("published contracts", "url", string(msg.Key), "contracts", len(contracts))
		}
		if err := pipeline.Retry(ctx, &backoff, nil, func() error { return in.Commit(ctx, msg) }); err != nil {
			return st, err
		}
	}
}

// processMessage decodes, checks and extracts one article message.
func (x *Extractor) processMessage(ctx context.Context, msg bus.Message) ([]schemas.Contract, error) {
	var probe struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if err := json.Unmarshal(msg.Value, &probe); err != nil {
		return nil, pipeline.Permanent("extract", "invalid_json", err)
	}
	if probe.SchemaVersion == nil || *probe.SchemaVersion != schemas.Version {
		got := "none"
		if probe.SchemaVersion != nil {
			got = fmt.Sprint(*probe.SchemaVersion)
		}
		return nil, pipeline.Permanent("extract", "schema_version", fmt.Errorf("article schema_version %s, this extractor reads %d", got, schemas.Version))
	}
	if err := schemas.Validate("article.schema.json", msg.Value); err != nil {
		return nil, pipeline.Permanent("extract", "schema_invalid", err)
	}
	var a schemas.Article
	if err := json.Unmarshal(msg.Value, &a); err != nil {
		return nil, pipeline.Permanent("extract", "invalid_json", err)
	}
	cs, err := x.Extract(ctx, a)
	if err != nil {
		reason := "unreadable_html"
		switch {
		case errors.Is(err, ErrTooLarge):
			reason = "too_large"
		case errors.Is(err, ErrNotHTML):
			reason = "not_html"
		case errors.Is(err, ErrEmpty):
			reason = "empty"
		}
		return nil, pipeline.Permanent("extract", reason, err)
	}
	return cs, nil
}
