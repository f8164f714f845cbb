# shellcheck shell=bash
# The cluster mode of scripts/services.sh (sourced by it; not run alone):
# three Kafka brokers in KRaft mode (each broker and controller, one quorum)
# and three Elasticsearch nodes forming one cluster, all on loopback, from the
# same Maven Central artifacts as the single-node mode.
#
#   scripts/services.sh up --cluster       fetch (cached), start the six JVMs, wait
#                                          until the quorum, the brokers and a green
#                                          cluster answer
#   scripts/services.sh down --cluster     stop them
#   scripts/services.sh status --cluster   say what runs
#   scripts/services.sh env --cluster      MWLEDGER_KAFKA=<3 brokers>, MWLEDGER_ES=<3 URLs>
#   scripts/services.sh kill-kafka N --cluster    SIGKILL broker N (1-3)
#   scripts/services.sh stop-kafka N --cluster    SIGTERM broker N, wait for it to exit
#   scripts/services.sh start-kafka N --cluster   start broker N again on its data, wait until ready
#   scripts/services.sh kill-es N --cluster       SIGKILL Elasticsearch node N
#   scripts/services.sh stop-es N --cluster       SIGTERM node N, wait for it to exit
#   scripts/services.sh start-es N --cluster      start node N again on its data, wait until it joined
#   scripts/services.sh es-master --cluster       print the number of the elected master node
#
# Topics get replication factor 3 and min.insync.replicas=2 (the brokers'
# defaults; stream/kafka.EnsureTopics asks for min(3, brokers) replicas);
# indices one replica (the index template's auto_expand_replicas 0-1).
#
# Configuration (environment):
#   MWLEDGER_CLUSTER_STATE_DIR            pids, logs, data    (<repo>/.services-cluster)
#   MWLEDGER_CLUSTER_KAFKA_PORT           broker 1's listener; brokers 2 and 3 take the next ports (18092)
#   MWLEDGER_CLUSTER_KAFKA_CONTROLLER_PORT  controller 1; then +1, +2                                    (18192)
#   MWLEDGER_CLUSTER_ES_PORT              node 1's HTTP port; then +1, +2                                (18200)
#   MWLEDGER_CLUSTER_ES_TRANSPORT_PORT    node 1's transport port; then +1, +2                           (18300)
#   MWLEDGER_CLUSTER_KAFKA_HEAP  per broker  (-Xms192m -Xmx384m)
#   MWLEDGER_CLUSTER_ES_HEAP     per node    (-Xms512m -Xmx512m)
#   MWLEDGER_SERVICES_TIMEOUT    seconds to wait for readiness (300 here)
# Six JVMs: 3 × 384 MB + 3 × 512 MB of heap, about 3.5 GB resident in all on
# this 2-core, 24 GB machine. The cache dir, versions, Java and timeouts are the
# single-node mode's (MWLEDGER_CACHE_DIR, MWLEDGER_KAFKA_VERSION, ...).

C_STATE="${MWLEDGER_CLUSTER_STATE_DIR:-$REPO_ROOT/.services-cluster}"
C_KAFKA_PORT="${MWLEDGER_CLUSTER_KAFKA_PORT:-18092}"
C_KAFKA_CTRL_PORT="${MWLEDGER_CLUSTER_KAFKA_CONTROLLER_PORT:-18192}"
C_ES_PORT="${MWLEDGER_CLUSTER_ES_PORT:-18200}"
C_ES_TRANSPORT_PORT="${MWLEDGER_CLUSTER_ES_TRANSPORT_PORT:-18300}"
C_KAFKA_HEAP="${MWLEDGER_CLUSTER_KAFKA_HEAP:--Xms192m -Xmx384m}"
C_ES_HEAP="${MWLEDGER_CLUSTER_ES_HEAP:--Xms512m -Xmx512m}"
C_NODES=(1 2 3)
# Six JVMs start on two cores: more time than one broker and one node.
TIMEOUT="${MWLEDGER_SERVICES_TIMEOUT:-300}"

c_kafka_port() { echo $((C_KAFKA_PORT + $1 - 1)); }
c_ctrl_port() { echo $((C_KAFKA_CTRL_PORT + $1 - 1)); }
c_es_port() { echo $((C_ES_PORT + $1 - 1)); }
c_es_tport() { echo $((C_ES_TRANSPORT_PORT + $1 - 1)); }
c_kdir() { echo "$C_STATE/kafka-$1"; }
c_edir() { echo "$C_STATE/es-$1"; }
c_kpid() { echo "$C_STATE/kafka-$1.pid"; }
c_epid() { echo "$C_STATE/es-$1.pid"; }
c_espid() { echo "$(c_edir "$1")/run/server.pid"; }
c_klog() { echo "$C_STATE/kafka-$1.log"; }
c_elog() { echo "$C_STATE/es-$1.log"; }
c_kmark() { echo "$(c_kdir "$1")/server.properties"; }
c_emark() { echo "$(c_edir "$1")/"; }
c_esmark() { echo "-Djava.io.tmpdir=$(c_edir "$1")/tmp"; }

