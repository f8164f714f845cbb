#!/usr/bin/env bash
# Real Apache Kafka (KRaft, single node) and Elasticsearch 8 on loopback, for
# tests and CI. No Docker: both are fetched from Maven Central with mvn (once,
# into a cache dir) and run as plain JVM processes in the background.
#
#   scripts/services.sh up       fetch (cached), start both, wait until ready
#   scripts/services.sh down     stop what `up` started
#   scripts/services.sh status   say what runs (exit 0 when both run, 3 if not)
#   scripts/services.sh env      print `export MWLEDGER_KAFKA=...` / `MWLEDGER_ES=...`
#   scripts/services.sh stop-kafka     stop only the broker (SIGTERM, wait for it to exit)
#   scripts/services.sh start-kafka    start only the broker again, with its data, and
#                                      wait until ready (nothing to do if it runs)
#   scripts/services.sh restart-kafka  stop-kafka, then start-kafka
#                                these three take the configuration `up` saved in
#                                the state dir (services.env), whatever the environment
#                                says: only MWLEDGER_STATE_DIR must match
#   scripts/services.sh CMD --cluster  three Kafka brokers and three Elasticsearch
#                                nodes instead (up, down, status, env, and the node
#                                commands for the fault tests): see scripts/cluster.sh
#   scripts/services.sh kafka-tool CLASS [ARGS...]
#                                run a Kafka tool class from the cached classpath,
#                                e.g. org.apache.kafka.tools.TopicCommand --list ...
#
# Configuration (environment):
#   MWLEDGER_KAFKA_PORT              Kafka listener                 (19092)
#   MWLEDGER_KAFKA_CONTROLLER_PORT   KRaft controller listener      (19093)
#   MWLEDGER_KAFKA_SASL_PORT         SASL_PLAINTEXT (SCRAM) listener  (Kafka port + 2)
#   MWLEDGER_KAFKA_SASL_SSL_PORT     SASL_SSL (SCRAM over TLS)       (Kafka port + 3)
#                                    test user mwledger / mwledger-secret (SCRAM-SHA-256 and -512);
#                                    the self-signed CA is .services/kafka/tls/ca.pem
#   MWLEDGER_ES_PORT                 Elasticsearch HTTP             (19200)
#   MWLEDGER_ES_TRANSPORT_PORT       Elasticsearch transport        (19300)
#   MWLEDGER_STATE_DIR    pids, logs, data, config   (<repo>/.services)
#   MWLEDGER_CACHE_DIR    Kafka classpath + unpacked Elasticsearch
#                         (${XDG_CACHE_HOME:-$HOME/.cache}/mwledger)
#   MWLEDGER_KEEP_DATA=1  keep Kafka/ES data across restarts (default: fresh)
#   MWLEDGER_SERVICES_TIMEOUT  seconds to wait for readiness        (120)
#   MWLEDGER_STOP_TIMEOUT      seconds between SIGTERM and SIGKILL  (20)
#   MWLEDGER_KAFKA_VERSION / MWLEDGER_ES_VERSION   override the versions below
#   MWLEDGER_KAFKA_HEAP (-Xms256m -Xmx512m), MWLEDGER_ES_HEAP (-Xms512m -Xmx1g)
#   MWLEDGER_ES_ROOT_MODE  when run as root: auto|userns|user     (auto)
#   MWLEDGER_ES_USER       unprivileged user for root mode `user` (nobody)
#   MWLEDGER_MVN           Maven command                          (mvn)
#   JAVA_HOME / ES_JAVA_HOME   Java 17+ to use (default: `java` on PATH)
#
# Elasticsearch refuses to run as root (no override exists in 8.x). As root the
# script runs it in a new user namespace where uid 0 is mapped to an ordinary
# uid (`unshare --user --map-user`): Elasticsearch sees a non-root uid, while
# files stay owned by, and accessible to, the invoking root user. If user
# namespaces are unavailable it falls back to `setpriv` as MWLEDGER_ES_USER,
# which then needs read access to the cache dir.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
STATE_DIR="${MWLEDGER_STATE_DIR:-$REPO_ROOT/.services}"

# The settings `up` saves in the state dir (one NAME=value a line, unquoted, not
# for sourcing), so that start-kafka restarts the broker exactly as it was.
SAVED_CONFIG="$STATE_DIR/services.env"
SAVED_NAMES=(MWLEDGER_KAFKA_VERSION MWLEDGER_KAFKA_PORT MWLEDGER_KAFKA_CONTROLLER_PORT
    MWLEDGER_KAFKA_SASL_PORT MWLEDGER_KAFKA_SASL_SSL_PORT MWLEDGER_ES_PORT MWLEDGER_ES_TRANSPORT_PORT
    MWLEDGER_CACHE_DIR MWLEDGER_KAFKA_HEAP MWLEDGER_SERVICES_TIMEOUT MWLEDGER_STOP_TIMEOUT JAVA_HOME)

