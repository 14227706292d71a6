# shellcheck shell=bash
#
# Apache Kafka for the integration tests: a real broker in KRaft mode
# (combined broker + controller nodes), sourced by tests/lib/harness.sh.
#
#   h_start_kafka [--nodes N] [--sasl] [--user USER:PASSWORD]...
#                 [--prop KEY=VALUE]...
#
# starts N nodes (default 1) on free loopback ports, each in
# $H_DIR/kafka/nN/ (server.properties, data/, broker.log), and waits until
# every node is registered and unfenced. With N = 3: replication factor 3
# and min.insync.replicas=2 for every topic, the internal ones included.
# --prop adds broker settings to every node (e.g. log.cleaner.backoff.ms).
# --sasl: clients connect with SASL over TLS (mechanisms PLAIN and
# SCRAM-SHA-512), with ACLs on (StandardAuthorizer, nothing allowed
# without an ACL); the certificates are made with openssl in
# $H_DIR/kafka/tls (H_KAFKA_CA is the CA file). --user adds a user for
# both mechanisms: PLAIN in the listener's JAAS configuration, SCRAM at
# format time (kafka-storage format --add-scram). librdkafka 2.0.2
# (Debian 12) fails SCRAM logins to Kafka 4.x brokers with the right
# password (upstream reports a client nonce that 4.x rejects, fixed in
# librdkafka 2.6.1), so PLAIN is the one that works for followcdc today. The harness itself (topic creation, readiness) uses a
# plaintext listener whose principal (ANONYMOUS) is a super user: only
# the client listener is the one under test.
#
# Creates the topic followcdc.checkpoints (one partition, compacted).
# Exports H_KAFKA_BOOTSTRAP (the client listener of every node),
# H_KAFKA_ADMIN_BOOTSTRAP (plaintext, super user; the same list without
# --sasl), H_KAFKA_NODES, H_KAFKA_RF. Nodes are servers named kafka1 ..
# kafkaN for h_kill9 / h_stop / h_restart (same ports and data; the
# bootstrap list does not change); "broker" names all of them.
#
#   h_topic_create NAME PARTS [CONFIG=VALUE]...   on either broker
#   h_kafka_admin ARGS...     kafka_admin against H_KAFKA_ADMIN_BOOTSTRAP
#   h_kafka_tool CLASS ARGS... a Kafka command-line tool (JVM), e.g.
#                             org.apache.kafka.tools.AclCommand
#   h_kafka_leader TOPIC PARTITION   node id leading that partition
#   h_kafka_setup             fetch the jars, write the class-data archive
#                             (tests/kafka/setup.sh runs it once per build)
#
# The jars come from Maven Central through Maven (tests/kafka/pom.xml pins
# the version) into ~/.m2; the classpath, a class-data-sharing archive and
# pre-formatted node directories are cached in $CDC_KAFKA_CACHE (default
# $CDC_BUILD_DIR/kafka). Knobs: H_KAFKA_HEAP (JVM heap, 256m),
# H_KAFKA_JVM_OPTS (more JVM flags, last wins: e.g. -XX:TieredStopAtLevel=4
# for full JIT in a benchmark).

: "${CDC_KAFKA_CACHE:=$CDC_BUILD_DIR/kafka}"
: "${H_KAFKA_HEAP:=256m}"
H_KAFKA_POM=$CDC_SOURCE_DIR/tests/kafka/pom.xml
H_KAFKA_NODES=0
H_KAFKA_RF=1
H__KAFKA_SASL=0
H__KAFKA_PROPS=()
H__KAFKA_SCRAM=()
declare -a H__KAFKA_PORT=() H__KAFKA_CPORT=() H__KAFKA_IPORT=()

h__kafka_names() {
        local n
        for ((n = 1; n <= H_KAFKA_NODES; n++)); do
                echo "kafka$n"
        done
}

# ---- jars, class-data archive ------------------------------------------

