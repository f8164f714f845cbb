package cli

import (
	"flag"
	"time"

	"github.com/mwledger/mwledger/internal/bus"
)

// serviceFlags are the addresses of Kafka and Elasticsearch, from flags or env.
type serviceFlags struct {
	kafka    string
	es       string
	idleExit time.Duration
}

func (s *serviceFlags) register(fs *flag.FlagSet, withES bool) {
	fs.StringVar(&s.kafka, "kafka", envOr("MWLEDGER_KAFKA", "127.0.0.1:19092"), "Kafka bootstrap brokers, comma-separated (env MWLEDGER_KAFKA)")
	if withES {
		fs.StringVar(&s.es, "es", envOr("MWLEDGER_ES", "http://127.0.0.1:19200"), "Elasticsearch URL, comma-separated for several nodes (env MWLEDGER_ES)")
	}
	fs.DurationVar(&s.idleExit, "idle-exit", 0, "stop after this long without a message (0 = run until interrupted)")
}

func (s *serviceFlags) kafkaConfig() bus.KafkaConfig {
	return bus.KafkaConfig{Brokers: bus.ParseBrokers(s.kafka)}
}