# load_saved_config exports the saved settings (only the names above).
load_saved_config() {
    if [[ ! -f $SAVED_CONFIG ]]; then
        printf '%s\n' "services: error: $SAVED_CONFIG is missing: start the services with \`$0 up\` (same MWLEDGER_STATE_DIR) first" >&2
        exit 1
    fi
    local line name value known
    while IFS= read -r line || [[ -n $line ]]; do
        [[ $line == *=* ]] || continue
        name=${line%%=*} value=${line#*=}
        for known in "${SAVED_NAMES[@]}"; do
            if [[ $name == "$known" ]]; then
                export "$name=$value"
                break
            fi
        done
    done <"$SAVED_CONFIG"
}

case " $* " in
*" --cluster "*) ;; # the cluster mode keeps its own state (scripts/cluster.sh)
*)
    case ${1:-} in
    stop-kafka | start-kafka | restart-kafka) load_saved_config ;;
    esac
    ;;
esac

KAFKA_VERSION="${MWLEDGER_KAFKA_VERSION:-4.1.1}"
ES_VERSION="${MWLEDGER_ES_VERSION:-8.19.8}"

KAFKA_PORT="${MWLEDGER_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${MWLEDGER_KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_SASL_PORT="${MWLEDGER_KAFKA_SASL_PORT:-$((KAFKA_PORT + 2))}"
KAFKA_SASL_SSL_PORT="${MWLEDGER_KAFKA_SASL_SSL_PORT:-$((KAFKA_PORT + 3))}"
KAFKA_SCRAM_USER=mwledger
KAFKA_SCRAM_PASSWORD=mwledger-secret
ES_PORT="${MWLEDGER_ES_PORT:-19200}"
ES_TRANSPORT_PORT="${MWLEDGER_ES_TRANSPORT_PORT:-19300}"
CACHE_DIR="${MWLEDGER_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:?neither HOME nor MWLEDGER_CACHE_DIR is set}/.cache}/mwledger}"
KEEP_DATA="${MWLEDGER_KEEP_DATA:-0}"
TIMEOUT="${MWLEDGER_SERVICES_TIMEOUT:-120}"
STOP_TIMEOUT="${MWLEDGER_STOP_TIMEOUT:-20}"
KAFKA_HEAP="${MWLEDGER_KAFKA_HEAP:--Xms256m -Xmx512m}"
ES_HEAP="${MWLEDGER_ES_HEAP:--Xms512m -Xmx1g}"
ES_ROOT_MODE="${MWLEDGER_ES_ROOT_MODE:-auto}"
ES_USER="${MWLEDGER_ES_USER:-nobody}"
MVN="${MWLEDGER_MVN:-mvn}"

HOST=127.0.0.1
KAFKA_ADDR="$HOST:$KAFKA_PORT"
ES_URL="http://$HOST:$ES_PORT"

KAFKA_STATE="$STATE_DIR/kafka"
ES_STATE="$STATE_DIR/elasticsearch"
KAFKA_PIDFILE="$STATE_DIR/kafka.pid"
ES_PIDFILE="$STATE_DIR/elasticsearch.pid"          # the ES launcher JVM
ES_SERVER_PIDFILE="$ES_STATE/run/server.pid"        # the ES server JVM (written by ES)
KAFKA_LOG="$STATE_DIR/kafka.log"
ES_LOG="$STATE_DIR/elasticsearch.log"

KAFKA_DIR="$CACHE_DIR/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_DIR/libs"
ES_DIST_DIR="$CACHE_DIR/elasticsearch-$ES_VERSION"
ES_HOME="$ES_DIST_DIR/elasticsearch-$ES_VERSION"

# Strings that appear on the command line of the processes this script starts
# (in every exec stage, and only on those, as they name the state dir): a pid
# from a pid file is signalled only if its command line contains its mark.
KAFKA_MARK="$KAFKA_STATE/server.properties"
ES_MARK="$ES_STATE/"
ES_SERVER_MARK="-Djava.io.tmpdir=$ES_STATE/tmp"

# ---------------------------------------------------------------- helpers

log() { printf '%s\n' "services: $*" >&2; }
die() { printf '%s\n' "services: error: $*" >&2; exit 1; }

now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }
elapsed() { local ms=$(($(now_ms) - $1)); printf '%d.%01d' $((ms / 1000)) $((ms % 1000 / 100)); }

check_port_number() { # VALUE VARNAME
    if ! [[ $1 =~ ^[1-9][0-9]{0,4}$ ]] || (($1 > 65535)); then
        die "$2=$1 is not a port number"
    fi
}

port_in_use() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

port_holder() {
    command -v ss >/dev/null 2>&1 || return 0
    ss -Hltnp "sport = :$1" 2>/dev/null |
        sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/\1 (pid \2)/p' | head -n1
}

# pid_ours PID MARK: PID is alive and its command line contains MARK.
pid_ours() {
    local pid=$1 mark=$2 args
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    args=$(ps -ww -o args= -p "$pid" 2>/dev/null) || return 1
    [[ $args == *"$mark"* ]]
}

read_pid() { if [[ -f $1 ]]; then tr -dc '0-9' <"$1"; fi; }

