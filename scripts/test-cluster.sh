#!/usr/bin/env bash
# The cluster fault tests (`make test-cluster`): start three Kafka brokers and
# three Elasticsearch nodes (scripts/services.sh up --cluster), run the tests
# named TestCluster* in internal/integration against them, and stop the
# cluster on exit, whatever happens. Each test kills or stops one node
# mid-stream and checks every deal is in the ledger exactly once; they run one
# at a time and each stops by itself (6 minutes at most).
set -euo pipefail
cd "$(dirname "$0")/.."

export CI="${CI:-true}"
export GOFLAGS="${GOFLAGS:-} -mod=readonly"
start=$(date +%s)
step() { echo "== $* (at $(($(date +%s) - start))s)"; }

stop_cluster() { bash scripts/services.sh down --cluster || true; }
trap stop_cluster EXIT
step "cluster starting (3 Kafka brokers, 3 Elasticsearch nodes)"
bash scripts/services.sh up --cluster
eval "$(bash scripts/services.sh env --cluster)"
step "cluster fault tests"
rc=0
go test -race -count=1 -p 1 -run '^TestCluster' -v -timeout 30m ./internal/integration || rc=$?
if ((rc != 0)); then
  step "FAILED"
  exit 1
fi
step "done"