c_brokers() {
    local n out=()
    for n in "${C_NODES[@]}"; do out+=("$HOST:$(c_kafka_port "$n")"); done
    (IFS=,; echo "${out[*]}")
}
c_es_urls() {
    local n out=()
    for n in "${C_NODES[@]}"; do out+=("http://$HOST:$(c_es_port "$n")"); done
    (IFS=,; echo "${out[*]}")
}

c_node_arg() { # N: 1..3
    [[ ${1:-} =~ ^[123]$ ]] || die "give the node number, 1, 2 or 3 (got '${1:-}')"
}

c_write_kafka_config() { # N
    local n=$1 dir voters="" m
    dir=$(c_kdir "$n")
    mkdir -p "$dir"
    for m in "${C_NODES[@]}"; do voters+="${voters:+,}$m@$HOST:$(c_ctrl_port "$m")"; done
    cat >"$dir/server.properties" <<EOF
# written by scripts/services.sh up --cluster; rewritten on every start
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://$HOST:$(c_kafka_port "$n"),CONTROLLER://$HOST:$(c_ctrl_port "$n")
advertised.listeners=PLAINTEXT://$HOST:$(c_kafka_port "$n")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
message.max.bytes=20971520
replica.fetch.max.bytes=20971520
log.dirs=$dir/data
num.partitions=6
default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
auto.create.topics.enable=true
offsets.topic.replication.factor=3
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
transaction.state.log.num.partitions=5
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
# a killed broker's partitions move within seconds
broker.session.timeout.ms=6000
broker.heartbeat.interval.ms=1000
EOF
    cp "$KAFKA_STATE/log4j2.properties" "$dir/log4j2.properties" 2>/dev/null || true
}

c_start_kafka() { # N [keep]
    local n=$1 keep=${2:-0} dir log
    dir=$(c_kdir "$n") log=$(c_klog "$n")
    c_write_kafka_config "$n"
    ((keep)) || rm -rf "$dir/data"
    [[ -f $log ]] && mv -f "$log" "$log.prev"
    : >"$log"
    if [[ ! -f $dir/data/meta.properties ]]; then
        kafka_java kafka.tools.StorageTool format --config "$dir/server.properties" --cluster-id "$C_CLUSTER_ID" >>"$log" 2>&1 ||
            { log_tail "kafka-$n" "$log"; die "formatting broker $n's log dir failed"; }
    fi
    local -a heap
    read -r -a heap <<<"$C_KAFKA_HEAP"
    launch "$(c_kpid "$n")" "$log" "$JAVA" "${heap[@]}" \
        -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
        -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true \
        -Dlog4j2.configurationFile="$dir/log4j2.properties" \
        -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties"
}

c_kafka_running() { pid_ours "$(read_pid "$(c_kpid "$1")")" "$(c_kmark "$1")"; }

c_write_es_config() { # N
    local n=$1 dir seeds="" m
    dir=$(c_edir "$n")
    mkdir -p "$dir"
    rm -rf "$dir/config" "$dir/tmp" "$dir/run"
    mkdir -p "$dir/config" "$dir/tmp" "$dir/run" "$dir/logs"
    cp -R "$ES_HOME/config/." "$dir/config/"
    for m in "${C_NODES[@]}"; do seeds+="${seeds:+, }\"$HOST:$(c_es_tport "$m")\""; done
    cat >"$dir/config/elasticsearch.yml" <<EOF
# written by scripts/services.sh up --cluster; rewritten on every start
cluster.name: mwledger-cluster
node.name: es-$n
node.roles: [master, data, ingest]
network.host: $HOST
http.port: $(c_es_port "$n")
transport.port: $(c_es_tport "$n")
discovery.seed_hosts: [$seeds]
cluster.initial_master_nodes: [es-1, es-2, es-3]
path.data: $dir/data
path.logs: $dir/logs
xpack.security.enabled: false
xpack.ml.enabled: false
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
EOF
}

