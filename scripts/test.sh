#!/usr/bin/env bash
# The whole test suite, as CI runs it: tools, lint, real services, every test.
# Services are started here and stopped on exit, whatever happens.
#
#   scripts/test.sh          `make test`: the long model and equivalence checks
#                            at their reduced size (go test -short)
#   scripts/test.sh --full   `make test-full`: everything at full size, before a
#                            release (`make release-check` = this, then `make fuzz`)
#
# Packages whose tests use the real Kafka (they call testkit.Kafka or
# testkit.ServicePID: they share, pause and restart the services) run one at
# a time; those whose tests use only Elasticsearch (ledger, ledger/es) run
# beside them, and the packages without services in parallel with -race,
# beside both. internal/integration pauses Elasticsearch for 6 s
# (-short; 30 s at full size) in its first tests, which the Elasticsearch-only tests
# ride out (their requests time out after 2 minutes). Inside a service package
# the parallel tests mostly wait (on consumer groups, timers, the services,
# their turn on a shared topic): -parallel 16 lets them all start rather than
# GOMAXPROCS of them at a time. Fuzz targets run
# their seed corpora as ordinary tests here; `make fuzz` fuzzes them.
set -euo pipefail
cd "$(dirname "$0")/.."

short=-short
case ${1:-} in
"") ;;
--full) short= ;;
*)
  echo "usage: $0 [--full]" >&2
  exit 2
  ;;
esac

export CI="${CI:-true}"   # integration tests fail (not skip) when a service is missing
export GOFLAGS="${GOFLAGS:-} -mod=readonly"

start=$(date +%s)
step() { echo "== $* (at $(($(date +%s) - start))s)"; }

# The services start in the background (a minute of JVM start-up, mostly
# waiting) while the tools install, lint and the tests that need no services run.
svc_log=$(mktemp "${TMPDIR:-/tmp}/mwledger-services.XXXXXX")
bash scripts/services.sh up >"$svc_log" 2>&1 &
svc_pid=$! svc_waited=0
stop_services() {
  if ((!svc_waited)); then # still starting: `up` stops what it started on SIGTERM
    kill -TERM "$svc_pid" 2>/dev/null || true
    wait "$svc_pid" 2>/dev/null || true
  fi
  bash scripts/services.sh down || true
  rm -f "$svc_log" "${unit_log:-}" "${lint_log:-}" "${es_log:-}"
}
trap stop_services EXIT
step "services starting in the background (pid $svc_pid)"

step "go modules and tools"
go mod download
make --no-print-directory tools

# A failing step does not stop the suite: every step runs, the failures are
# listed at the end and the exit status is 1.
failed=()

step "browser (Debian chromium, for the web page test)"
bash scripts/install-chromium.sh

# Service packages: those whose tests call internal/testkit's Kafka or
# ServicePID (they share, pause and restart the services) run one at a time;
# those that call only testkit.ES run beside them; the rest in parallel.
service_pkgs=() es_pkgs=() other_pkgs=()
while read -r pkg dir; do
  if grep -qs 'testkit\.\(Kafka\|ServicePID\)(' "$dir"/*_test.go; then
    service_pkgs+=("$pkg")
  elif grep -qs 'testkit\.ES(' "$dir"/*_test.go; then
    es_pkgs+=("$pkg")
  else
    other_pkgs+=("$pkg")
  fi
done < <(go list -f '{{.ImportPath}} {{.Dir}}' ./...)

# Lint computes while the services start (in the background: it need not
# finish before the tests start).
lint_log=$(mktemp "${TMPDIR:-/tmp}/mwledger-lint.XXXXXX")
step "lint (gofmt, go vet, staticcheck) in the background; its output follows the tests'"
make --no-print-directory lint >"$lint_log" 2>&1 &
lint_pid=$!

step "waiting for the services"
svc_rc=0
wait "$svc_pid" || svc_rc=$?
svc_waited=1
cat "$svc_log"

# The packages without services run in the background, in parallel, beside the
# service packages: those mostly wait (on timers, consumer groups,
# Elasticsearch), these mostly compute. They start once the services are up,
# so as not to slow the services' start (the JVMs compute then).
unit_log=$(mktemp "${TMPDIR:-/tmp}/mwledger-unit.XXXXXX")
step "tests without services, in parallel, in the background${short:+ ($short)}; their output follows the service tests'"
go test -race -count=1 $short -timeout 15m "${other_pkgs[@]}" >"$unit_log" 2>&1 &
unit_pid=$!
if ((svc_rc != 0)); then
  echo "services did not start (exit $svc_rc): the tests on them do not run" >&2
  failed+=(services)
else
  eval "$(bash scripts/services.sh env)"
  es_pid=
  if ((${#es_pkgs[@]})); then
    es_log=$(mktemp "${TMPDIR:-/tmp}/mwledger-es.XXXXXX")
    step "tests on Elasticsearch only, in the background${short:+ ($short)}: ${es_pkgs[*]#github.com/mwledger/mwledger/}"
    go test -race -count=1 $short -p 1 -parallel 16 -timeout 20m "${es_pkgs[@]}" >"$es_log" 2>&1 &
    es_pid=$!
  fi
  step "tests on the real Kafka and Elasticsearch, one package at a time${short:+ ($short)}: ${service_pkgs[*]#github.com/mwledger/mwledger/}"
  go test -race -count=1 $short -p 1 -parallel 16 -timeout 20m "${service_pkgs[@]}" || failed+=("tests on the services")
  if [[ -n $es_pid ]]; then
    step "tests on Elasticsearch only (started in the background)"
    es_rc=0
    wait "$es_pid" || es_rc=$?
    cat "$es_log"
    ((es_rc == 0)) || failed+=("tests on Elasticsearch only")
  fi
fi

step "lint (started in the background)"
lint_rc=0
wait "$lint_pid" || lint_rc=$?
cat "$lint_log"
((lint_rc == 0)) || failed+=(lint)

step "tests without services (started in the background)"
unit_rc=0
wait "$unit_pid" || unit_rc=$?
cat "$unit_log"
((unit_rc == 0)) || failed+=("tests without services")

if ((${#failed[@]})); then
  step "FAILED: $(printf '%s; ' "${failed[@]}")"
  exit 1
fi
step "done: every step passed"
