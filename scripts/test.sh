#!/usr/bin/env bash
# The whole test suite, as CI runs it: tools, lint, real services, every test.
# Services are started here and stopped on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

export CI="${CI:-true}"   # integration tests fail (not skip) when a service is missing
export GOFLAGS="${GOFLAGS:-} -mod=readonly"

start=$(date +%s)
echo "== go modules and tools"
go mod download
make --no-print-directory tools

echo "== lint"
make --no-print-directory lint

echo "== browser (Debian chromium, for the web page test)"
bash scripts/install-chromium.sh

echo "== services"
trap 'bash scripts/services.sh down || true' EXIT
bash scripts/services.sh up
eval "$(bash scripts/services.sh env)"

echo "== tests"
# Integration tests share one broker and index: run packages one at a time.
go test -race -p 1 -count=1 -timeout 20m ./...

# Fuzz targets run briefly on top of their checked-in corpora.
for target in FuzzParseMoney FuzzParseCapacity FuzzParseTerms FuzzParseDates FuzzReadHTML; do
  go test -run '^$' -fuzz "^${target}\$" -fuzztime 5s ./extractor/
done

echo "== done in $(( $(date +%s) - start ))s"
