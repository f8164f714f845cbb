package app

import (
	"context"
	"fmt"

	"github.com/mwledger/mwledger/extractor"
	"github.com/mwledger/mwledger/schemas"
	"github.com/mwledger/mwledger/stream"
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
	return onKafka(ctx, cfg, group, schemas.TopicArticles, func(in stream.Consumer, out stream.Publisher) (extractor.StageStats, error) {
		return x.RunStage(ctx, in, out, stage)
	})
}

// onKafka creates the pipeline's topics (and extra), opens a consumer of
// topic in group and a publisher, runs stage on them and closes them.
func onKafka[S any](ctx context.Context, cfg kafka.Config, group, topic string, stage func(in stream.Consumer, out stream.Publisher) (S, error), extra ...kafka.TopicSpec) (S, error) {
	var zero S
	if err := EnsureTopics(ctx, cfg); err != nil {
		return zero, err
	}
	if len(extra) > 0 {
		if err := kafka.EnsureTopics(ctx, cfg, extra...); err != nil {
			return zero, err
		}
	}
	in, err := kafka.NewConsumer(cfg, group, topic)
	if err != nil {
		return zero, err
	}
	defer in.Close()
	out, err := kafka.NewPublisher(cfg)
	if err != nil {
		return zero, err
	}
	defer out.Close()
	return stage(in, out)
}
