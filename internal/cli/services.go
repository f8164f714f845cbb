package cli

import (
	"flag"
	"os"
	"strings"
	"time"

	"github.com/mwledger/mwledger/stream/kafka"
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

func (s *serviceFlags) kafkaConfig() kafka.Config {
	return kafka.Config{Brokers: kafka.ParseBrokers(s.kafka), Security: kafkaSecurity()}
}

// kafkaSecurity reads TLS and SASL settings from the environment only, so that
// secrets never appear in a command line or a process list.
func kafkaSecurity() kafka.Security {
	return kafka.Security{
		TLS:      strings.EqualFold(os.Getenv("MWLEDGER_KAFKA_TLS"), "true"),
		CAFile:   os.Getenv("MWLEDGER_KAFKA_CA_FILE"),
		CertFile: os.Getenv("MWLEDGER_KAFKA_CERT_FILE"),
		KeyFile:  os.Getenv("MWLEDGER_KAFKA_KEY_FILE"),
		SASL:     os.Getenv("MWLEDGER_KAFKA_SASL"),
		Username: os.Getenv("MWLEDGER_KAFKA_USERNAME"),
		Password: os.Getenv("MWLEDGER_KAFKA_PASSWORD"),
	}
}
