#!/usr/bin/env bash
# Runs .ci/run as on a fresh machine: a clone of this repository's HEAD in a
# new temporary directory, with HOME, GOPATH, GOMODCACHE and GOCACHE pointed at
# new empty directories, so that every Go module, tool (staticcheck) and Maven
# artifact (Kafka, Elasticsearch, the Maven plugins) is downloaded again. Then
# it prints how long that took and what was downloaded.
#
#   scripts/fresh-check.sh [--keep]      --keep: leave the temporary directory
#
# .ci/run gets a clean environment (env -i). Kept from this one: GOPROXY,
# GOFLAGS, GOTOOLCHAIN, GOSUMDB / GONOSUMDB / GOPRIVATE / GONOPROXY, proxy and
# CA-bundle variables, JAVA_HOME, MAVEN_OPTS (plus -Duser.home=<the new HOME>,
# so that Maven's ~/.m2 is the new one too), and the MWLEDGER_* service settings (ports,
# MWLEDGER_STATE_DIR, so that the run can stay clear of other services on this
# machine; not MWLEDGER_CACHE_DIR: the cache starts empty). PATH is reduced to
# the directories of go, java and mvn plus the system directories (no
# $GOPATH/bin); TMPDIR is inside the temporary directory. Debian's chromium is
# a system package: if it is installed it stays (scripts/install-chromium.sh
# installs it otherwise, as root or with sudo).
# FRESH_CHECK_DIR: where to make the temporary directory (default: $TMPDIR or /tmp).
set -euo pipefail

keep=0
case ${1:-} in
"") ;;
--keep) keep=1 ;;
*)
  echo "usage: $0 [--keep]" >&2
  exit 2
  ;;
esac

repo="$(cd "$(dirname "$0")/.." && pwd)"
for tool in go java mvn git; do
  command -v "$tool" >/dev/null || {
    echo "fresh-check: $tool not found on PATH" >&2
    exit 1
  }
done

root=$(mktemp -d "${FRESH_CHECK_DIR:-${TMPDIR:-/tmp}}/mwledger-fresh.XXXXXX")
cleanup() {
  if ((keep)); then
    echo "fresh-check: kept $root"
  else
    chmod -R u+w "$root" 2>/dev/null || true # the module cache is read-only
    rm -rf "$root"
  fi
}
trap cleanup EXIT
home="$root/home"
gopath="$root/gopath"
mkdir -p "$home" "$gopath" "$root/gocache" "$root/tmp"

# PATH: go, java and mvn from here, then the system directories.
path=""
for tool in go java mvn; do
  dir=$(dirname "$(command -v "$tool")")
  [[ ":$path:" == *":$dir:"* ]] || path="${path:+$path:}$dir"
done
for dir in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
  [[ ":$path:" == *":$dir:"* ]] || path="$path:$dir"
done

envs=(
  HOME="$home" PATH="$path" LANG="${LANG:-C.UTF-8}" TERM="${TERM:-dumb}" TMPDIR="$root/tmp"
  GOPATH="$gopath" GOMODCACHE="$gopath/pkg/mod" GOCACHE="$root/gocache"
  GOPROXY="$(go env GOPROXY)" GOFLAGS="$(go env GOFLAGS)" GOSUMDB="$(go env GOSUMDB)"
  # Java takes user.home from the password database, not from HOME: without
  # this, Maven would use the real ~/.m2.
  MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }-Duser.home=$home"
)
for name in GOTOOLCHAIN GONOSUMDB GOPRIVATE GONOPROXY GOINSECURE JAVA_HOME ES_JAVA_HOME \
  http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY \
  SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE DEBIAN_FRONTEND $(compgen -e | grep '^MWLEDGER_' | grep -v '^MWLEDGER_CACHE_DIR$' || true); do
  [[ -n ${!name:-} ]] && envs+=("$name=${!name}")
done

commit=$(git -C "$repo" rev-parse HEAD)
echo "fresh-check: cloning $repo at ${commit:0:12} into $root/repo"
git clone --quiet --no-hardlinks "$repo" "$root/repo"
chromium_before="not installed"
[[ -x /usr/bin/chromium ]] && chromium_before="already installed"

echo "fresh-check: running .ci/run with HOME=$home GOPATH=$gopath GOMODCACHE=$gopath/pkg/mod GOCACHE=$root/gocache"
echo "fresh-check: PATH=$path"
t0=$(date +%s)
rc=0
(cd "$root/repo" && env -i "${envs[@]}" .ci/run) || rc=$?
took=$(($(date +%s) - t0))

size() { if [[ -e $1 ]]; then du -sh "$1" 2>/dev/null | cut -f1; else echo "-"; fi; }
count() { if [[ -d $1 ]]; then find "$1" -type f | wc -l; else echo 0; fi; }
echo
echo "fresh-check: .ci/run exited $rc after ${took}s ($((took / 60))m$((took % 60))s) at ${commit:0:12}"
echo "fresh-check: downloaded / built:"
printf '  %-46s %8s  %s\n' \
  "Go module cache (GOMODCACHE)" "$(size "$gopath/pkg/mod")" \
  "$(find "$gopath/pkg/mod/cache/download" -name '*.zip' 2>/dev/null | wc -l) module zips" \
  "Go build cache (GOCACHE)" "$(size "$root/gocache")" "(built here, not downloaded)" \
  "~/.cache/mwledger/tools (staticcheck)" "$(size "$home/.cache/mwledger/tools")" "$(ls "$home/.cache/mwledger/tools" 2>/dev/null | tr '\n' ' ')" \
  "~/.m2 (Maven repository)" "$(size "$home/.m2")" "$(find "$home/.m2" -name '*.jar' -o -name '*.zip' 2>/dev/null | wc -l) jars/zips" \
  "~/.cache (all)" "$(size "$home/.cache")" "" \
  "~/.cache/mwledger (Kafka, Elasticsearch, tools)" "$(size "$home/.cache/mwledger")" "$(ls "$home/.cache/mwledger" 2>/dev/null | grep -v '^\.' | tr '\n' ' ')" \
  "GOPATH/bin" "$(size "$gopath/bin")" "$(count "$gopath/bin") file(s)"
echo "  chromium: $chromium_before before the run; $([[ -x /usr/bin/chromium ]] && /usr/bin/chromium --version 2>/dev/null | head -n1 || echo 'not installed')"
echo "  anything else in HOME: $(cd "$home" && find . -mindepth 1 -maxdepth 1 ! -name .m2 ! -name .cache -printf '%f ' 2>/dev/null)"
exit "$rc"
