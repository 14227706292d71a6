# shellcheck shell=bash
#
# followcdc test harness: private MariaDB, Redis and dev Kafka broker
# processes for integration tests and the local stack.
#
# Source it from a test script:
#
#   . "$(dirname "$0")/../lib/harness.sh"
#   h_init
#   h_start_mariadb
#   h_mysql "INSERT INTO follow (follower_id, followee_id) VALUES (1, 2)"
#   h_pass "inserted"
#
# Every server runs in its own directory under $H_DIR, listens on
# 127.0.0.1 on a free port (so suites run in parallel) and is killed by
# PID from the EXIT trap installed by h_init, also when the test fails or
# is interrupted. A watchdog process kills them too if the test script
# itself is killed with SIGKILL (e.g. by a ctest timeout).
#
# API (see docs/testing.md for the long form):
#   h_init                   temp dir $H_DIR, cleanup trap, watchdog
#   h_start_mariadb [--tls] [ARGS]   exports H_MYSQL_HOST H_MYSQL_PORT
#                            H_MYSQL_SOCK H_MYSQL_DB H_PRODUCER_USER
#                            H_PRODUCER_PASS H_CONSUMER_USER H_CONSUMER_PASS;
#                            ARGS go to mariadbd (e.g.
#                            --binlog-row-metadata=MINIMAL); --tls: TLS with
#                            the certificates of h_tls_certs $H_DIR/tls
#                            (exports H_TLS_DIR)
#   h_tls_certs DIR          openssl: DIR/ca.crt, server.{crt,key} (for
#                            127.0.0.1 and localhost), client.{crt,key}
#                            (signed by ca.crt), other-ca.crt (signed
#                            nothing here)
#   h_start_redis [--appendonly] [KEY VALUE]...   exports H_REDIS_PORT
#   h_start_redis_cluster [--masters N] [--replicas R] [KEY VALUE]...
#                            a Redis Cluster (3 masters, 1 replica each);
#                            exports H_RCLUSTER_NODES H_RCLUSTER_PORTS (see
#                            tests/lib/rcluster.sh for its helpers)
#   h_start_broker [ARGS]    the broker $H_BROKER names: the dev broker
#                            (exports H_KAFKA_BOOTSTRAP H_BROKER_CTL) or
#                            Apache Kafka (h_start_kafka, one node; of
#                            ARGS only --topic NAME:PARTS applies)
#   h_start_kafka [ARGS]     Apache Kafka, 1 or 3 nodes (tests/lib/kafka.sh)
#   h_topic_create NAME PARTS [K=V]...  create a topic on either broker
#   h_broker_ctl CMD...      fault injection on the running dev broker
#   h_kill9 NAME             NAME = mariadb|redis|broker|kafkaN
#   h_stop NAME              graceful stop (SIGTERM, then SIGKILL)
#   h_restart NAME           start NAME again with the same data and port
#                            (the dev broker gets a NEW address: it is in
#                            memory; H_KAFKA_BOOTSTRAP is re-exported;
#                            Kafka nodes keep their ports and data)
#   h_mysql "SQL"            root over the socket on H_MYSQL_DB, tab
#                            separated, no header; no argument: SQL on stdin
#   h_redis ARGS...          redis-cli against H_REDIS_PORT
#   h_pass MSG / h_fail MSG  PASS/FAIL line, exit 0/1
#   h_log MSG                timestamped line on stderr
#   h_wait_for CMD [SECS]    poll CMD (eval) until it succeeds; 1 on timeout
#   h_free_port              print a free loopback TCP port
#   h_pid NAME               print the PID of a running server
#   h_track_pid PID...       stop these processes too at exit (and from the
#                            watchdog); for producers/consumers a test starts
#
# Knobs (environment, set before h_init / h_start_*):
#   H_PERSIST_DIR=DIR        use DIR as $H_DIR, keep it at exit and reuse
#                            the data found there (local stack)
#   H_WANT_MYSQL_PORT=N      fixed MariaDB port instead of a free one
#   H_WANT_REDIS_PORT=N      fixed Redis port instead of a free one
#   H_KEEP=1                 keep $H_DIR after the test (debugging)
#   H_START_TIMEOUT=SECS     how long a server may take to start (60)
#   CDC_BROKER=dev|kafka     which broker h_start_broker starts (dev);
#                            read into H_BROKER
#   CDC_BUILD_DIR, CDC_SOURCE_DIR   set by ctest; default to the checkout
#                            containing this file and its build/ directory