# launch PIDFILE LOGFILE CMD...: start CMD detached (own session), stdin from
# /dev/null, output appended to LOGFILE; PIDFILE gets the pid of CMD itself.
launch() {
    local pidfile=$1 logfile=$2 i
    shift 2
    rm -f "$pidfile"
    local -a detach=()
    command -v setsid >/dev/null 2>&1 && detach=(setsid)
    # shellcheck disable=SC2016  # $$ and $@ are for the inner shell
    "${detach[@]}" bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 &
    for ((i = 0; i < 100; i++)); do
        [[ -s $pidfile ]] && return 0
        sleep 0.05
    done
    die "could not start $1 (no pid written)"
}

log_tail() { # NAME LOGFILE
    printf '%s\n' "---- last 40 lines of $2 ----" >&2
    tail -n 40 "$2" >&2 2>/dev/null || true
    printf '%s\n' "---- end of $1 log ----" >&2
}

find_java() {
    if [[ -n ${JAVA_HOME:-} && -x ${JAVA_HOME}/bin/java ]]; then
        JAVA="$JAVA_HOME/bin/java"
    elif command -v java >/dev/null 2>&1; then
        JAVA="$(command -v java)"
    else
        die "Java not found: install a JDK 17+ (Debian: apt-get install openjdk-17-jdk-headless) or set JAVA_HOME"
    fi
    local spec
    spec=$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
    [[ $spec =~ ^[0-9]+$ ]] || die "could not tell the version of $JAVA (java.specification.version='$spec')"
    ((spec >= 17)) || die "$JAVA is Java $spec; Kafka $KAFKA_VERSION and Elasticsearch $ES_VERSION need Java 17+ (set JAVA_HOME)"
    JAVA_HOME_FOR_ES="${ES_JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$JAVA")")")}"
    [[ -x $JAVA_HOME_FOR_ES/bin/java ]] || die "ES_JAVA_HOME=$JAVA_HOME_FOR_ES has no bin/java"
}

run_mvn() { # WHAT MVN-ARGS...
    local what=$1
    shift
    command -v "$MVN" >/dev/null 2>&1 || die "Maven ($MVN) not found, needed once to fetch $what (Debian: apt-get install maven)"
    local mvnlog="$STATE_DIR/mvn.log"
    if ! "$MVN" -B -ntp -Dstyle.color=never "$@" >"$mvnlog" 2>&1; then
        tail -n 40 "$mvnlog" >&2 || true
        die "Maven failed to fetch $what from Maven Central (full output: $mvnlog)"
    fi
}

with_cache_lock() { # CMD...: serialise fetches between concurrent `up`s
    mkdir -p "$CACHE_DIR"
    if command -v flock >/dev/null 2>&1; then
        (
            flock -w 900 9 || die "timed out waiting for the lock on $CACHE_DIR/.lock"
            "$@"
        ) 9>"$CACHE_DIR/.lock"
    else
        "$@"
    fi
}

pom_sum() { cksum <"$1" | cut -d' ' -f1; }

fetch_kafka() {
    local pom="$SCRIPT_DIR/kafka/pom.xml" sum
    sum="$KAFKA_VERSION $(pom_sum "$pom")"
    [[ -f $KAFKA_DIR/.complete && $(<"$KAFKA_DIR/.complete") == "$sum" ]] && return 0
    local t0 tmp="$KAFKA_DIR.tmp.$$"
    t0=$(now_ms)
    log "fetching Kafka $KAFKA_VERSION classpath with Maven into $KAFKA_DIR ..."
    rm -rf "$tmp"
    mkdir -p "$tmp"
    run_mvn "Kafka $KAFKA_VERSION" -f "$pom" -Dkafka.version="$KAFKA_VERSION" \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp/libs"
    ls "$tmp/libs"/kafka_2.13-*.jar >/dev/null 2>&1 || die "Maven ran but no kafka_2.13 jar landed in $tmp/libs"
    echo "$sum" >"$tmp/.complete"
    rm -rf "$KAFKA_DIR"
    mv "$tmp" "$KAFKA_DIR"
    log "Kafka classpath ready ($(elapsed "$t0") s)"
}

