# shellcheck shell=bash
#
# followcdc test helpers for scripts that run the followcdc programs
# themselves (producer, consumer, the demo workload) against the servers of
# tests/lib/harness.sh: start them in the background, stop them with a
# signal and check the exit status, kill them, check that Redis equals
# MySQL. Used by the end-to-end tests (0050-0059) and, through
# tests/integration/producer_lib.sh and consumer_lib.sh, by the producer
# and consumer tests.
#
# Source it after tests/lib/harness.sh:
#
#   . "$(dirname "$0")/../lib/harness.sh"
#   h_init
#   . "$(dirname "$0")/../lib/e2e.sh"
#   e_require "$E_PBIN" "$E_CBIN"
#   h_start_mariadb; h_start_redis; h_start_broker
#   e_producer a
#   e_consumer a
#   e_check --wait 60 || h_fail "Redis differs from MySQL"
#   e_stop c-a || h_fail "consumer exited $? on SIGTERM"
#
# Every process has a KEY: p-NAME for e_producer, c-NAME for e_consumer,
# wl for e_workload, any word for e_spawn. Its PID is ${E_PID[KEY]} while
# it runs; it is registered with h_track_pid as well.
#
# Sourced after h_init, this file installs an EXIT trap (e_cleanup) that
# SIGKILLs the processes still running, prints the tail of their logs when
# the test failed, then runs the harness cleanup. Sourced before h_init,
# the harness trap alone stops them (h_track_pid, SIGTERM).
#
# API:
#   e_require FILE...            h_fail unless every FILE is executable
#   e_spawn KEY OUT ERR CMD...   start CMD in the background, stdin from
#                                /dev/null, stdout appended to OUT, stderr
#                                to ERR (the same file: one log)
#   e_stop KEY [SIG]             send SIG (TERM), wait; returns the exit
#                                status (also in E_RC; 255: no such KEY)
#   e_kill9 KEY                  SIGKILL and reap
#   e_alive KEY                  true while KEY runs
#   e_producer_conf FILE [K=V]...  write a followcdc-producer config for
#                                the test servers, then the K=V lines
#   e_producer NAME [FLAGS...]   followcdc-producer, key p-NAME, log
#                                $H_DIR/p-NAME.log, config
#                                $H_DIR/producer.conf (see the knobs;
#                                /metrics on a port of its choosing)
#   e_consumer NAME [FLAGS...]   followcdc-consumer against the test
#                                servers, key c-NAME, log $H_DIR/c-NAME.log
#   e_http_port KEY [SECS]       the /metrics port process KEY serves
#                                (http.listen=127.0.0.1:0), from its
#                                start-up line "serving /metrics ... on
#                                port N" of this run
#   e_metric KEY SAMPLE          the value of a /metrics sample of KEY,
#                                e.g. 'followcdc_producer_state' or
#                                'x_total{table="follow",op="c"}'
#   e_wait_metric KEY SAMPLE OP N [SECS]  until SAMPLE OP N holds (OP: a
#                                test(1) integer operator: -eq -ge ...)
#   e_readyz KEY                 print the /readyz body; status 0 on 200
#   e_wait_state KEY STATE [SECS]  until followcdc_producer_state is STATE
#                                (standby snapshot streaming reconnecting
#                                connecting stopping)
#                                servers, key c-NAME, log $H_DIR/c-NAME.log;
#                                serves /metrics on ${E_CPORT[c-NAME]} (a
#                                free port, unless FLAGS has --http.listen)
#   e_verify_conf FILE [KEY=VALUE...]  write a followcdc-verify config
#                                for this stack (MySQL, Redis, broker, the
#                                producer's file checkpoint), plus these
#   e_cmetric NAME METRIC        value of METRIC on consumer NAME's
#                                /metrics ("" while it does not answer)
#   e_csum METRIC NAME...        sum of METRIC over consumers NAME...
#   e_streams NAME               how often producer NAME started streaming
#   e_workload SEED SECS RATE [ARGS...]  scripts/demo-workload.py (40
#                                users, 3 connections) in the background,
#                                key wl, output in $H_DIR/workload.out
#   e_workload_wait              wait for it; h_fail when it failed
#   e_check [ARGS...]            scripts/check-converged.py on the test
#                                servers (--wait SECS: until equal)
#   e_converged WHAT [SECS]      e_check --wait SECS (60), h_fail otherwise
#
# Knobs (variables, read when e_producer / e_consumer runs):
#   E_MYSQL_VIA=tcp|socket       how the producer reaches MariaDB: 127.0.0.1
#                                and H_MYSQL_PORT, or the unix socket
#                                H_MYSQL_SOCK (host and port left unset)
#   E_SERVER_ID=N                mysql.server.id of e_producer (none:
#                                pass --mysql.server.id=N)
#   E_CKPT_STORE=file|kafka      checkpoint.store of e_producer; file:
#                                $H_DIR/producer.ckpt
#   E_PRODUCER_CONF=(K=V...)     more lines for $H_DIR/producer.conf
#   E_CONSUMER_FLAGS=(FLAG...)   more flags for every e_consumer
#   E_RCLUSTER=1                 Redis is the cluster of
#                                h_start_redis_cluster: e_consumer passes
#                                --redis.cluster.nodes, e_check
#                                --redis-cluster (H_RCLUSTER_NODES)
#   E_LOG_TAIL=N                 lines of each log printed on failure (30)