H_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${CDC_SOURCE_DIR:=$(cd "$H_LIB_DIR/../.." && pwd)}"
: "${CDC_BUILD_DIR:=$CDC_SOURCE_DIR/build}"
export CDC_SOURCE_DIR CDC_BUILD_DIR
H_NAME=$(basename "${0:-test}" .sh)
: "${H_START_TIMEOUT:=60}"
H_BROKER=${CDC_BROKER:-dev}
case "$H_BROKER" in
dev | kafka) ;;
*) echo "harness: CDC_BROKER must be dev or kafka, not '$H_BROKER'" >&2; exit 2 ;;
esac
export H_BROKER

H__PID_mariadb=
H__PID_redis=
H__PID_broker=
H__WATCHDOG=
H__INITED=
H__EXTRA_PIDS=()

# ---- messages ----------------------------------------------------------

h_log() {
        printf '%s %s: %s\n' "$(date +%H:%M:%S)" "$H_NAME" "$*" >&2
}

# Print the last lines of every server log (called on failure).
h__dump_logs() {
        local f
        [ -n "${H_DIR:-}" ] && [ -d "$H_DIR" ] || return 0
        for f in "$H_DIR"/mariadb/error.log "$H_DIR"/redis/redis.log \
                 "$H_DIR"/broker/broker.log "$H_DIR"/kafka/n*/broker.log; do
                [ -s "$f" ] || continue
                printf -- '---- last lines of %s ----\n' "$f" >&2
                tail -n 25 "$f" >&2
        done
}

h_pass() {
        printf 'PASS: %s: %s\n' "$H_NAME" "$*"
        exit 0
}

# FAIL goes to stderr: it still shows when h_fail runs inside $(...)
h_fail() {
        printf 'FAIL: %s: %s\n' "$H_NAME" "$*" >&2
        H__FAILED=1
        exit 1
}

# ---- helpers -----------------------------------------------------------

# h_wait_for CMD [TIMEOUT_SECS]: eval CMD every 0.2 s until it returns 0.
h_wait_for() {
        local cmd=$1 timeout=${2:-30} waited=0
        # tenths of a second, integer arithmetic only
        local limit=$((timeout * 10))
        while ! eval "$cmd" >/dev/null 2>&1; do
                if [ "$waited" -ge "$limit" ]; then
                        return 1
                fi
                sleep 0.2
                waited=$((waited + 2))
        done
        return 0
}