c_start_es() { # N [keep]
    local n=$1 keep=${2:-0} dir log
    dir=$(c_edir "$n") log=$(c_elog "$n")
    ((keep)) || rm -rf "$dir/data" "$dir/logs"
    c_write_es_config "$n"
    [[ -f $log ]] && mv -f "$log" "$log.prev"
    : >"$log"
    ES_STATE=$dir es_privileges
    local -a heap
    read -r -a heap <<<"$C_ES_HEAP"
    launch "$(c_epid "$n")" "$log" env ES_JAVA_HOME="$JAVA_HOME_FOR_ES" \
        ES_PATH_CONF="$dir/config" ES_TMPDIR="$dir/tmp" \
        ES_JAVA_OPTS="${heap[*]} -Djava.net.preferIPv4Stack=true" \
        "${ES_PREFIX[@]}" "$ES_HOME/bin/elasticsearch" -p "$(c_espid "$n")"
}

c_es_running() {
    pid_ours "$(read_pid "$(c_epid "$1")")" "$(c_emark "$1")" ||
        pid_ours "$(read_pid "$(c_espid "$1")")" "$(c_esmark "$1")"
}

c_kafka_ready() { # N: the broker answers a metadata request that lists all three brokers
    port_in_use "$(c_kafka_port "$1")" || return 1
    local out
    out=$(timeout 30 "$JAVA" -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Dlog4j2.configurationFile="$KAFKA_STATE/tools-log4j2.properties" -cp "$KAFKA_LIBS/*" \
        org.apache.kafka.tools.BrokerApiVersionsCommand --bootstrap-server "$HOST:$(c_kafka_port "$1")" 2>/dev/null) || return 1
    (($(grep -c '(id: [0-9]' <<<"$out") >= ${2:-3}))
}

c_es_ready() { # N: the node answers, the cluster has 3 nodes and is at least yellow
    curl -fsS --max-time 5 "http://$HOST:$(c_es_port "$1")/_cluster/health?wait_for_nodes=3&wait_for_status=${2:-yellow}&timeout=2s" -o /dev/null 2>/dev/null
}

c_wait() { # WHAT CMD...: until CMD succeeds or TIMEOUT
    local what=$1 deadline=$(($(date +%s) + TIMEOUT))
    shift
    until "$@"; do
        (($(date +%s) < deadline)) || die "$what not ready within ${TIMEOUT}s (logs in $C_STATE)"
        sleep 0.5
    done
}

c_stop_kafka() { # N
    stop_pids "kafka-$1" "$(read_pid "$(c_kpid "$1")"):$(c_kmark "$1")" || true
    rm -f "$(c_kpid "$1")"
}

c_stop_es() { # N
    stop_pids "es-$1" "$(read_pid "$(c_epid "$1")"):$(c_emark "$1")" "$(read_pid "$(c_espid "$1")"):$(c_esmark "$1")" || true
    rm -f "$(c_epid "$1")" "$(c_espid "$1")"
}

