// Package metrics exposes what the long-running commands do in the Prometheus
// format, with prometheus/client_golang: one Registry per process (never the
// library's global default, so that tests running several stages in one
// process keep them apart), the Go runtime and process collectors, and the
// collectors of each stage: the stream runner's counters (stage.go), the
// Elasticsearch bulk latency (es.go), the alert dispatcher (alert.go) and the
// HTTP server of `serve` (http.go). Serve serves a registry on /metrics.
package metrics