# True when something accepts TCP connections on 127.0.0.1:$1.
h__port_busy() {
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# h_free_port: print a loopback port nobody listens on. Ports come from
# 20000-32767, below Linux's ephemeral range, so outgoing connections do
# not take them between this check and the server's bind().
h_free_port() {
        local p i
        for i in $(seq 1 200); do
                p=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
                if ! h__port_busy "$p"; then
                        echo "$p"
                        return 0
                fi
        done
        return 1
}

h_pid() {
        local v="H__PID_$1"
        [ -n "${!v:-}" ] || return 1
        echo "${!v}"
}

# Rewrite the list of server PIDs the watchdog reads ($H_DIR/.pids.h).
# $H_DIR/.pids is for other processes of the test (h_track_pid): append
# only, never rewritten here.
h__save_pids() {
        local n v
        [ -n "${H_DIR:-}" ] || return 0
        : >"$H_DIR/.pids.h.tmp"
        for n in mariadb redis broker $(h__kafka_names); do
                v="H__PID_$n"
                [ -n "${!v:-}" ] && echo "${!v}" >>"$H_DIR/.pids.h.tmp"
        done
        mv -f "$H_DIR/.pids.h.tmp" "$H_DIR/.pids.h"
}

# h_track_pid PID...: have the EXIT trap (SIGTERM, SIGKILL after 20 s) and
# the watchdog stop these processes too (producers, consumers, workloads
# the test starts in the background). Stopping them earlier is fine.
h_track_pid() {
        local p
        for p in "$@"; do
                H__EXTRA_PIDS+=("$p")
                echo "$p" >>"$H_DIR/.pids"
        done
}

h__alive() {
        [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null
}

# h__stop_pid PID SIGNAL: send SIGNAL, wait up to 20 s, then SIGKILL.
# The process is our child, so `wait` reaps it (no zombie left).
# Servers run in their own session (setsid): a Ctrl-C or a signal to the
# whole process group reaches only the script, whose trap then stops the
# clients before the servers they depend on (a consumer must commit its
# offsets before the broker goes away).
h__stop_pid() {
        local pid=$1 sig=${2:-TERM} i
        h__alive "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }
        kill "-$sig" "$pid" 2>/dev/null
        if [ "$sig" != KILL ]; then
                for i in $(seq 1 100); do
                        # a zombie still answers kill -0: check its state
                        if ! h__alive "$pid" ||
                           [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ]; then
                                break
                        fi
                        sleep 0.2
                done
                h__alive "$pid" && kill -KILL "$pid" 2>/dev/null
        fi
        wait "$pid" 2>/dev/null || true
        return 0
}

h__cleanup() {
        local rc=$? n v
        trap - EXIT INT TERM
        set +e
        # logs help on a failure, not after Ctrl-C / SIGTERM (130, 143)
        if [ -n "${H__FAILED:-}" ] ||
           { [ "$rc" -ne 0 ] && [ "$rc" -ne 130 ] && [ "$rc" -ne 143 ]; }; then
                h__dump_logs
        fi
        # processes of the test first (our children only: a PID that is no
        # longer our child may have been reused)
        for v in "${H__EXTRA_PIDS[@]}"; do
                if [ "$(ps -o ppid= -p "$v" 2>/dev/null | tr -d ' ')" = "$$" ]; then
                        h__stop_pid "$v" TERM
                fi
        done
        # broker first (clients), then the stores; graceful so a persistent
        # local stack shuts down cleanly, SIGKILL after 20 s. Kafka nodes of
        # a throw-away directory are killed at once: their data goes too.
        if [ "${H_KAFKA_NODES:-0}" -gt 0 ]; then
                if [ -n "${H_PERSIST_DIR:-}" ]; then
                        h__kafka_stop_all TERM
                else
                        h__kafka_stop_all KILL
                fi
        fi
        for n in broker redis mariadb; do
                v="H__PID_$n"
                if [ -n "${!v:-}" ]; then
                        h__stop_pid "${!v}" TERM
                        eval "H__PID_$n="
                fi
        done
        if [ -n "$H__WATCHDOG" ]; then
                kill -KILL "$H__WATCHDOG" 2>/dev/null
                wait "$H__WATCHDOG" 2>/dev/null || true
        fi
        if [ -n "${H_DIR:-}" ] && [ -z "${H_PERSIST_DIR:-}" ]; then
                if [ "${H_KEEP:-0}" = 1 ]; then
                        echo "harness: kept $H_DIR" >&2
                else
                        rm -rf "$H_DIR"
                fi
        fi
        exit "$rc"
}

# ---- init --------------------------------------------------------------

h_init() {
        [ -n "$H__INITED" ] && return 0
        if [ -n "${H_PERSIST_DIR:-}" ]; then
                mkdir -p "$H_PERSIST_DIR" || h_fail "cannot create $H_PERSIST_DIR"
                H_DIR=$(cd "$H_PERSIST_DIR" && pwd)
        else
                # Unix socket paths are limited to 107 bytes: keep it short.
                local base=${TMPDIR:-/tmp}
                [ "${#base}" -gt 40 ] && base=/tmp
                H_DIR=$(mktemp -d "$base/cdc-${H_NAME:0:24}.XXXXXX") ||
                        h_fail "mktemp failed"
        fi
        export H_DIR
        H__INITED=1
        trap h__cleanup EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        : >>"$H_DIR/.pids"
        : >"$H_DIR/.pids.h"
        # Watchdog: if this shell dies without running its trap (SIGKILL),
        # kill the servers it started. Polls every 2 s; no busy loop.
        local parent=$$ dir=$H_DIR persist=${H_PERSIST_DIR:-}
        (
                trap - EXIT INT TERM
                set +eu
                exec </dev/null >/dev/null 2>&1
                while kill -0 "$parent" 2>/dev/null; do
                        sleep 2
                done
                cat "$dir/.pids" "$dir/.pids.h" 2>/dev/null |
                        xargs -r kill -KILL 2>/dev/null
                [ -z "$persist" ] && rm -rf "$dir"
        ) &
        H__WATCHDOG=$!
}

# ---- MariaDB -----------------------------------------------------------

H_MYSQL_DB=followcdc
H_MYSQL_HOST=127.0.0.1
H_PRODUCER_USER=followcdc_producer
H_PRODUCER_PASS=producer-pw
H_CONSUMER_USER=followcdc_consumer
H_CONSUMER_PASS=consumer-pw
H__MARIADB_EXTRA=()

h__mariadb_ping() {
        mariadb-admin --no-defaults --connect-timeout=2 -S "$H_MYSQL_SOCK" \
                -uroot ping >/dev/null 2>&1
}

# Run LAUNCH (returns 0 up, 2 port taken, 1 failed) with PORTVAR set to
# WANTVAR's fixed port, or to free ports until one is not taken (5 tries).
h__launch_on_port() {
        local portvar=$1 wantvar=$2 launch=$3 what=$4 rc=1 port
        for _ in 1 2 3 4 5; do
                port=${!wantvar:-}
                if [ -z "$port" ]; then
                        port=$(h_free_port) || h_fail "no free port"
                fi
                printf -v "$portvar" '%s' "$port"
                rc=0
                "$launch" || rc=$?
                [ "$rc" -eq 0 ] && return 0
                if [ "$rc" -ne 2 ] || [ -n "${!wantvar:-}" ]; then
                        h_fail "$what did not start (port $port)"
                fi
                h_log "port $port taken, trying another"
        done
        h_fail "$what did not start"
}

# Wait until PING (a function) answers for server NAME, whose PID is in
# H__PID_<NAME> and whose log LOG grew from byte LOGOFF on. Returns 0 when
# up, 2 when the port was taken, 1 on other failures (the PID is cleared).
h__await_up() {
        local name=$1 log=$2 logoff=$3 ping=$4 waited=0 new
        local pidvar=H__PID_$1 limit=$((H_START_TIMEOUT * 5))
        while ! "$ping"; do
                if ! h__alive "${!pidvar}"; then
                        wait "${!pidvar}" 2>/dev/null || true
                        printf -v "$pidvar" '%s' ""
                        h__save_pids
                        new=$(tail -c +"$((logoff + 1))" "$log")
                        grep -q 'already in use' <<<"$new" && return 2
                        return 1
                fi
                if [ "$waited" -ge "$limit" ]; then
                        h__stop_pid "${!pidvar}" KILL
                        printf -v "$pidvar" '%s' ""
                        h__save_pids
                        return 1
                fi
                sleep 0.2
                waited=$((waited + 1))
        done
        return 0
}

# Start mariadbd on $H_MYSQL_PORT with the saved arguments; wait until it
# answers. Returns 2 when the port was taken, 1 on other failures.
h__mariadb_launch() {
        local dir=$H_DIR/mariadb
        : >>"$dir/error.log"
        local logoff
        logoff=$(wc -c <"$dir/error.log")
        setsid mariadbd --no-defaults --user=root \
                --datadir="$dir/data" --tmpdir="$dir/tmp" \
                --socket="$H_MYSQL_SOCK" --port="$H_MYSQL_PORT" \
                --bind-address=127.0.0.1 --skip-name-resolve \
                --pid-file="$dir/mariadbd.pid" --log-error="$dir/error.log" \
                --log-bin=mysql-bin --binlog-format=ROW \
                --binlog-row-image=FULL --binlog-row-metadata=FULL \
                --server-id=1 --gtid-strict-mode=1 \
                --innodb-buffer-pool-size=64M --innodb-log-file-size=8M \
                --innodb-use-native-aio=0 --innodb-flush-log-at-trx-commit=2 \
                --performance-schema=OFF --max-connections=200 \
                --character-set-server=utf8mb4 \
                --collation-server=utf8mb4_bin \
                "${H__MARIADB_EXTRA[@]}" </dev/null >>"$dir/error.log" 2>&1 &
        H__PID_mariadb=$!
        h__save_pids
        h__await_up mariadb "$dir/error.log" "$logoff" h__mariadb_ping
}

# h_tls_certs DIR: a test CA and what it signed (see the API above).
# Kept once made: a restarted server keeps its certificate.
h_tls_certs() {
        local t=$1
        [ -f "$t/client.crt" ] && return 0
        command -v openssl >/dev/null || h_fail "openssl is not installed"
        mkdir -p "$t" || h_fail "mkdir $t"
        (
                set -e
                cd "$t"
                exec >>openssl.log 2>&1
                openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key \
                        -out ca.crt -days 2 -subj "/CN=followcdc test CA"
                openssl req -x509 -newkey rsa:2048 -nodes \
                        -keyout other-ca.key -out other-ca.crt -days 2 \
                        -subj "/CN=another CA"
                echo "subjectAltName=IP:127.0.0.1,DNS:localhost" >server.ext
                openssl req -newkey rsa:2048 -nodes -keyout server.key \
                        -out server.csr -subj "/CN=localhost"
                openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key \
                        -CAcreateserial -out server.crt -days 2 \
                        -extfile server.ext
                openssl req -newkey rsa:2048 -nodes -keyout client.key \
                        -out client.csr -subj "/CN=followcdc client"
                openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key \
                        -CAcreateserial -out client.crt -days 2
        ) || h_fail "openssl failed (see $t/openssl.log)"
}

h_start_mariadb() {
        local dir fresh=0
        [ -n "${H_DIR:-}" ] || h_init
        [ -z "$H__PID_mariadb" ] || h_fail "h_start_mariadb: already running"
        if [ "${1:-}" = --tls ]; then
                shift
                H_TLS_DIR=$H_DIR/tls
                export H_TLS_DIR
                h_tls_certs "$H_TLS_DIR"
                set -- --ssl-ca="$H_TLS_DIR/ca.crt" \
                        --ssl-cert="$H_TLS_DIR/server.crt" \
                        --ssl-key="$H_TLS_DIR/server.key" "$@"
        fi
        H__MARIADB_EXTRA=("$@")
        dir=$H_DIR/mariadb
        mkdir -p "$dir/tmp"
        H_MYSQL_SOCK=$dir/mysql.sock
        if [ ! -d "$dir/data/mysql" ]; then
                fresh=1
                rm -rf "$dir/data"
                # --force: no host name lookup (a minimal system may have no
                # /etc/hosts); the server runs with --skip-name-resolve
                mariadb-install-db --no-defaults --user=root \
                        --datadir="$dir/data" --tmpdir="$dir/tmp" \
                        --skip-test-db --force \
                        --auth-root-authentication-method=normal \
                        --innodb-buffer-pool-size=64M \
                        --innodb-log-file-size=8M --innodb-use-native-aio=0 \
                        >"$dir/install.log" 2>&1 ||
                        { tail -n 20 "$dir/install.log" >&2;
                          h_fail "mariadb-install-db failed (log: $dir/install.log)"; }
        fi
        h__launch_on_port H_MYSQL_PORT H_WANT_MYSQL_PORT h__mariadb_launch mariadbd
        export H_MYSQL_HOST H_MYSQL_PORT H_MYSQL_SOCK H_MYSQL_DB \
               H_PRODUCER_USER H_PRODUCER_PASS H_CONSUMER_USER H_CONSUMER_PASS
        if [ "$fresh" = 1 ]; then
                h__mariadb_provision || h_fail "loading schemas/mysql failed"
        fi
        h_log "mariadb up: port $H_MYSQL_PORT socket $H_MYSQL_SOCK pid $H__PID_mariadb"
}

# Create the database, the tables and the two accounts with test passwords.
h__mariadb_provision() {
        local sql=$CDC_SOURCE_DIR/schemas/mysql
        mariadb --no-defaults -S "$H_MYSQL_SOCK" -uroot \
                -e "CREATE DATABASE IF NOT EXISTS \`$H_MYSQL_DB\`" || return 1
        mariadb --no-defaults -S "$H_MYSQL_SOCK" -uroot "$H_MYSQL_DB" \
                <"$sql/001-tables.sql" || return 1
        # The accounts keep their '%' host (with --skip-name-resolve it matches
        # 127.0.0.1 and the socket); only the passwords and database change.
        sed -e "s/change-me-producer/$H_PRODUCER_PASS/" \
            -e "s/change-me-consumer/$H_CONSUMER_PASS/" \
            -e "s/\\bfollowcdc\\./\`$H_MYSQL_DB\`./g" \
            "$sql/002-grants.sql" |
                mariadb --no-defaults -S "$H_MYSQL_SOCK" -uroot || return 1
}

h_mysql() {
        if [ "$#" -eq 0 ]; then
                mariadb --no-defaults -S "$H_MYSQL_SOCK" -uroot -N -B \
                        "$H_MYSQL_DB"
        else
                mariadb --no-defaults -S "$H_MYSQL_SOCK" -uroot -N -B \
                        "$H_MYSQL_DB" -e "$1"
        fi
}

# ---- Redis -------------------------------------------------------------

H__REDIS_AOF=no
H__REDIS_EXTRA=()

h__redis_ping() {
        [ "$(redis-cli -h 127.0.0.1 -p "$H_REDIS_PORT" ping 2>/dev/null)" = PONG ]
}

h__redis_launch() {
        local dir=$H_DIR/redis i
        {
                echo "# generated by tests/lib/harness.sh"
                echo "bind 127.0.0.1"
                echo "port $H_REDIS_PORT"
                echo "dir $dir/data"
                echo "daemonize no"
                echo "logfile $dir/redis.log"
                echo "save \"\""
                echo "appendonly $H__REDIS_AOF"
                echo "appendfsync everysec"
                echo "databases 16"
                i=0
                while [ "$i" -lt "${#H__REDIS_EXTRA[@]}" ]; do
                        echo "${H__REDIS_EXTRA[$i]} ${H__REDIS_EXTRA[$((i + 1))]:-}"
                        i=$((i + 2))
                done
        } >"$dir/redis.conf"
        : >>"$dir/redis.log"
        local logoff
        logoff=$(wc -c <"$dir/redis.log")
        setsid redis-server "$dir/redis.conf" </dev/null >>"$dir/redis.log" 2>&1 &
        H__PID_redis=$!
        h__save_pids
        h__await_up redis "$dir/redis.log" "$logoff" h__redis_ping
}

# h_start_redis [--appendonly] [KEY VALUE]...: extra KEY VALUE pairs are
# appended to the generated redis.conf.
h_start_redis() {
        [ -n "${H_DIR:-}" ] || h_init
        [ -z "$H__PID_redis" ] || h_fail "h_start_redis: already running"
        H__REDIS_AOF=no
        if [ "${1:-}" = --appendonly ]; then
                H__REDIS_AOF=yes
                shift
        fi
        H__REDIS_EXTRA=("$@")
        mkdir -p "$H_DIR/redis/data"
        h__launch_on_port H_REDIS_PORT H_WANT_REDIS_PORT h__redis_launch redis-server
        export H_REDIS_PORT
        h_log "redis up: port $H_REDIS_PORT pid $H__PID_redis"
}

h_redis() {
        redis-cli -h 127.0.0.1 -p "$H_REDIS_PORT" "$@"
}

# ---- dev Kafka broker --------------------------------------------------

H__BROKER_ARGS=()

h__broker_bin() {
        echo "$CDC_BUILD_DIR/bin/followcdc-devbroker"
}

h__broker_launch() {
        local dir=$H_DIR/broker bin waited=0
        local limit=$((H_START_TIMEOUT * 5))
        bin=$(h__broker_bin)
        rm -f "$dir/bootstrap" "$H_BROKER_CTL"
        : >>"$dir/broker.log"
        setsid "$bin" --bootstrap-file "$dir/bootstrap" --control "$H_BROKER_CTL" \
                "${H__BROKER_ARGS[@]}" </dev/null >>"$dir/broker.log" 2>&1 &
        H__PID_broker=$!
        h__save_pids
        while ! [ -s "$dir/bootstrap" ]; do
                if ! h__alive "$H__PID_broker" || [ "$waited" -ge "$limit" ]; then
                        h__stop_pid "$H__PID_broker" KILL
                        H__PID_broker=
                        h__save_pids
                        return 1
                fi
                sleep 0.2
                waited=$((waited + 1))
        done
        # the file may be written in two steps: read one whole line
        sleep 0.1
        H_KAFKA_BOOTSTRAP=$(head -n 1 "$dir/bootstrap" | tr -d ' \r\n')
        [ -n "$H_KAFKA_BOOTSTRAP" ] || return 1
        export H_KAFKA_BOOTSTRAP H_BROKER_CTL
        return 0
}

h_start_broker() {
        local bin topics=() t rc
        [ -n "${H_DIR:-}" ] || h_init
        if [ "$H_BROKER" = kafka ]; then
                while [ "$#" -gt 0 ]; do
                        case "$1" in
                        --brokers | -b) shift ;;
                        --topic | -t) topics+=("$2"); shift ;;
                        *) h_fail "h_start_broker: '$1' is for the dev broker only" ;;
                        esac
                        shift
                done
                h_start_kafka
                for t in "${topics[@]}"; do
                        # 3: exists (followcdc.checkpoints is made at start)
                        rc=0
                        h_topic_create "${t%%:*}" "${t#*:}" 2>/dev/null || rc=$?
                        [ "$rc" = 0 ] || [ "$rc" = 3 ] ||
                                h_fail "create topic $t"
                done
                return 0
        fi
        [ -z "$H__PID_broker" ] || h_fail "h_start_broker: already running"
        bin=$(h__broker_bin)
        [ -x "$bin" ] || h_fail "$bin is not built"
        H__BROKER_ARGS=("$@")
        mkdir -p "$H_DIR/broker"
        H_BROKER_CTL=$H_DIR/broker/control
        h__broker_launch || h_fail "followcdc-devbroker did not start"
        h_log "broker up: bootstrap $H_KAFKA_BOOTSTRAP pid $H__PID_broker"
}