c_kill() { # NAME PID:MARK...: SIGKILL the ones that are ours
    local name=$1 entry pid mark
    shift
    for entry in "$@"; do
        pid=${entry%%:*} mark=${entry#*:}
        if pid_ours "$pid" "$mark"; then
            kill -KILL "$pid"
            log "$name: SIGKILL sent to pid $pid"
        fi
    done
}

cluster_up() {
    local t0 n
    t0=$(now_ms)
    mkdir -p "$C_STATE"
    find_java
    command -v curl >/dev/null 2>&1 || die "curl not found"
    for n in "${C_NODES[@]}"; do
        if c_kafka_running "$n" || c_es_running "$n"; then
            die "the cluster in $C_STATE runs already (or part of it): scripts/services.sh down --cluster first"
        fi
    done
    local -a ports=()
    for n in "${C_NODES[@]}"; do
        ports+=("$(c_kafka_port "$n")" MWLEDGER_CLUSTER_KAFKA_PORT "broker $n" "$(c_ctrl_port "$n")" MWLEDGER_CLUSTER_KAFKA_CONTROLLER_PORT "controller $n"
            "$(c_es_port "$n")" MWLEDGER_CLUSTER_ES_PORT "Elasticsearch node $n HTTP" "$(c_es_tport "$n")" MWLEDGER_CLUSTER_ES_TRANSPORT_PORT "Elasticsearch node $n transport")
    done
    check_ports_free "${ports[@]}"
    with_cache_lock fetch_kafka
    with_cache_lock fetch_es
    KAFKA_STATE=$C_STATE/kafka-tools
    write_kafka_config # the log4j files the brokers and the tools use
    C_CLUSTER_ID=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    # (one id in 64 starts with "-", which the storage tool reads as an option)
    [[ $C_CLUSTER_ID == -* ]] && C_CLUSTER_ID="A${C_CLUSTER_ID:1}"
    echo "$C_CLUSTER_ID" >"$C_STATE/cluster-id"
    trap 'cluster_down; exit 1' ERR
    trap 'cluster_down; exit 130' INT TERM
    for n in "${C_NODES[@]}"; do c_start_kafka "$n"; done
    for n in "${C_NODES[@]}"; do c_start_es "$n"; done
    for n in "${C_NODES[@]}"; do c_wait "Kafka broker $n" c_kafka_ready "$n"; done
    c_wait "the Elasticsearch cluster (3 nodes, green)" c_es_ready 1 green
    trap - ERR INT TERM
    echo "cluster up in $(elapsed "$t0") s (state: $C_STATE)"
    for n in "${C_NODES[@]}"; do
        echo "  Kafka broker $n   $HOST:$(c_kafka_port "$n")   pid $(read_pid "$(c_kpid "$n")")   log $(c_klog "$n")"
    done
    for n in "${C_NODES[@]}"; do
        echo "  Elasticsearch es-$n   http://$HOST:$(c_es_port "$n")   pid $(read_pid "$(c_epid "$n")")   log $(c_elog "$n")"
    done
    echo "  eval \"\$(scripts/services.sh env --cluster)\"   # sets MWLEDGER_KAFKA and MWLEDGER_ES to the three of each"
}

cluster_down() {
    local n
    for n in "${C_NODES[@]}"; do c_stop_kafka "$n"; done
    for n in "${C_NODES[@]}"; do c_stop_es "$n"; done
    log "cluster stopped (state dir $C_STATE kept)"
}

cluster_status() {
    local n rc=0
    for n in "${C_NODES[@]}"; do
        if c_kafka_running "$n"; then echo "kafka-$n: running, pid $(read_pid "$(c_kpid "$n")"), $HOST:$(c_kafka_port "$n")"; else echo "kafka-$n: not running"; rc=3; fi
    done
    for n in "${C_NODES[@]}"; do
        if c_es_running "$n"; then echo "es-$n:    running, pid $(read_pid "$(c_epid "$n")"), http://$HOST:$(c_es_port "$n")"; else echo "es-$n:    not running"; rc=3; fi
    done
    return "$rc"
}

cluster_env() {
    echo "export MWLEDGER_KAFKA=$(c_brokers)"
    echo "export MWLEDGER_ES=$(c_es_urls)"
    # For the cluster fault tests (internal/integration/cluster_test.go), which
    # run beside the single-node tests: their own names.
    echo "export MWLEDGER_TEST_CLUSTER_KAFKA=$(c_brokers)"
    echo "export MWLEDGER_TEST_CLUSTER_ES=$(c_es_urls)"
    echo "export MWLEDGER_TEST_CLUSTER_SH=$SCRIPT_DIR/services.sh"
    echo "export MWLEDGER_TEST_CLUSTER_STATE_DIR=$C_STATE"
}

cluster_es_master() {
    local n id
    for n in "${C_NODES[@]}"; do
        id=$(curl -fsS --max-time 5 "http://$HOST:$(c_es_port "$n")/_cat/master?h=node" 2>/dev/null) || continue
        id=${id//[[:space:]]/}
        [[ $id == es-[123] ]] && { echo "${id#es-}"; return 0; }
    done
    die "no Elasticsearch node names a master"
}

cluster_main() { # CMD [N]
    local cmd=$1 n=${2:-}
    KAFKA_STATE=$C_STATE/kafka-tools
    case $cmd in
    up) cluster_up ;;
    down) cluster_down ;;
    status) cluster_status ;;
    env) cluster_env ;;
    es-master) cluster_es_master ;;
    kill-kafka) c_node_arg "$n"; c_kill "kafka-$n" "$(read_pid "$(c_kpid "$n")"):$(c_kmark "$n")" ;;
    stop-kafka) c_node_arg "$n"; c_stop_kafka "$n" ;;
    start-kafka)
        c_node_arg "$n"
        find_java
        if ! c_kafka_running "$n"; then
            C_CLUSTER_ID=$(<"$C_STATE/cluster-id")
            c_start_kafka "$n" 1
        fi
        c_wait "Kafka broker $n" c_kafka_ready "$n"
        log "kafka-$n running, pid $(read_pid "$(c_kpid "$n")")"
        ;;
    kill-es) c_node_arg "$n"; c_kill "es-$n" "$(read_pid "$(c_espid "$n")"):$(c_esmark "$n")" "$(read_pid "$(c_epid "$n")"):$(c_emark "$n")" ;;
    stop-es) c_node_arg "$n"; c_stop_es "$n" ;;
    start-es)
        c_node_arg "$n"
        find_java
        c_es_running "$n" || c_start_es "$n" 1
        c_wait "Elasticsearch node $n" c_es_ready "$n"
        log "es-$n running, pid $(read_pid "$(c_epid "$n")")"
        ;;
    *) die "unknown cluster command '$cmd' (up, down, status, env, es-master, kill-kafka N, stop-kafka N, start-kafka N, kill-es N, stop-es N, start-es N)" ;;
    esac
}