fetch_es() {
    local pom="$SCRIPT_DIR/elasticsearch/pom.xml" sum
    sum="$ES_VERSION $(pom_sum "$pom")"
    [[ -f $ES_DIST_DIR/.complete && $(<"$ES_DIST_DIR/.complete") == "$sum" ]] && return 0
    local t0 tmp="$ES_DIST_DIR.tmp.$$"
    t0=$(now_ms)
    log "fetching Elasticsearch $ES_VERSION with Maven into $ES_DIST_DIR ..."
    rm -rf "$tmp"
    mkdir -p "$tmp"
    run_mvn "Elasticsearch $ES_VERSION" -f "$pom" -Des.version="$ES_VERSION" \
        dependency:unpack-dependencies -DoutputDirectory="$tmp" -DmarkersDirectory="$tmp/.markers"
    rm -rf "$tmp/.markers"
    [[ -f $tmp/elasticsearch-$ES_VERSION/bin/elasticsearch ]] || die "Maven ran but $tmp/elasticsearch-$ES_VERSION/bin/elasticsearch is missing"
    chmod +x "$tmp/elasticsearch-$ES_VERSION"/bin/* # in case the unpacker dropped the mode bits
    echo "$sum" >"$tmp/.complete"
    rm -rf "$ES_DIST_DIR"
    mv "$tmp" "$ES_DIST_DIR"
    log "Elasticsearch distribution ready ($(elapsed "$t0") s)"
}

# ---------------------------------------------------------------- Kafka

write_kafka_config() {
    mkdir -p "$KAFKA_STATE"
    cat >"$KAFKA_STATE/server.properties" <<EOF
# written by scripts/services.sh; do not edit (rewritten on every start)
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT,SASL_PLAINTEXT://$HOST:$KAFKA_SASL_PORT,SASL_SSL://$HOST:$KAFKA_SASL_SSL_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT,SASL_PLAINTEXT://$HOST:$KAFKA_SASL_PORT,SASL_SSL://$HOST:$KAFKA_SASL_SSL_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
# Secured listeners for the client security tests: SCRAM users are created when
# the log dir is formatted; TLS uses a self-signed certificate for 127.0.0.1.
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$KAFKA_STATE/tls/broker.pem
message.max.bytes=20971520
log.dirs=$KAFKA_STATE/data
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
    cat >"$KAFKA_STATE/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
EOF
    cat >"$KAFKA_STATE/tools-log4j2.properties" <<'EOF'
status = error
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
EOF
}

kafka_java() { # run a class from the Kafka classpath with the quiet tools logging
    "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.net.preferIPv4Stack=true \
        -Dlog4j2.configurationFile="$KAFKA_STATE/tools-log4j2.properties" -cp "$KAFKA_LIBS/*" "$@"
}

# make_kafka_tls writes a self-signed certificate for 127.0.0.1 (kept across starts)
# and the PEM keystore Kafka reads: the unencrypted PKCS#8 key and the certificate.
make_kafka_tls() {
    local dir="$KAFKA_STATE/tls"
    [[ -f $dir/broker.pem && -f $dir/ca.pem ]] && return 0
    command -v openssl >/dev/null || die "openssl is needed to make the test certificate for Kafka's TLS listener (apt-get install openssl)"
    mkdir -p "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=127.0.0.1" \
        -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        -keyout "$dir/key.pem" -out "$dir/ca.pem" >/dev/null 2>&1 || die "openssl could not make the Kafka test certificate"
    openssl pkcs8 -topk8 -nocrypt -in "$dir/key.pem" -out "$dir/key.pk8.pem" || die "openssl could not convert the Kafka test key"
    cat "$dir/key.pk8.pem" "$dir/ca.pem" >"$dir/broker.pem"
}

start_kafka() {
    write_kafka_config
    make_kafka_tls
    [[ $KEEP_DATA == 1 ]] || rm -rf "$KAFKA_STATE/data"
    : >"$KAFKA_LOG"
    local cluster_id
    # a KRaft cluster id is 16 random bytes, base64url without padding
    cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    # (one id in 64 starts with "-", which the storage tool reads as an option)
    [[ $cluster_id == -* ]] && cluster_id="A${cluster_id:1}"
    if [[ -f $KAFKA_STATE/data/meta.properties ]]; then
        echo "reusing the formatted log dir $KAFKA_STATE/data (MWLEDGER_KEEP_DATA=1)" >>"$KAFKA_LOG"
    elif ! kafka_java kafka.tools.StorageTool format \
        --config "$KAFKA_STATE/server.properties" --cluster-id "$cluster_id" \
        --add-scram "SCRAM-SHA-256=[name=$KAFKA_SCRAM_USER,password=$KAFKA_SCRAM_PASSWORD]" \
        --add-scram "SCRAM-SHA-512=[name=$KAFKA_SCRAM_USER,password=$KAFKA_SCRAM_PASSWORD]" >>"$KAFKA_LOG" 2>&1; then
        log "formatting the Kafka log dir failed"
        log_tail kafka "$KAFKA_LOG"
        die "formatting the Kafka log dir $KAFKA_STATE/data failed"
    fi
    local -a heap
    read -r -a heap <<<"$KAFKA_HEAP"
    launch "$KAFKA_PIDFILE" "$KAFKA_LOG" "$JAVA" "${heap[@]}" \
        -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
        -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true \
        -Dlog4j2.configurationFile="$KAFKA_STATE/log4j2.properties" \
        -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_STATE/server.properties"
    STARTED_KAFKA=1
}

kafka_running() { pid_ours "$(read_pid "$KAFKA_PIDFILE")" "$KAFKA_MARK"; }

# ready: the listener accepts connections and a metadata request (list topics) works
kafka_ready() {
    port_in_use "$KAFKA_PORT" || return 1
    local -a to=()
    command -v timeout >/dev/null 2>&1 && to=(timeout 30)
    "${to[@]}" "$JAVA" -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Dlog4j2.configurationFile="$KAFKA_STATE/tools-log4j2.properties" -cp "$KAFKA_LIBS/*" \
        org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_ADDR" --list >/dev/null 2>&1
}

# ---------------------------------------------------------------- Elasticsearch

write_es_config() {
    mkdir -p "$ES_STATE"
    rm -rf "$ES_STATE/config" "$ES_STATE/tmp" "$ES_STATE/run"
    mkdir -p "$ES_STATE/config" "$ES_STATE/tmp" "$ES_STATE/run" "$ES_STATE/logs"
    cp -R "$ES_HOME/config/." "$ES_STATE/config/"
    cat >"$ES_STATE/config/elasticsearch.yml" <<EOF
# written by scripts/services.sh; do not edit (rewritten on every start)
cluster.name: mwledger-test
node.name: mwledger-es
discovery.type: single-node
network.host: $HOST
http.port: $ES_PORT
transport.port: $ES_TRANSPORT_PORT
path.data: $ES_STATE/data
path.logs: $ES_STATE/logs
xpack.security.enabled: false
cluster.routing.allocation.disk.threshold_enabled: false
# tests may delete indices by wildcard (mwledger-contracts-*)
action.destructive_requires_name: false
EOF
}

# Sets ES_PREFIX: the command that drops root for Elasticsearch (empty if not root).
es_privileges() {
    ES_PREFIX=()
    [[ $(id -u) == 0 ]] || return 0
    case $ES_ROOT_MODE in
    auto | userns)
        if command -v unshare >/dev/null 2>&1 &&
            unshare --user --map-user=1000 --map-group=1000 true 2>/dev/null; then
            ES_PREFIX=(unshare --user --map-user=1000 --map-group=1000)
            return 0
        fi
        [[ $ES_ROOT_MODE == userns ]] &&
            die "MWLEDGER_ES_ROOT_MODE=userns but 'unshare --user --map-user' does not work here"
        ;;
    user) ;;
    *) die "MWLEDGER_ES_ROOT_MODE must be auto, userns or user (got '$ES_ROOT_MODE')" ;;
    esac
    command -v setpriv >/dev/null 2>&1 || die "Elasticsearch cannot run as root, and neither user namespaces nor setpriv are available: run as a non-root user"
    id "$ES_USER" >/dev/null 2>&1 || die "MWLEDGER_ES_USER=$ES_USER does not exist"
    ES_PREFIX=(setpriv --reuid="$(id -u "$ES_USER")" --regid="$(id -g "$ES_USER")" --clear-groups)
    chown -R "$(id -u "$ES_USER"):$(id -g "$ES_USER")" "$ES_STATE"
    "${ES_PREFIX[@]}" test -x "$ES_HOME/bin/elasticsearch" -a -r "$ES_HOME/lib" -a -w "$ES_STATE/run" ||
        die "Elasticsearch must not run as root and user '$ES_USER' cannot read $ES_HOME or write $ES_STATE: set MWLEDGER_CACHE_DIR and MWLEDGER_STATE_DIR to directories that user can reach (e.g. under /var/tmp), or run as a non-root user"
}

start_es() {
    [[ $KEEP_DATA == 1 ]] || rm -rf "$ES_STATE/data" "$ES_STATE/logs"
    write_es_config
    : >"$ES_LOG"
    es_privileges
    local -a heap
    read -r -a heap <<<"$ES_HEAP"
    launch "$ES_PIDFILE" "$ES_LOG" env ES_JAVA_HOME="$JAVA_HOME_FOR_ES" \
        ES_PATH_CONF="$ES_STATE/config" ES_TMPDIR="$ES_STATE/tmp" \
        ES_JAVA_OPTS="${heap[*]} -Djava.net.preferIPv4Stack=true" \
        "${ES_PREFIX[@]}" "$ES_HOME/bin/elasticsearch" -p "$ES_SERVER_PIDFILE"
    STARTED_ES=1
}

es_running() {
    pid_ours "$(read_pid "$ES_PIDFILE")" "$ES_MARK" ||
        pid_ours "$(read_pid "$ES_SERVER_PIDFILE")" "$ES_SERVER_MARK"
}

es_ready() {
    curl -fsS -o /dev/null --max-time 5 "$ES_URL/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null
}

# ---------------------------------------------------------------- stop

# stop_pids NAME PID:MARK...: SIGTERM the ones that are ours, wait, then SIGKILL.
stop_pids() {
    local name=$1 entry pid mark i
    shift
    local -a ours=()
    for entry in "$@"; do
        pid=${entry%%:*} mark=${entry#*:}
        [[ -n $pid ]] || continue
        if pid_ours "$pid" "$mark"; then
            ours+=("$pid")
        elif kill -0 "$pid" 2>/dev/null; then
            log "$name: pid $pid is not a process this script started; leaving it alone"
        fi
    done
    ((${#ours[@]})) || return 1
    log "stopping $name (pid ${ours[*]})"
    kill -TERM "${ours[@]}" 2>/dev/null || true
    for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
        local alive=0
        for pid in "${ours[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || return 0
        sleep 0.1
    done
    log "$name did not stop within ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "${ours[@]}" 2>/dev/null || true
    sleep 0.5
}

stop_kafka() {
    stop_pids kafka "$(read_pid "$KAFKA_PIDFILE"):$KAFKA_MARK" || true
    rm -f "$KAFKA_PIDFILE"
}

stop_es() {
    # SIGTERM to the launcher makes it stop the server; the server pid is
    # included so that it goes too if the launcher is gone.
    stop_pids elasticsearch "$(read_pid "$ES_PIDFILE"):$ES_MARK" \
        "$(read_pid "$ES_SERVER_PIDFILE"):$ES_SERVER_MARK" || true
    rm -f "$ES_PIDFILE" "$ES_SERVER_PIDFILE"
}

# ---------------------------------------------------------------- commands

STARTED_KAFKA=0
STARTED_ES=0
UP_DONE=0

cleanup_failed_up() {
    local rc=$?
    ((UP_DONE)) && return 0
    if ((STARTED_KAFKA || STARTED_ES)); then
        log "up failed; stopping what this run started"
        ((STARTED_KAFKA)) && stop_kafka
        ((STARTED_ES)) && stop_es
    fi
    return "$rc"
}

check_ports_free() { # PORT VARNAME WHAT ...
    while (($#)); do
        local port=$1 var=$2 what=$3 holder
        shift 3
        if port_in_use "$port"; then
            holder=$(port_holder "$port")
            die "port $port ($what) on $HOST is already in use${holder:+ by $holder}; stop that process or pick another port with $var=<port>"
        fi
    done
}

# wait_ready KAFKA ES: wait until each service that is "new" (started by this
# run) or "running" (was running) is ready; "skip" leaves it out. A new one that
# exits, or either that is not ready within TIMEOUT, ends the script.
wait_ready() {
    local kmode=$1 emode=$2 kafka_pid es_pid kafka_ok=0 es_ok=0
    [[ $kmode == skip ]] && kafka_ok=1
    [[ $emode == skip ]] && es_ok=1
    kafka_pid=$(read_pid "$KAFKA_PIDFILE")
    es_pid=$(read_pid "$ES_PIDFILE")
    local deadline=$(($(date +%s) + TIMEOUT))
    while ((!kafka_ok || !es_ok)); do
        if ((!kafka_ok)); then
            if ! { [[ $kmode == new ]] && kill -0 "$kafka_pid" 2>/dev/null; } && ! kafka_running; then
                log "Kafka exited during startup"
                log_tail kafka "$KAFKA_LOG"
                die "Kafka exited during startup (log: $KAFKA_LOG)"
            fi
            if [[ $kmode != new ]] || grep -q 'Kafka Server started' "$KAFKA_LOG" 2>/dev/null; then
                kafka_ready && kafka_ok=1
            fi
        fi
        if ((!es_ok)); then
            if ! { [[ $emode == new ]] && kill -0 "$es_pid" 2>/dev/null; } && ! es_running; then
                log "Elasticsearch exited during startup"
                log_tail elasticsearch "$ES_LOG"
                die "Elasticsearch exited during startup (log: $ES_LOG)"
            fi
            es_ready && es_ok=1
        fi
        ((kafka_ok && es_ok)) && break
        if (($(date +%s) >= deadline)); then
            if ((!kafka_ok)); then
                log "Kafka did not become ready within ${TIMEOUT}s (MWLEDGER_SERVICES_TIMEOUT)"
                log_tail kafka "$KAFKA_LOG"
            fi
            if ((!es_ok)); then
                log "Elasticsearch did not become ready within ${TIMEOUT}s (MWLEDGER_SERVICES_TIMEOUT)"
                log_tail elasticsearch "$ES_LOG"
            fi
            die "services not ready within ${TIMEOUT}s"
        fi
        sleep 0.5
    done
}

# save_config records the settings start-kafka needs to start the broker again
# as `up` started it (see SAVED_NAMES).
save_config() {
    local tmp="$SAVED_CONFIG.tmp.$$"
    {
        echo "# written by scripts/services.sh up; read by start-kafka / restart-kafka"
        echo "MWLEDGER_KAFKA_VERSION=$KAFKA_VERSION"
        echo "MWLEDGER_KAFKA_PORT=$KAFKA_PORT"
        echo "MWLEDGER_KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT"
        echo "MWLEDGER_KAFKA_SASL_PORT=$KAFKA_SASL_PORT"
        echo "MWLEDGER_KAFKA_SASL_SSL_PORT=$KAFKA_SASL_SSL_PORT"
        echo "MWLEDGER_ES_PORT=$ES_PORT"
        echo "MWLEDGER_ES_TRANSPORT_PORT=$ES_TRANSPORT_PORT"
        echo "MWLEDGER_CACHE_DIR=$CACHE_DIR"
        echo "MWLEDGER_KAFKA_HEAP=$KAFKA_HEAP"
        echo "MWLEDGER_SERVICES_TIMEOUT=$TIMEOUT"
        echo "MWLEDGER_STOP_TIMEOUT=$STOP_TIMEOUT"
        echo "JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$JAVA")")")"
    } >"$tmp"
    mv "$tmp" "$SAVED_CONFIG"
}

cmd_up() {
    local t0
    t0=$(now_ms)
    mkdir -p "$STATE_DIR"
    find_java
    command -v curl >/dev/null 2>&1 || die "curl not found (needed to check Elasticsearch)"

    local need_kafka=1 need_es=1
    kafka_running && need_kafka=0
    es_running && need_es=0
    # a pid file whose process is gone (or not ours) is stale
    ((need_kafka)) && rm -f "$KAFKA_PIDFILE"
    ((need_es)) && rm -f "$ES_PIDFILE" "$ES_SERVER_PIDFILE"

    if ((need_kafka == 0 && need_es == 0)) && kafka_ready && es_ready; then
        [[ -f $SAVED_CONFIG ]] || save_config
        log "already running: Kafka $KAFKA_ADDR (pid $(read_pid "$KAFKA_PIDFILE")), Elasticsearch $ES_URL (pid $(read_pid "$ES_PIDFILE"))"
        return 0
    fi

    local -a ports=()
    ((need_kafka)) && ports+=("$KAFKA_PORT" MWLEDGER_KAFKA_PORT "Kafka listener"
        "$KAFKA_CONTROLLER_PORT" MWLEDGER_KAFKA_CONTROLLER_PORT "Kafka controller"
        "$KAFKA_SASL_PORT" MWLEDGER_KAFKA_SASL_PORT "Kafka SASL listener"
        "$KAFKA_SASL_SSL_PORT" MWLEDGER_KAFKA_SASL_SSL_PORT "Kafka SASL_SSL listener")
    ((need_es)) && ports+=("$ES_PORT" MWLEDGER_ES_PORT "Elasticsearch HTTP"
        "$ES_TRANSPORT_PORT" MWLEDGER_ES_TRANSPORT_PORT "Elasticsearch transport")
    ((${#ports[@]})) && check_ports_free "${ports[@]}"

    with_cache_lock fetch_kafka # Kafka's classpath also serves the readiness check
    ((need_es)) && with_cache_lock fetch_es

    trap cleanup_failed_up EXIT
    trap 'exit 130' INT TERM
    ((need_kafka)) && start_kafka
    ((need_es)) && start_es

    wait_ready "$( ((need_kafka)) && echo new || echo running)" "$( ((need_es)) && echo new || echo running)"
    UP_DONE=1
    trap - EXIT INT TERM
    if ((need_kafka)) || [[ ! -f $SAVED_CONFIG ]]; then
        save_config
    fi

    local rel="$STATE_DIR"
    [[ $rel == "$PWD"/* ]] && rel=${rel#"$PWD"/}
    echo "services up in $(elapsed "$t0") s (state: $rel)"
    echo "  Kafka $KAFKA_VERSION          $KAFKA_ADDR   pid $(read_pid "$KAFKA_PIDFILE")$( ((need_kafka)) || echo ' (was running)')   log $rel/kafka.log"
    echo "  Elasticsearch $ES_VERSION  $ES_URL   pid $(read_pid "$ES_PIDFILE")$( ((need_es)) || echo ' (was running)')   log $rel/elasticsearch.log"
    echo "  eval \"\$(scripts/services.sh env)\"   # sets MWLEDGER_KAFKA and MWLEDGER_ES"
}

cmd_down() {
    stop_kafka
    stop_es
    log "stopped (state dir $STATE_DIR kept)"
}

cmd_stop_kafka() {
    local t0 pid
    t0=$(now_ms)
    pid=$(read_pid "$KAFKA_PIDFILE")
    if ! kafka_running; then
        rm -f "$KAFKA_PIDFILE"
        log "Kafka is not running"
        return 0
    fi
    stop_kafka
    kill -0 "$pid" 2>/dev/null && die "Kafka (pid $pid) is still running"
    log "Kafka stopped in $(elapsed "$t0") s (data kept in $KAFKA_STATE/data)"
}

# cmd_start_kafka starts the broker on the data it had (a restart, not a fresh
# cluster), with the configuration `up` saved, and waits until it is ready.
cmd_start_kafka() {
    local t0
    t0=$(now_ms)
    mkdir -p "$STATE_DIR"
    find_java
    if kafka_running; then
        wait_ready running skip
        log "Kafka already running (pid $(read_pid "$KAFKA_PIDFILE"))"
        return 0
    fi
    rm -f "$KAFKA_PIDFILE"
    [[ -f $KAFKA_STATE/data/meta.properties ]] ||
        log "no formatted log dir in $KAFKA_STATE/data: starting an empty broker"
    check_ports_free "$KAFKA_PORT" MWLEDGER_KAFKA_PORT "Kafka listener" \
        "$KAFKA_CONTROLLER_PORT" MWLEDGER_KAFKA_CONTROLLER_PORT "Kafka controller" \
        "$KAFKA_SASL_PORT" MWLEDGER_KAFKA_SASL_PORT "Kafka SASL listener" \
        "$KAFKA_SASL_SSL_PORT" MWLEDGER_KAFKA_SASL_SSL_PORT "Kafka SASL_SSL listener"
    [[ -f $KAFKA_DIR/.complete ]] || with_cache_lock fetch_kafka
    [[ -f $KAFKA_LOG ]] && mv -f "$KAFKA_LOG" "$KAFKA_LOG.prev"
    trap cleanup_failed_up EXIT
    trap 'exit 130' INT TERM
    KEEP_DATA=1 # a restart: the broker keeps its topics, offsets and cluster id
    start_kafka
    wait_ready new skip
    UP_DONE=1
    trap - EXIT INT TERM
    log "Kafka started in $(elapsed "$t0") s on $KAFKA_ADDR (pid $(read_pid "$KAFKA_PIDFILE"), log $KAFKA_LOG)"
}

cmd_status() {
    local rc=0
    if kafka_running; then
        local k="not answering on $KAFKA_ADDR"
        port_in_use "$KAFKA_PORT" && k="listening on $KAFKA_ADDR"
        echo "kafka:         running, pid $(read_pid "$KAFKA_PIDFILE"), $k"
    else
        echo "kafka:         not running"
        rc=3
    fi
    if es_running; then
        local health
        health=$(curl -fsS --max-time 5 "$ES_URL/_cluster/health" 2>/dev/null |
            sed -n 's/.*"status":"\([a-z]*\)".*/\1/p') || true
        if [[ -n $health ]]; then
            echo "elasticsearch: running, pid $(read_pid "$ES_PIDFILE"), health $health on $ES_URL"
        else
            echo "elasticsearch: running, pid $(read_pid "$ES_PIDFILE"), not answering on $ES_URL"
        fi
    else
        echo "elasticsearch: not running"
        rc=3
    fi
    return "$rc"
}

