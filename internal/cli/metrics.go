package cli

import (
	"flag"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mwledger/mwledger/internal/metrics"
)

// metricsFlags is --metrics-addr, shared by the long-running commands.
type metricsFlags struct {
	addr string
}

func (m *metricsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.addr, "metrics-addr", envOr("MWLEDGER_METRICS_ADDR", ""),
		"serve Prometheus metrics on http://ADDR/metrics; a bare port or :PORT listens on 127.0.0.1 (default off) (env MWLEDGER_METRICS_ADDR)")
}

// start returns the process's registry (Go runtime and process collectors
// included) and serves it when --metrics-addr is set; stop ends the server.
// Without the flag the registry still takes the counters, unserved.
func (m *metricsFlags) start(e *env) (reg *prometheus.Registry, stop func(), err error) {
	reg = metrics.NewRegistry()
	if m.addr == "" {
		return reg, func() {}, nil
	}
	srv, err := metrics.Serve(m.addr, reg, e.log)
	if err != nil {
		return nil, nil, err
	}
	return reg, srv.Close, nil
}