E_PY=/usr/bin/python3
E_WL=$CDC_SOURCE_DIR/scripts/demo-workload.py
E_CHECK=$CDC_SOURCE_DIR/scripts/check-converged.py
E_PBIN=$CDC_BUILD_DIR/bin/followcdc-producer
E_CBIN=$CDC_BUILD_DIR/bin/followcdc-consumer
E_RC=0
: "${E_MYSQL_VIA:=tcp}"
: "${E_SERVER_ID:=}"
: "${E_CKPT_STORE:=file}"
: "${E_LOG_TAIL:=30}"
: "${E_RCLUSTER:=}"
E_PRODUCER_CONF=()
E_CONSUMER_FLAGS=()
declare -A E_PID=()
# each KEY's log file, and its line count when this run of KEY started
declare -A E_LOG=() E_LOGPOS=()
# the /metrics port of each consumer (key c-NAME)
declare -A E_CPORT=()
# the log files of the processes started, in start order, no repeats
E_LOGS=()

e_require() {
        local f
        for f in "$@"; do
                [ -x "$f" ] || h_fail "$f is not built"
        done
}

e_cleanup() {
        local rc=$? n
        # under set -e a failed kill or wait would end this trap before
        # the logs and the harness cleanup
        set +e
        for n in "${!E_PID[@]}"; do
                kill -KILL "${E_PID[$n]}" 2>/dev/null
                wait "${E_PID[$n]}" 2>/dev/null
        done
        if [ "$rc" -ne 0 ] || [ -n "${H__FAILED:-}" ]; then
                for n in "${E_LOGS[@]}"; do
                        [ -f "$n" ] || continue
                        echo "---- $n (tail)" >&2
                        tail -n "$E_LOG_TAIL" "$n" >&2
                done
        fi
        (exit "$rc")
        h__cleanup
}
if [ -n "${H__INITED:-}" ]; then
        trap e_cleanup EXIT
fi

e__add_log() {
        local f
        for f in "${E_LOGS[@]}"; do
                [ "$f" = "$1" ] && return 0
        done
        E_LOGS+=("$1")
}

e_spawn() {
        local key=$1 out=$2 err=$3
        shift 3
        E_LOG[$key]=$err
        E_LOGPOS[$key]=0
        if [ -f "$err" ]; then
                E_LOGPOS[$key]=$(wc -l <"$err")
        fi
        if [ "$out" = "$err" ]; then
                "$@" </dev/null >>"$out" 2>&1 &
        else
                "$@" </dev/null >>"$out" 2>>"$err" &
        fi
        E_PID[$key]=$!
        h_track_pid "${E_PID[$key]}"
        e__add_log "$err"
        if [ "$out" != "$err" ]; then
                e__add_log "$out"
        fi
        h_log "$key started: pid ${E_PID[$key]} (${1##*/})"
}