cmd_env() {
    echo "export MWLEDGER_KAFKA=$KAFKA_ADDR"
    echo "export MWLEDGER_ES=$ES_URL"
    # The secured listeners, for the client security tests.
    echo "export MWLEDGER_TEST_KAFKA_SASL=$HOST:$KAFKA_SASL_PORT"
    echo "export MWLEDGER_TEST_KAFKA_SASL_SSL=$HOST:$KAFKA_SASL_SSL_PORT"
    echo "export MWLEDGER_TEST_KAFKA_CA=$KAFKA_STATE/tls/ca.pem"
    echo "export MWLEDGER_TEST_KAFKA_USER=$KAFKA_SCRAM_USER"
    echo "export MWLEDGER_TEST_KAFKA_PASSWORD=$KAFKA_SCRAM_PASSWORD"
    # The processes, for the fault tests that pause them (SIGSTOP / SIGCONT).
    echo "export MWLEDGER_TEST_ES_PID_FILE=$ES_SERVER_PIDFILE"
    echo "export MWLEDGER_TEST_KAFKA_PID_FILE=$KAFKA_PIDFILE"
    # This script and its state dir, for the fault tests that restart the broker:
    # MWLEDGER_STATE_DIR=<dir> bash <script> stop-kafka | start-kafka
    echo "export MWLEDGER_TEST_SERVICES_SH=$SCRIPT_DIR/services.sh"
    echo "export MWLEDGER_TEST_SERVICES_STATE_DIR=$STATE_DIR"
}