# JVM flags: bounded heap, one GC thread family, quick start. C1 only
# (TieredStopAtLevel=1) halves the start time; a test broker moves little
# data. The archive of the classes a broker loads (AppCDS) saves another
# second or two per start.
h__kafka_jvm() {
        local heap=$1 jsa=$2
        echo "-Xms$heap -Xmx$heap -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
        echo "-XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true"
        echo "-Dlog4j2.configurationFile=$CDC_SOURCE_DIR/tests/kafka/log4j2.properties"
        if [ -s "$jsa" ]; then
                echo "-XX:SharedArchiveFile=$jsa -Xlog:cds=off -Xlog:cds+dynamic=off"
        fi
        echo "${H_KAFKA_JVM_OPTS:-}"
}

# h__kafka_java HEAP JSA CLASS ARGS...: in the foreground only (a
# background call's $! would be a subshell, not the JVM)
h__kafka_java() {
        local heap=$1 jsa=$2
        shift 2
        # shellcheck disable=SC2046
        java $(h__kafka_jvm "$heap" "$jsa") \
                -cp "$(cat "$CDC_KAFKA_CACHE/classpath")" "$@"
}

h_kafka_tool() {
        h__kafka_java 128m "$CDC_KAFKA_CACHE/tools.jsa" "$@"
}

# True when the cached classpath was resolved from this pom (same
# content: a checkout or rebase that rewrites the file changes nothing) and
# every jar on it exists.
h__kafka_cp_ok() {
        local cp=$CDC_KAFKA_CACHE/classpath jar
        [ -s "$cp" ] || return 1
        [ "$(cat "$CDC_KAFKA_CACHE/pom.sha256" 2>/dev/null)" = \
          "$(sha256sum <"$H_KAFKA_POM" | cut -d' ' -f1)" ] || return 1
        while IFS= read -r -d: jar || [ -n "$jar" ]; do
                [ -f "$jar" ] || return 1
        done < <(tr -d '\n' <"$cp")
        return 0
}

# h_kafka_setup: resolve the jars (Maven, once; ~/.m2 keeps them), then
# write the class-data archives from one training run of the storage tool
# and of a broker. Serialised by a lock: parallel tests wait for the first.
h_kafka_setup() {
        local fd rc=0
        mkdir -p "$CDC_KAFKA_CACHE" || return 1
        exec {fd}>"$CDC_KAFKA_CACHE/.lock"
        flock "$fd"
        h__kafka_setup_locked || rc=$?
        exec {fd}>&-
        return "$rc"
}

