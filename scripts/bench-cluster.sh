#!/usr/bin/env bash
# The scale-out steps of the bench on the cluster (`make bench-cluster`): start
# three Kafka brokers and three Elasticsearch nodes (scripts/services.sh up
# --cluster; MWLEDGER_CLUSTER_* move their ports and state), run
# cmd/mwledger-bench's extractor and indexer scale-out (1 vs 2 instances; the
# topics it creates get 3 replicas, min.insync.replicas 2) against the three of
# each, print the load average before and after, and stop the cluster on exit,
# whatever happens. Arguments go to mwledger-bench (default: only the
# scale-out steps and the extraction per core).
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
step() { echo "== $* (at $(($(date +%s) - start))s; load average $(cut -d' ' -f1-3 /proc/loadavg))"; }

# A cluster someone else started is theirs: neither reused nor stopped.
status=$(bash scripts/services.sh status --cluster 2>/dev/null || true)
if grep -q ': *running' <<<"$status"; then
    echo "bench-cluster: a cluster runs already in ${MWLEDGER_CLUSTER_STATE_DIR:-.services-cluster}: stop it (scripts/services.sh down --cluster), or run the bench against it (eval \"\$(scripts/services.sh env --cluster)\"; make bench BENCH_ARGS='...')" >&2
    exit 1
fi
stop_cluster() { bash scripts/services.sh down --cluster || true; }
trap stop_cluster EXIT
step "cluster starting (3 Kafka brokers, 3 Elasticsearch nodes)"
bash scripts/services.sh up --cluster
eval "$(bash scripts/services.sh env --cluster)"
export MWLEDGER_KAFKA MWLEDGER_ES
((${#@})) || set -- -articles 0 -alert-deals 0 -scale-warmup -scale-runs 1,2,2,1
step "bench on Kafka $MWLEDGER_KAFKA, Elasticsearch $MWLEDGER_ES: $*"
go build -o bin/mwledger ./cmd/mwledger
go run ./cmd/mwledger-bench -bin bin/mwledger "$@"
step "done"