cmd_kafka_tool() {
    (($#)) || die "usage: $0 kafka-tool CLASS [ARGS...] (e.g. org.apache.kafka.tools.TopicCommand --bootstrap-server $KAFKA_ADDR --list)"
    find_java
    mkdir -p "$STATE_DIR"
    [[ -f $KAFKA_DIR/.complete ]] || with_cache_lock fetch_kafka
    [[ -f $KAFKA_STATE/tools-log4j2.properties ]] || write_kafka_config
    kafka_java "$@"
}

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
    exit 2
}

main() {
    local a cluster=0
    local -a rest=()
    for a in "$@"; do
        if [[ $a == --cluster ]]; then cluster=1; else rest+=("$a"); fi
    done
    if ((cluster)); then
        # shellcheck source=cluster.sh
        source "$SCRIPT_DIR/cluster.sh"
        cluster_main "${rest[@]}"
        return
    fi
    check_port_number "$KAFKA_PORT" MWLEDGER_KAFKA_PORT
    check_port_number "$KAFKA_CONTROLLER_PORT" MWLEDGER_KAFKA_CONTROLLER_PORT
    check_port_number "$KAFKA_SASL_PORT" MWLEDGER_KAFKA_SASL_PORT
    check_port_number "$KAFKA_SASL_SSL_PORT" MWLEDGER_KAFKA_SASL_SSL_PORT
    check_port_number "$ES_PORT" MWLEDGER_ES_PORT
    check_port_number "$ES_TRANSPORT_PORT" MWLEDGER_ES_TRANSPORT_PORT
    local -A seen=()
    local p
    for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_SASL_PORT" "$KAFKA_SASL_SSL_PORT" "$ES_PORT" "$ES_TRANSPORT_PORT"; do
        [[ -z ${seen[$p]:-} ]] || die "port $p is configured twice: MWLEDGER_KAFKA_PORT=$KAFKA_PORT MWLEDGER_KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT MWLEDGER_ES_PORT=$ES_PORT MWLEDGER_ES_TRANSPORT_PORT=$ES_TRANSPORT_PORT must all differ"
        seen[$p]=1
    done
    [[ $TIMEOUT =~ ^[0-9]+$ ]] || die "MWLEDGER_SERVICES_TIMEOUT=$TIMEOUT is not a number of seconds"
    [[ $STOP_TIMEOUT =~ ^[0-9]+$ ]] || die "MWLEDGER_STOP_TIMEOUT=$STOP_TIMEOUT is not a number of seconds"
    local cmd=${1:-}
    (($#)) && shift
    case $cmd in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    kafka-tool) cmd_kafka_tool "$@" ;;
    stop-kafka) cmd_stop_kafka ;;
    start-kafka) cmd_start_kafka ;;
    restart-kafka)
        cmd_stop_kafka
        cmd_start_kafka
        ;;
    -h | --help | help) usage ;;
    *) usage ;;
    esac
}

main "$@"