h_broker_ctl() {
        [ "$H_BROKER" = dev ] || h_fail "h_broker_ctl: dev broker only (CDC_BROKER=$H_BROKER)"
        "$(h__broker_bin)" ctl --control "$H_BROKER_CTL" "$@"
}

# ---- faults ------------------------------------------------------------

h__check_name() {
        case "$1" in
        mariadb | redis | broker) return 0 ;;
        kafka[1-9])
                [ "${1#kafka}" -le "${H_KAFKA_NODES:-0}" ] && return 0 ;;
        esac
        h_fail "unknown server name '$1' (mariadb|redis|broker|kafkaN)"
}

# h_kill9 NAME: SIGKILL, like a crash; the data directory stays.
h_kill9() {
        local v
        h__check_name "$1"
        if [ "$1" = broker ] && [ "$H_BROKER" = kafka ]; then
                h__kafka_stop_all KILL
                h_log "kafka killed (SIGKILL, every node)"
                return 0
        fi
        v="H__PID_$1"
        [ -n "${!v:-}" ] || h_fail "h_kill9 $1: not running"
        h__stop_pid "${!v}" KILL
        eval "H__PID_$1="
        h__save_pids
        h_log "$1 killed (SIGKILL)"
}

# h_stop NAME: SIGTERM (clean shutdown), SIGKILL after 20 s.
h_stop() {
        local v
        h__check_name "$1"
        if [ "$1" = broker ] && [ "$H_BROKER" = kafka ]; then
                h__kafka_stop_all TERM
                h_log "kafka stopped (every node)"
                return 0
        fi
        v="H__PID_$1"
        [ -n "${!v:-}" ] || return 0
        h__stop_pid "${!v}" TERM
        eval "H__PID_$1="
        h__save_pids
        h_log "$1 stopped"
}

