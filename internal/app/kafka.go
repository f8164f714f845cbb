package app

import (
	"context"
	"fmt"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream/kafka"
)

// EnsureTopics checks the connection to Kafka, then creates the pipeline's
// topics with the partition count and retention they need: articles are
// kept (30 days) so that they can be replayed; dead letters have one
// partition (their order is the order of failure).
func EnsureTopics(ctx context.Context, cfg kafka.Config) error {
	if err := kafka.Ping(ctx, cfg); err != nil {
		return err
	}
	return kafka.EnsureTopics(ctx, cfg,
		kafka.TopicSpec{Name: schemas.TopicArticles, Configs: map[string]string{"retention.ms": fmt.Sprint(int64(30 * 24 * 3600 * 1000))}},
		kafka.TopicSpec{Name: schemas.TopicContracts},
		kafka.TopicSpec{Name: schemas.TopicDLQ, Partitions: 1},
	)
}

// Extract runs the extractor stage on Kafka: mwledger.articles read in
// consumer group group → mwledger.contracts and mwledger.dlq, until ctx ends
// (or stage.IdleExit passes). `mwledger extract --consume` and `mwledger
// reprocess` use it.
func Extract(ctx context.Context, cfg kafka.Config, x *extractor.Extractor, group string, stage extractor.StageConfig) (extractor.StageStats, error) {
	if err := EnsureTopics(ctx, cfg); err != nil {
		return extractor.StageStats{}, err
	}
	in, err := kafka.NewConsumer(cfg, group, schemas.TopicArticles)
	if err != nil {
		return extractor.StageStats{}, err
	}
	defer in.Close()
	out, err := kafka.NewPublisher(cfg)
	if err != nil {
		return extractor.StageStats{}, err
	}
	defer out.Close()
	return x.RunStage(ctx, in, out, stage)
}