h__kafka_setup_locked() {
        local t0 cp=$CDC_KAFKA_CACHE/classpath
        command -v java >/dev/null || { echo "kafka: java is not installed (scripts/deps.sh)" >&2; return 1; }
        if ! h__kafka_cp_ok; then
                command -v mvn >/dev/null ||
                        { echo "kafka: mvn is not installed (scripts/deps.sh)" >&2; return 1; }
                t0=$(date +%s)
                echo "kafka: resolving the Kafka jars with Maven ($H_KAFKA_POM)" >&2
                if ! mvn -B -q -f "$H_KAFKA_POM" dependency:build-classpath \
                        -Dmdep.outputFile="$cp.tmp" >"$CDC_KAFKA_CACHE/mvn.log" 2>&1; then
                        tail -n 30 "$CDC_KAFKA_CACHE/mvn.log" >&2
                        echo "kafka: mvn failed (log: $CDC_KAFKA_CACHE/mvn.log)" >&2
                        return 1
                fi
                mv -f "$cp.tmp" "$cp"
                sha256sum <"$H_KAFKA_POM" | cut -d' ' -f1 \
                        >"$CDC_KAFKA_CACHE/pom.sha256"
                # the archives and formatted directories belong to the old jars
                rm -rf "$CDC_KAFKA_CACHE"/*.jsa "$CDC_KAFKA_CACHE/fmt"
                echo "kafka: jars ready in $(($(date +%s) - t0)) s" >&2
        fi
        if [ ! -s "$CDC_KAFKA_CACHE/broker.jsa" ] ||
           [ ! -s "$CDC_KAFKA_CACHE/tools.jsa" ]; then
                h__kafka_train || echo "kafka: no class-data archive (slower starts)" >&2
        fi
        return 0
}

# One broker run with -XX:ArchiveClassesAtExit (the archive is written
# when the JVM exits cleanly), and one storage-tool run likewise.
h__kafka_train() {
        local d p c pid i ok=0 cache=$CDC_KAFKA_CACHE
        d=$(mktemp -d "${TMPDIR:-/tmp}/cdc-kafka-train.XXXXXX") || return 1
        p=$(h_free_port) && c=$(h_free_port) || return 1
        H__KAFKA_PORT=([1]=$p) H__KAFKA_CPORT=([1]=$c)
        H_KAFKA_NODES=1 H_KAFKA_RF=1
        h__kafka_conf 1 "$d/data" >"$d/server.properties"
        h__kafka_java 128m /dev/null -XX:ArchiveClassesAtExit="$d/tools.jsa" \
                kafka.tools.StorageTool format -t "$(h__kafka_cluster_id)" \
                -c "$d/server.properties" >"$d/format.log" 2>&1 || {
                cat "$d/format.log" >&2; rm -rf "$d"; return 1; }
        # java itself in the background (not a function's subshell): the
        # SIGTERM below must reach the JVM
        # shellcheck disable=SC2046
        java $(h__kafka_jvm "$H_KAFKA_HEAP" /dev/null) \
                -XX:ArchiveClassesAtExit="$d/broker.jsa" \
                -cp "$(cat "$cache/classpath")" kafka.Kafka \
                "$d/server.properties" >"$d/broker.log" 2>&1 &
        pid=$!
        for i in $(seq 1 300); do
                if kcat -b "127.0.0.1:$p" -L -m 2 2>/dev/null | grep -q ' 1 brokers:'; then
                        # load the produce, fetch and group paths too
                        echo k:v | kcat -b "127.0.0.1:$p" -P -t train -K: 2>/dev/null &&
                                kcat -b "127.0.0.1:$p" -G train-g train -e -q \
                                        >/dev/null 2>&1 && ok=1
                        break
                fi
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.2
        done
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        H__KAFKA_PORT=() H__KAFKA_CPORT=() H_KAFKA_NODES=0
        if [ "$ok" = 1 ] && [ -s "$d/broker.jsa" ] && [ -s "$d/tools.jsa" ]; then
                mv -f "$d/broker.jsa" "$cache/broker.jsa"
                mv -f "$d/tools.jsa" "$cache/tools.jsa"
                rm -rf "$d"
                return 0
        fi
        tail -n 20 "$d/broker.log" >&2
        rm -rf "$d"
        return 1
}

# ---- configuration -------------------------------------------------------

# A fixed cluster id: each test runs its own cluster, so ids never meet,
# and one id lets formatted directories be cached.
h__kafka_cluster_id() {
        echo "Zm9sbG93Y2RjLXRlc3Rz"
}

# h__kafka_conf NODE DATADIR: server.properties of one node on stdout.
h__kafka_conf() {
        local n=$1 data=$2 i voters="" rf=$H_KAFKA_RF isr=1 kv u
        for ((i = 1; i <= H_KAFKA_NODES; i++)); do
                voters+="${voters:+,}$i@127.0.0.1:${H__KAFKA_CPORT[$i]}"
        done
        [ "$rf" -ge 3 ] && isr=2
        echo "# generated by tests/lib/kafka.sh"
        echo "process.roles=broker,controller"
        echo "node.id=$n"
        echo "controller.quorum.voters=$voters"
        echo "controller.listener.names=CONTROLLER"
        if [ "$H__KAFKA_SASL" = 1 ]; then
                echo "listeners=SASL_SSL://127.0.0.1:${H__KAFKA_PORT[$n]},INTERNAL://127.0.0.1:${H__KAFKA_IPORT[$n]},CONTROLLER://127.0.0.1:${H__KAFKA_CPORT[$n]}"
                echo "advertised.listeners=SASL_SSL://127.0.0.1:${H__KAFKA_PORT[$n]},INTERNAL://127.0.0.1:${H__KAFKA_IPORT[$n]}"
                echo "listener.security.protocol.map=SASL_SSL:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT"
                echo "inter.broker.listener.name=INTERNAL"
                echo "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512"
                echo "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
                printf 'listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required'
                for u in "${H__KAFKA_SCRAM[@]}"; do
                        printf ' user_%s="%s"' "${u%%:*}" "${u#*:}"
                done
                printf ';\n'
                echo "ssl.keystore.type=PEM"
                echo "ssl.keystore.location=$H_DIR/kafka/tls/broker.pem"
                echo "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"
                echo "allow.everyone.if.no.acl.found=false"
                echo "super.users=User:ANONYMOUS"
        else
                echo "listeners=PLAINTEXT://127.0.0.1:${H__KAFKA_PORT[$n]},CONTROLLER://127.0.0.1:${H__KAFKA_CPORT[$n]}"
                echo "advertised.listeners=PLAINTEXT://127.0.0.1:${H__KAFKA_PORT[$n]}"
                echo "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
                echo "inter.broker.listener.name=PLAINTEXT"
        fi
        echo "log.dirs=$data"
        echo "num.partitions=4"
        echo "default.replication.factor=$rf"
        echo "min.insync.replicas=$isr"
        echo "offsets.topic.replication.factor=$rf"
        echo "offsets.topic.num.partitions=4"
        echo "transaction.state.log.replication.factor=$rf"
        echo "transaction.state.log.min.isr=$isr"
        echo "transaction.state.log.num.partitions=4"
        echo "share.coordinator.state.topic.replication.factor=$rf"
        echo "share.coordinator.state.topic.min.isr=$isr"
        echo "auto.create.topics.enable=true"
        # a new group is assigned at once (the default waits 3 s)
        echo "group.initial.rebalance.delay.ms=0"
        # small machine: few threads, a small cleaner buffer (128 MiB
        # by default, half the heap)
        echo "num.network.threads=2"
        echo "num.io.threads=2"
        echo "background.threads=2"
        echo "num.recovery.threads.per.data.dir=1"
        echo "log.cleaner.threads=1"
        echo "log.cleaner.dedupe.buffer.size=8388608"
        # a killed node is fenced and its partitions move after 6 s
        echo "broker.session.timeout.ms=6000"
        echo "broker.heartbeat.interval.ms=1000"
        for kv in "${H__KAFKA_PROPS[@]}"; do
                echo "$kv"
        done
}

# ---- TLS and SCRAM (--sasl) ---------------------------------------------

# A CA and a server certificate for 127.0.0.1 / localhost, made with
# openssl; broker.pem holds the key (PKCS#8) and the chain, as Kafka's PEM
# key store wants it.
h__kafka_certs() {
        local d=$H_DIR/kafka/tls
        mkdir -p "$d"
        (
                cd "$d" || exit 1
                openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
                        -subj "/CN=followcdc test CA" -keyout ca.key \
                        -out ca.pem &&
                openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
                        -keyout broker.key -out broker.csr &&
                printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext &&
                openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key \
                        -CAcreateserial -days 2 -extfile san.ext \
                        -out broker.crt &&
                openssl pkcs8 -topk8 -nocrypt -in broker.key -out broker.p8 &&
                cat broker.p8 broker.crt ca.pem >broker.pem
        ) >"$H_DIR/kafka/tls.log" 2>&1 ||
                { cat "$H_DIR/kafka/tls.log" >&2; h_fail "openssl: certificates"; }
        H_KAFKA_CA=$d/ca.pem
        export H_KAFKA_CA
}

# ---- nodes ---------------------------------------------------------------

# h__kafka_template NODE: a data directory formatted for NODE (and the
# SCRAM users), cached; prints its path.
h__kafka_template() {
        local n=$1 key d tmp fd u args=()
        for u in "${H__KAFKA_SCRAM[@]}"; do
                args+=(--add-scram "SCRAM-SHA-512=[name=${u%%:*},password=\"${u#*:}\"]")
        done
        key=n$n-$(printf '%s\n' "${args[@]}" | md5sum | cut -c1-12)
        d=$CDC_KAFKA_CACHE/fmt/$key
        if [ -f "$d/meta.properties" ]; then
                echo "$d"
                return 0
        fi
        mkdir -p "$CDC_KAFKA_CACHE/fmt"
        tmp=$(mktemp -d "$CDC_KAFKA_CACHE/fmt/.tmp.XXXXXX") || return 1
        h__kafka_conf "$n" "$tmp/data" >"$tmp/server.properties"
        if ! h_kafka_tool kafka.tools.StorageTool format \
                -t "$(h__kafka_cluster_id)" -c "$tmp/server.properties" \
                "${args[@]}" >"$tmp/format.log" 2>&1; then
                cat "$tmp/format.log" >&2
                rm -rf "$tmp"
                return 1
        fi
        exec {fd}>"$CDC_KAFKA_CACHE/.lock"
        flock "$fd"
        if [ ! -f "$d/meta.properties" ]; then
                rm -rf "$d"
                mv "$tmp/data" "$d"
        fi
        exec {fd}>&-
        rm -rf "$tmp"
        echo "$d"
}

h__kafka_launch() {
        local n=$1 dir=$H_DIR/kafka/n$1
        : >>"$dir/broker.log"
        # shellcheck disable=SC2046
        setsid java $(h__kafka_jvm "$H_KAFKA_HEAP" "$CDC_KAFKA_CACHE/broker.jsa") \
                -cp "$(cat "$CDC_KAFKA_CACHE/classpath")" kafka.Kafka \
                "$dir/server.properties" </dev/null >>"$dir/broker.log" 2>&1 &
        printf -v "H__PID_kafka$n" '%s' "$!"
        h__save_pids
}

# h__kafka_ready NODE: NODE answers metadata listing every node.
h__kafka_ready() {
        local port=${H__KAFKA_IPORT[$1]:-${H__KAFKA_PORT[$1]}}
        kcat -b "127.0.0.1:$port" -L -m 2 2>/dev/null |
                grep -q "^ *$H_KAFKA_NODES brokers:"
}

# h__kafka_await NODE...: wait until each is ready. 0 up, 2 a port was
# taken, 1 another failure (the node died or took too long).
h__kafka_await() {
        local n v waited=0 limit=$((H_START_TIMEOUT * 5)) pending=("$@") left
        while [ "${#pending[@]}" -gt 0 ]; do
                left=()
                for n in "${pending[@]}"; do
                        v=H__PID_kafka$n
                        if h__kafka_ready "$n"; then
                                continue
                        fi
                        if ! h__alive "${!v}"; then
                                grep -q 'Address already in use' \
                                        "$H_DIR/kafka/n$n/broker.log" && return 2
                                return 1
                        fi
                        left+=("$n")
                done
                pending=("${left[@]}")
                [ "${#pending[@]}" -eq 0 ] && break
                [ "$waited" -ge "$limit" ] && return 1
                sleep 0.2
                waited=$((waited + 1))
        done
        return 0
}

h__kafka_stop_all() {
        local sig=$1 n v pids=()
        for ((n = 1; n <= H_KAFKA_NODES; n++)); do
                v=H__PID_kafka$n
                [ -n "${!v:-}" ] && pids+=("${!v}") && kill "-$sig" "${!v}" 2>/dev/null
        done
        for v in "${pids[@]}"; do
                h__stop_pid "$v" "$sig"
        done
        for ((n = 1; n <= H_KAFKA_NODES; n++)); do
                printf -v "H__PID_kafka$n" '%s' ""
        done
        h__save_pids
}

# h__kafka_port " USED ": a free port not among USED (nothing listens on
# the ports chosen for the other listeners yet: h_free_port alone can
# pick one twice)
h__kafka_port() {
        local p i
        for i in $(seq 1 50); do
                p=$(h_free_port) || break
                case "$1" in
                *" $p "*) continue ;;
                esac
                echo "$p"
                return 0
        done
        h_fail "no free port"
}

h_start_kafka() {
        local nodes=1 n try rc t0 t1 tpl boot="" aboot="" used
        [ -n "${H_DIR:-}" ] || h_init
        [ "$H_KAFKA_NODES" = 0 ] || h_fail "h_start_kafka: already running"
        H__KAFKA_PROPS=() H__KAFKA_SCRAM=() H__KAFKA_SASL=0
        while [ "$#" -gt 0 ]; do
                case "$1" in
                --nodes) nodes=$2; shift ;;
                --sasl) H__KAFKA_SASL=1 ;;
                --user) H__KAFKA_SCRAM+=("$2"); shift ;;
                --prop) H__KAFKA_PROPS+=("$2"); shift ;;
                *) h_fail "h_start_kafka: unknown argument '$1'" ;;
                esac
                shift
        done
        h_kafka_setup || h_fail "Kafka setup failed (tests/kafka/setup.sh)"
        H_KAFKA_NODES=$nodes
        H_KAFKA_RF=$((nodes < 3 ? nodes : 3))
        [ "$H__KAFKA_SASL" = 1 ] && h__kafka_certs
        t0=$(date +%s%3N)
        for try in 1 2 3 4 5; do
                used=" "
                for ((n = 1; n <= nodes; n++)); do
                        H__KAFKA_PORT[$n]=$(h__kafka_port "$used")
                        used+="${H__KAFKA_PORT[$n]} "
                        H__KAFKA_CPORT[$n]=$(h__kafka_port "$used")
                        used+="${H__KAFKA_CPORT[$n]} "
                        H__KAFKA_IPORT[$n]=
                        if [ "$H__KAFKA_SASL" = 1 ]; then
                                H__KAFKA_IPORT[$n]=$(h__kafka_port "$used")
                                used+="${H__KAFKA_IPORT[$n]} "
                        fi
                done
                [ "$try" = 1 ] && for ((n = 1; n <= nodes; n++)); do
                        tpl=$(h__kafka_template "$n") ||
                                h_fail "kafka-storage format failed"
                        mkdir -p "$H_DIR/kafka/n$n"
                        # a kept directory (H_PERSIST_DIR) keeps its data
                        [ -f "$H_DIR/kafka/n$n/data/meta.properties" ] ||
                                cp -a "$tpl" "$H_DIR/kafka/n$n/data"
                done
                for ((n = 1; n <= nodes; n++)); do
                        h__kafka_conf "$n" "$H_DIR/kafka/n$n/data" \
                                >"$H_DIR/kafka/n$n/server.properties"
                        h__kafka_launch "$n"
                done
                rc=0
                h__kafka_await $(seq 1 "$nodes") || rc=$?
                [ "$rc" = 0 ] && break
                h__kafka_stop_all KILL
                [ "$rc" = 2 ] || h_fail "Kafka did not start (see $H_DIR/kafka/n*/broker.log)"
                h_log "a Kafka port was taken, trying others"
        done
        [ "$rc" = 0 ] || h_fail "Kafka did not start"
        t1=$(date +%s%3N)
        for ((n = 1; n <= nodes; n++)); do
                boot+="${boot:+,}127.0.0.1:${H__KAFKA_PORT[$n]}"
                aboot+="${aboot:+,}127.0.0.1:${H__KAFKA_IPORT[$n]:-${H__KAFKA_PORT[$n]}}"
        done
        H_KAFKA_BOOTSTRAP=$boot
        H_KAFKA_ADMIN_BOOTSTRAP=$aboot
        export H_KAFKA_BOOTSTRAP H_KAFKA_ADMIN_BOOTSTRAP H_KAFKA_NODES H_KAFKA_RF
        # the producer's checkpoint topic, provisioned as a deployment does
        # (docs/producer.md: one partition, compacted). Left to
        # auto-creation, the first checkpoint waits for the new topic and a
        # producer killed before it has none (the dev broker creates
        # topics at once).
        h_topic_create followcdc.checkpoints 1 cleanup.policy=compact ||
                h_fail "create the checkpoint topic"
        h_log "kafka up: $nodes node(s), bootstrap $H_KAFKA_BOOTSTRAP, started in $((t1 - t0)) ms (pids $(for ((n = 1; n <= nodes; n++)); do v=H__PID_kafka$n; printf '%s ' "${!v}"; done))"
}