# h_restart NAME: stop it if it still runs, then start it again with the
# same arguments, data directory and port (MariaDB, Redis). The broker
# keeps nothing: it comes back empty on new ports and H_KAFKA_BOOTSTRAP is
# re-exported to this shell only; clients started earlier must be told.
h_restart() {
        local rc=0 i
        h__check_name "$1"
        h_stop "$1"
        case "$1" in
        mariadb)
                # the old port can linger a moment after a kill: retry
                for i in 1 2 3 4 5; do
                        rc=0
                        h__mariadb_launch || rc=$?
                        [ "$rc" -ne 2 ] && break
                        sleep 1
                done
                ;;
        redis)
                for i in 1 2 3 4 5; do
                        rc=0
                        h__redis_launch || rc=$?
                        [ "$rc" -ne 2 ] && break
                        sleep 1
                done
                ;;
        broker)
                if [ "$H_BROKER" = kafka ]; then
                        for ((i = 1; i <= H_KAFKA_NODES; i++)); do
                                h__kafka_launch "$i"
                        done
                        h__kafka_await $(seq 1 "$H_KAFKA_NODES") || rc=$?
                else
                        h__broker_launch || rc=$?
                fi
                ;;
        kafka*)
                h__kafka_restart "${1#kafka}" || rc=$?
                ;;
        esac
        [ "$rc" -eq 0 ] || h_fail "h_restart $1 failed"
        h_log "$1 restarted (pid $(h_pid "$1"))"
}

# ---- Redis Cluster -----------------------------------------------------
# h_start_redis_cluster and its helpers live in their own file.
# shellcheck source=rcluster.sh
. "$H_LIB_DIR/rcluster.sh"

# ---- Apache Kafka --------------------------------------------------------

# shellcheck source=kafka.sh
. "$H_LIB_DIR/kafka.sh"