# e_stop KEY [SIG]: must run in the shell that started KEY (not in $(...))
e_stop() {
        local key=$1 sig=${2:-TERM} pid=${E_PID[$1]:-}
        E_RC=0
        if [ -z "$pid" ]; then
                E_RC=255
                return "$E_RC"
        fi
        kill -s "$sig" "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || E_RC=$?
        unset "E_PID[$key]"
        h_log "$key exited $E_RC"
        return "$E_RC"
}

e_kill9() {
        kill -KILL "${E_PID[$1]}" 2>/dev/null || true
        wait "${E_PID[$1]}" 2>/dev/null || true
        unset "E_PID[$1]"
        h_log "$1 killed (SIGKILL)"
}

e_alive() {
        local pid=${E_PID[$1]:-}
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

e_producer_conf() {
        local file=$1 kv
        shift
        {
                if [ "$E_MYSQL_VIA" = socket ]; then
                        echo "mysql.socket=$H_MYSQL_SOCK"
                else
                        echo "mysql.host=127.0.0.1"
                        echo "mysql.port=$H_MYSQL_PORT"
                fi
                echo "mysql.user=$H_PRODUCER_USER"
                echo "mysql.password=$H_PRODUCER_PASS"
                echo "mysql.db=$H_MYSQL_DB"
                echo "kafka.bootstrap.servers=$H_KAFKA_BOOTSTRAP"
                echo "checkpoint.interval.ms=200"
                for kv in "$@"; do
                        echo "$kv"
                done
        } >"$file"
}

e_producer() {
        local name=$1 conf=()
        shift
        if [ -n "$E_SERVER_ID" ]; then
                conf+=("mysql.server.id=$E_SERVER_ID")
        fi
        conf+=("checkpoint.store=$E_CKPT_STORE" "http.listen=127.0.0.1:0")
        if [ "$E_CKPT_STORE" = file ]; then
                conf+=("checkpoint.file=$H_DIR/producer.ckpt")
        fi
        e_producer_conf "$H_DIR/producer.conf" "${conf[@]}" \
                "${E_PRODUCER_CONF[@]}"
        e_spawn "p-$name" "$H_DIR/p-$name.log" "$H_DIR/p-$name.log" \
                "$E_PBIN" -c "$H_DIR/producer.conf" "$@"
}

# the consumer's Redis flags: one Redis, or the test's Redis Cluster
e__redis_flags() {
        if [ -n "$E_RCLUSTER" ]; then
                echo "--redis.cluster.nodes=$H_RCLUSTER_NODES"
        else
                echo "--redis.port=$H_REDIS_PORT"
        fi
}

# The topics may not exist yet when a consumer starts (the producer's first
# messages create them on Kafka): look for them every second, not every 5
# minutes (librdkafka's topic.metadata.refresh.interval.ms).
e_consumer() {
        local name=$1 a port="" http=()
        shift
        for a in "$@"; do
                case "$a" in --http.listen=*) port=${a##*:} ;; esac
        done
        if [ -z "$port" ]; then
                port=$(h_free_port) || h_fail "no free port"
                http=(--http.listen="127.0.0.1:$port")
        fi
        E_CPORT[c-$name]=$port
        e_spawn "c-$name" "$H_DIR/c-$name.log" "$H_DIR/c-$name.log" \
                "$E_CBIN" --kafka.bootstrap.servers="$H_KAFKA_BOOTSTRAP" \
                --kafka.session.timeout.ms=6000 \
                --kafka.topic.metadata.refresh.interval.ms=1000 \
                --kafka.heartbeat.interval.ms=500 \
                --kafka.auto.commit.interval.ms=500 \
                "${E_CONSUMER_FLAGS[@]}" "${http[@]}" \
                "$(e__redis_flags)" --batch.ms=20 \
                --shutdown.timeout.ms=5000 "$@"
}

e_http_port() {
        local key=$1 secs=${2:-30} log=${E_LOG[$1]:-} p i=0
        local from=$((${E_LOGPOS[$1]:-0} + 1))
        [ -n "$log" ] || return 1
        while :; do
                p=$(tail -n +"$from" "$log" 2>/dev/null |
                        sed -n 's/.*serving \/metrics .* on port \([0-9]*\).*/\1/p' |
                        head -n 1)
                if [ -n "$p" ]; then
                        echo "$p"
                        return 0
                fi
                if [ "$i" -ge $((secs * 5)) ] || ! e_alive "$key"; then
                        return 1
                fi
                sleep 0.2
                i=$((i + 1))
        done
}

e_metric() {
        local port
        port=$(e_http_port "$1" 5) || return 1
        # awk reads to the end: an early exit would fail curl with EPIPE
        # (and the pipeline, under pipefail)
        curl -fs --max-time 5 "http://127.0.0.1:$port/metrics" |
                awk -v n="$2" '$1 == n && !f { print $2; f = 1 }'
}

e_wait_metric() {
        local key=$1 name=$2 op=$3 want=$4 secs=${5:-30} i=0 v
        while [ "$i" -lt $((secs * 5)) ]; do
                v=$(e_metric "$key" "$name" 2>/dev/null) || v=
                if [ -n "$v" ] && [ "$v" "$op" "$want" ]; then
                        return 0
                fi
                sleep 0.2
                i=$((i + 1))
        done
        h_log "$key: $name is '${v:-}', want $op $want"
        return 1
}

e_readyz() {
        local port out code
        port=$(e_http_port "$1" 5) || return 2
        out=$(curl -s --max-time 5 -w '\n%{http_code}' \
                "http://127.0.0.1:$port/readyz") || return 2
        code=${out##*$'\n'}
        printf '%s\n' "${out%$'\n'*}"
        [ "$code" = 200 ]
}

e_wait_state() {
        local n
        case "$2" in
        standby) n=0 ;;
        snapshot) n=1 ;;
        streaming) n=2 ;;
        reconnecting) n=3 ;;
        connecting) n=4 ;;
        stopping) n=5 ;;
        *) h_fail "e_wait_state: unknown state $2" ;;
        esac
        e_wait_metric "$1" followcdc_producer_state -eq "$n" "${3:-30}"
}

