#!/usr/bin/env bash
# Fuzzes every fuzz target of the module for FUZZTIME each (default 30s), one
# after another (each builds its own instrumented test binary). The seed
# corpora (f.Add and testdata/fuzz) already run as ordinary tests in
# `make test`; this is the bounded fuzzing, run by `make fuzz` and
# `make release-check`. New failing inputs land in <package>/testdata/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME="${FUZZTIME:-30s}"
start=$(date +%s)
n=0
while read -r pkg dir; do
  for target in $(cat "$dir"/*_test.go 2>/dev/null | sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p'); do
    echo "== $pkg $target ($FUZZTIME)"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"  </dev/null
    n=$((n + 1))
  done
done < <(go list -f '{{.ImportPath}} {{.Dir}}' ./...)
echo "== fuzz: $n target(s) in $(( $(date +%s) - start ))s"
