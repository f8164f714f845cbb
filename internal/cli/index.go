package cli

import (
	"context"
	"strings"

	"github.com/mwledger/mwledger/indexer"
	"github.com/mwledger/mwledger/internal/bus"
	"github.com/mwledger/mwledger/schemas"
)

// esFlags are the Elasticsearch options (secrets come from the environment only).
func esConfig(addr string) indexer.ESConfig {
	return indexer.ESConfig{
		Addresses: strings.Split(addr, ","),
		Username:  envOr("MWLEDGER_ES_USERNAME", ""),
		Password:  envOr("MWLEDGER_ES_PASSWORD", ""),
		APIKey:    envOr("MWLEDGER_ES_API_KEY", ""),
	}
}

func runIndex(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "index", "[flags]")
	group := fs.String("group", "mwledger-indexer", "Kafka consumer group")
	batch := fs.Int("batch", 500, "records per bulk request")
	var sf serviceFlags
	sf.register(fs, true)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	store, err := indexer.NewESStore(esConfig(sf.es))
	if err != nil {
		return err
	}
	if err := store.EnsureIndex(ctx); err != nil {
		return err
	}
	cfg := sf.kafkaConfig()
	if err := ensureTopics(ctx, cfg); err != nil {
		return err
	}
	in, err := bus.NewKafkaConsumer(cfg, *group, schemas.TopicContracts)
	if err != nil {
		return err
	}
	defer in.Close()
	dlq, err := bus.NewKafkaPublisher(cfg)
	if err != nil {
		return err
	}
	defer dlq.Close()
	e.log.Info("indexer stage started", "kafka", sf.kafka, "es", sf.es, "group", *group, "alias", indexer.Alias)
	st, err := indexer.RunStage(ctx, in, store, dlq, indexer.StageConfig{BatchSize: *batch, IdleExit: sf.idleExit, Log: e.log})
	e.log.Info("indexer stage stopped", "records", st.Records, "indexed", st.Indexed, "dead_letters", st.DeadLetters, "retries", st.Retries)
	if err == nil {
		err = store.Refresh(context.WithoutCancel(ctx))
	}
	return err
}