e_cmetric() {
        curl -fsS "http://127.0.0.1:${E_CPORT[c-$1]:-0}/metrics" 2>/dev/null |
                awk -v n="$2" '$1 == n {print $2}'
}

e_csum() {
        local m=$1 n sum=0 v
        shift
        for n in "$@"; do
                v=$(e_cmetric "$n" "$m")
                sum=$((sum + ${v:-0}))
        done
        echo "$sum"
}

e_streams() {
        grep -c 'BINLOG streaming from gtid' "$H_DIR/p-$1.log" 2>/dev/null
}

e_workload() {
        local seed=$1 secs=$2 rate=$3
        shift 3
        e_spawn wl "$H_DIR/workload.out" "$H_DIR/workload.out" \
                "$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" \
                --users 40 --concurrency 3 --seed "$seed" --duration "$secs" \
                --rate "$rate" "$@"
}

e_workload_wait() {
        wait "${E_PID[wl]}" ||
                h_fail "workload failed: $(cat "$H_DIR/workload.out")"
        unset "E_PID[wl]"
}

e_check() {
        local r=(--redis-port "${H_REDIS_PORT:-}")
        if [ -n "$E_RCLUSTER" ]; then
                r=(--redis-cluster "$H_RCLUSTER_NODES")
        fi
        "$E_PY" "$E_CHECK" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" \
                "${r[@]}" "$@"
}

# e_converged WHAT [SECS]: sets res to the output of check-converged.py
e_converged() {
        if ! res=$(e_check --wait "${2:-60}"); then
                echo "$res"
                h_fail "Redis did not converge to MySQL $1"
        fi
        h_log "$1: $(sed -n 3p <<<"$res")"
}

e_verify_conf() {
        local f=$1
        shift
        {
                echo "mysql.socket=$H_MYSQL_SOCK"
                echo "mysql.user=$H_PRODUCER_USER"
                echo "mysql.password=$H_PRODUCER_PASS"
                echo "mysql.db=$H_MYSQL_DB"
                echo "redis.port=$H_REDIS_PORT"
                echo "kafka.bootstrap.servers=$H_KAFKA_BOOTSTRAP"
                echo "checkpoint.store=file"
                echo "checkpoint.file=$H_DIR/producer.ckpt"
                printf '%s\n' "$@"
        } >"$f"
}