# h__kafka_restart NODE: start a stopped node again (same ports, data).
h__kafka_restart() {
        local n=$1 rc=0 i t0
        t0=$(date +%s%3N)
        for i in 1 2 3 4 5; do
                h__kafka_launch "$n"
                rc=0
                h__kafka_await "$n" || rc=$?
                [ "$rc" -ne 2 ] && break
                # the old socket can linger a moment after a kill
                sleep 1
        done
        [ "$rc" = 0 ] || return 1
        h_log "kafka$n back in $(($(date +%s%3N) - t0)) ms"
}

h_kafka_admin() {
        "$CDC_BUILD_DIR/bin/kafka_admin" -b "$H_KAFKA_ADMIN_BOOTSTRAP" "$@"
}

# h_topic_create NAME PARTS [CONFIG=VALUE]...: on Kafka when it runs,
# else on the dev broker, which ignores the configs (it has none).
h_topic_create() {
        local name=$1 parts=$2
        shift 2
        if [ "$H_KAFKA_NODES" -gt 0 ]; then
                h_kafka_admin create-topic "$name" "$parts" "$H_KAFKA_RF" "$@"
        else
                h_broker_ctl topic-create "$name" "$parts" >/dev/null
        fi
}

# h_kafka_leader TOPIC PARTITION: the node id leading it (empty if none)
h_kafka_leader() {
        kcat -b "$H_KAFKA_ADMIN_BOOTSTRAP" -L -t "$1" -m 5 2>/dev/null |
                sed -n "s/^ *partition $2, leader \([-0-9]*\),.*/\1/p"
}

