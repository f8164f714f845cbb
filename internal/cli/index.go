package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mwledger/mwledger/alert"
	"github.com/mwledger/mwledger/indexer"
	"github.com/mwledger/mwledger/internal/app"
	"github.com/mwledger/mwledger/internal/metrics"
	"github.com/mwledger/mwledger/ledger"
	"github.com/mwledger/mwledger/ledger/es"
	"github.com/mwledger/mwledger/stream"
)

// esConfig is how index, search and serve reach Elasticsearch: the address from
// --es / MWLEDGER_ES, the credentials and TLS trust from the environment only
// (like Kafka's), so that secrets never appear in a command line, a process
// list or a log line (es.Config.Validate refuses credentials in the URL).
func esConfig(addr string) es.Config {
	return es.Config{
		Addresses:       strings.Split(addr, ","),
		Username:        envOr("MWLEDGER_ES_USERNAME", ""),
		Password:        envOr("MWLEDGER_ES_PASSWORD", ""),
		APIKey:          envOr("MWLEDGER_ES_API_KEY", ""),
		CAFile:          envOr("MWLEDGER_ES_CA_FILE", ""),
		CertFingerprint: envOr("MWLEDGER_ES_CERT_FINGERPRINT", ""),
	}
}

// alertFlags are the alert options shared by index and run.
type alertFlags struct {
	rules    string
	webhook  string
	disabled bool
	drain    time.Duration
	// observer hears of the dispatcher's deliveries (metrics); nil: none.
	observer alert.Observer
}

func (a *alertFlags) register(fs interface {
	StringVar(p *string, name, value, usage string)
	BoolVar(p *bool, name string, value bool, usage string)
	DurationVar(p *time.Duration, name string, value time.Duration, usage string)
}) {
	fs.StringVar(&a.rules, "alert-rules", envOr("MWLEDGER_ALERT_RULES", ""), "alert rules YAML file (env MWLEDGER_ALERT_RULES; default: the built-in rules)")
	fs.StringVar(&a.webhook, "alert-webhook", envOr("MWLEDGER_ALERT_WEBHOOK", ""), "also POST alerts as JSON (Slack-compatible) to this URL (env MWLEDGER_ALERT_WEBHOOK)")
	fs.BoolVar(&a.disabled, "no-alerts", false, "raise no alerts")
	fs.DurationVar(&a.drain, "alert-drain", 10*time.Second, "on a clean stop, how long to keep delivering pending alerts")
}

// drainOrNone is --alert-drain as app.Indexer.Drain: 0 there is the
// default, and "--alert-drain 0" means no drain.
func (a *alertFlags) drainOrNone() time.Duration {
	if a.drain <= 0 {
		return -1
	}
	return a.drain
}

// loadRules reads --alert-rules, or returns the built-in rules.
func (a *alertFlags) loadRules() (alert.Rules, error) {
	if a.rules == "" {
		return alert.DefaultRules(), nil
	}
	return alert.LoadRules(a.rules)
}

// setup builds the policy and dispatcher for a store; nil when alerts are off.
func (a *alertFlags) setup(e *env, outbox ledger.Outbox, extra ...alert.Sink) (*alert.Policy, *alert.Dispatcher, error) {
	if a.disabled {
		return nil, nil, nil
	}
	rules, err := a.loadRules()
	if err != nil {
		return nil, nil, err
	}
	sinks := append([]alert.Sink{alert.LogSink{Log: e.log}}, extra...)
	if a.webhook != "" {
		w, err := alert.NewWebhookSink(alert.WebhookConfig{URL: a.webhook})
		if err != nil {
			return nil, nil, err
		}
		sinks = append(sinks, w)
	}
	d, err := alert.NewDispatcher(alert.DispatcherConfig{Outbox: outbox, Sinks: sinks, Log: e.log, Observer: a.observer})
	if err != nil {
		return nil, nil, err
	}
	p, err := alert.NewPolicy(rules, d.SinkNames())
	if err != nil {
		return nil, nil, err
	}
	return p, d, nil
}

func runIndex(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "index", "[flags]")
	group := fs.String("group", "mwledger-indexer", "Kafka consumer group")
	batch := fs.Int("batch", 2000, "records per batch (one bulk request)")
	reindex := fs.Bool("reindex", false, "copy the ledger into the next index version, swap the alias, and exit")
	alias := fs.String("alias", envOr("MWLEDGER_ES_ALIAS", es.Alias), "the alias deals are written to, behind which its versioned indices live (env MWLEDGER_ES_ALIAS; must start with "+es.Alias+")")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (default off)")
	var sf serviceFlags
	sf.register(fs, true)
	var af alertFlags
	af.register(fs)
	var mf metricsFlags
	mf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	reg, stopMetrics, err := mf.start(e)
	if err != nil {
		return err
	}
	defer stopMetrics()
	sm := metrics.NewStage(reg)
	sm.Init("index")
	ctx = stream.WithObserver(ctx, sm)
	cfg := esConfig(sf.es)
	cfg.Log = e.log
	cfg.OnBulk = metrics.NewESBulk(reg).Observe
	cfg.OnRequest = metrics.NewESRequests(reg).Observe
	cfg.Alias = *alias
	af.observer = metrics.NewAlerts(reg)
	store, err := es.New(cfg)
	if err != nil {
		return err
	}
	if err := store.EnsureIndex(ctx); err != nil {
		return err
	}
	if *reindex {
		st, err := store.Reindex(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "reindexed %d deal(s) from %s to %s (+%d caught up) in %s; alias %s now points to %s\n",
			st.Copied, st.From, st.To, st.CaughtUp, st.Took.Round(time.Millisecond), store.AliasName(), st.To)
		return nil
	}
	e.log.Info("indexer stage started", "kafka", sf.kafka, "es", sf.es, "group", *group, "alias", store.AliasName(), "alerts", !af.disabled)
	ix := app.Indexer{Store: store, Drain: af.drainOrNone(),
		Stage: indexer.StageConfig{BatchSize: *batch, IdleExit: sf.idleExit, Log: e.log}}
	st, err := app.Index(ctx, sf.kafkaConfig(), *group, ix, func(pub stream.Publisher) (ledger.AlertPolicy, *alert.Dispatcher, error) {
		policy, disp, err := af.setup(e, store, alert.KafkaSink{Pub: pub})
		if err != nil || disp == nil {
			return nil, nil, err
		}
		return policy, disp, nil
	})
	e.log.Info("indexer stage stopped", "records", st.Records, "indexed", st.Indexed, "dead_letters", st.DeadLetters, "retries", st.Retries)
	if err == nil {
		err = store.Refresh(context.WithoutCancel(ctx))
	}
	return err
}