# h_kafka_isr_full TOPIC...: every partition of each TOPIC has all its
# replicas in sync (a restarted node has caught up)
h_kafka_isr_full() {
        local t
        for t in "$@"; do
                kcat -b "$H_KAFKA_ADMIN_BOOTSTRAP" -L -t "$t" -m 5 2>/dev/null |
                        awk -v rf="$H_KAFKA_RF" '
                        / partition [0-9]+, leader / {
                                n++
                                split($0, a, "isrs: ")
                                if (split(a[2], i, ",") != rf) bad++
                        }
                        END { exit (n == 0 || bad) }' || return 1
        done
}

# h_kafka_offsets TOPIC: one line per partition, "PARTITION LOW HIGH
# PRESENT": the log's start and end offsets and how many messages a reader
# from the beginning gets. PRESENT < HIGH - LOW means records were removed
# from the middle of the log: the cleaner compacted it.
h_kafka_offsets() {
        local t=$1 p parts low high present
        parts=$(kcat -b "$H_KAFKA_ADMIN_BOOTSTRAP" -L -t "$t" -m 5 2>/dev/null |
                sed -n 's/^ *partition \([0-9]*\), leader.*/\1/p')
        for p in $parts; do
                # -2: earliest, -1: latest (ListOffsets by time)
                low=$(kcat -b "$H_KAFKA_ADMIN_BOOTSTRAP" -Q -t "$t:$p:-2" 2>/dev/null |
                      awk '{print $NF}')
                high=$(kcat -b "$H_KAFKA_ADMIN_BOOTSTRAP" -Q -t "$t:$p:-1" 2>/dev/null |
                       awk '{print $NF}')
                present=$(kcat -b "$H_KAFKA_ADMIN_BOOTSTRAP" -C -t "$t" -p "$p" \
                        -o beginning -e -q -f '.\n' 2>/dev/null | wc -l)
                echo "$p ${low:-?} ${high:-?} $present"
        done
}
