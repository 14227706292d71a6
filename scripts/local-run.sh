#!/usr/bin/env bash
# Bring up the followcdc local stack in the foreground: MariaDB (ROW binlog,
# FULL metadata, GTID), Redis (appendonly) and the dev Kafka broker, on
# fixed loopback ports, then the producer, the consumer and the demo once
# they are built. Ctrl-C or SIGTERM stops everything this script started.
#
# Usage: scripts/local-run.sh [--no-build] [--help]
#   --no-build   skip scripts/deps.sh and the build (use what is in the
#                build directory)
#
# Environment (defaults in brackets):
#   FOLLOWCDC_LOCAL_DIR         data and logs [/var/tmp/followcdc-local];
#                               MariaDB and Redis data survive restarts,
#                               remove the directory for a fresh start
#   FOLLOWCDC_LOCAL_MYSQL_PORT  MariaDB TCP port [13306]
#   FOLLOWCDC_LOCAL_REDIS_PORT  Redis port [16379]
#   FOLLOWCDC_LOCAL_BUILD_DIR   build directory [build]
#   FOLLOWCDC_LOCAL_BROKERS     dev broker cluster size [3]
#   FOLLOWCDC_LOCAL_PRODUCER_HTTP  producer /metrics /healthz /readyz
#                               [127.0.0.1:19187]
#   FOLLOWCDC_LOCAL_CONSUMER_HTTP  consumer /metrics /healthz /readyz
#                               [127.0.0.1:19188]
# The dev broker is in memory and its ports are random (librdkafka 2.0.2
# cannot pin them): the address is printed and written to env.sh, whose
# CDC_LOCAL_* variables hold every address and account for other shells.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${FOLLOWCDC_LOCAL_BUILD_DIR:-build}
case "$build_dir" in
/*) ;;
*) build_dir=$src/$build_dir ;;
esac
do_build=1

usage() {
        # the header comment, up to the first line that is not one
        awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

while [ "$#" -gt 0 ]; do
        case "$1" in
        --no-build) do_build=0 ;;
        -h | --help) usage; exit 0 ;;
        *)
                echo "local-run: unknown argument '$1'" >&2
                usage >&2
                exit 2
                ;;
        esac
        shift
done

export CDC_SOURCE_DIR=$src
export CDC_BUILD_DIR=$build_dir
# harness knobs: persistent directory, fixed ports
export H_PERSIST_DIR=${FOLLOWCDC_LOCAL_DIR:-/var/tmp/followcdc-local}
export H_WANT_MYSQL_PORT=${FOLLOWCDC_LOCAL_MYSQL_PORT:-13306}
export H_WANT_REDIS_PORT=${FOLLOWCDC_LOCAL_REDIS_PORT:-16379}
BROKERS=${FOLLOWCDC_LOCAL_BROKERS:-3}

# shellcheck source=tests/lib/harness.sh
. "$src/tests/lib/harness.sh"
# shellcheck disable=SC2034 # read by the harness (log prefix)
H_NAME=local-run

# ---- stages --------------------------------------------------------------

stage_deps() {
        "$src/scripts/deps.sh"
}

stage_build() {
        h_log "building in $build_dir"
        mkdir -p "$build_dir"
        cmake -S "$src" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
                >"$build_dir/configure.log" 2>&1 ||
                { tail -n 30 "$build_dir/configure.log" >&2;
                  h_fail "configure failed"; }
        cmake --build "$build_dir" -j "$(nproc)" >"$build_dir/build.log" 2>&1 ||
                { grep -E -A5 'error' "$build_dir/build.log" | head -n 40 >&2;
                  h_fail "build failed (log: $build_dir/build.log)"; }
}

stage_servers() {
        local p
        for p in "$H_WANT_MYSQL_PORT" "$H_WANT_REDIS_PORT"; do
                if h__port_busy "$p"; then
                        h_fail "port $p is in use (another local stack?" \
                                "set FOLLOWCDC_LOCAL_*_PORT)"
                fi
        done
        h_init
        h_start_mariadb
        h_start_redis --appendonly
        h_start_broker --brokers "$BROKERS"
}

# Values for other shells: `. $H_DIR/env.sh`. Not FOLLOWCDC_*: the
# binaries read every FOLLOWCDC_* variable as one of their settings.
stage_env_file() {
        {
                echo "# followcdc local stack (scripts/local-run.sh)"
                echo "export CDC_LOCAL_MYSQL_HOST=127.0.0.1"
                echo "export CDC_LOCAL_MYSQL_PORT=$H_MYSQL_PORT"
                echo "export CDC_LOCAL_MYSQL_SOCKET=$H_MYSQL_SOCK"
                echo "export CDC_LOCAL_MYSQL_DB=$H_MYSQL_DB"
                echo "export CDC_LOCAL_PRODUCER_USER=$H_PRODUCER_USER"
                echo "export CDC_LOCAL_PRODUCER_PASSWORD=$H_PRODUCER_PASS"
                echo "export CDC_LOCAL_CONSUMER_USER=$H_CONSUMER_USER"
                echo "export CDC_LOCAL_CONSUMER_PASSWORD=$H_CONSUMER_PASS"
                echo "export CDC_LOCAL_REDIS_PORT=$H_REDIS_PORT"
                echo "export CDC_LOCAL_KAFKA_BOOTSTRAP=$H_KAFKA_BOOTSTRAP"
                echo "export CDC_LOCAL_BROKER_CONTROL=$H_BROKER_CTL"
        } >"$H_DIR/env.sh"
}

print_access() {
        cat <<EOF

followcdc local stack is up (data: $H_DIR)

  MariaDB   mariadb --no-defaults -S $H_MYSQL_SOCK -uroot $H_MYSQL_DB
            mariadb --no-defaults -h127.0.0.1 -P$H_MYSQL_PORT -u$H_PRODUCER_USER -p$H_PRODUCER_PASS
            (consumer account: $H_CONSUMER_USER / $H_CONSUMER_PASS)
  Redis     redis-cli -p $H_REDIS_PORT
  Kafka     kcat -b $H_KAFKA_BOOTSTRAP -L
            faults: $CDC_BUILD_DIR/bin/followcdc-devbroker ctl --control $H_BROKER_CTL ping
  Env       . $H_DIR/env.sh
  Logs      $H_DIR/{mariadb/error.log,redis/redis.log,broker/broker.log}

Press Ctrl-C to stop everything.
EOF
}

# ---- pipeline ------------------------------------------------------------
# Long-running processes run in the background with their output in
# $H_DIR/<name>.log, in their own session (setsid) so Ctrl-C reaches only
# this script, and are registered with h_track_pid: the trap stops them
# (SIGTERM: flush, checkpoint, commit) before the servers they need.

PRODUCER_HTTP=${FOLLOWCDC_LOCAL_PRODUCER_HTTP:-127.0.0.1:19187}
CONSUMER_HTTP=${FOLLOWCDC_LOCAL_CONSUMER_HTTP:-127.0.0.1:19188}

start_producer() {
        # The position lives in the (in-memory) dev broker: a new stack
        # starts with a fresh snapshot of the tables, which MariaDB keeps.
        printf '%s\n' "$H_PRODUCER_PASS" >"$H_DIR/producer.secret"
        chmod 600 "$H_DIR/producer.secret"
        cat >"$H_DIR/producer.conf" <<EOF
# written by scripts/local-run.sh
mysql.host=127.0.0.1
mysql.port=$H_MYSQL_PORT
mysql.user=$H_PRODUCER_USER
mysql.password=file:$H_DIR/producer.secret
mysql.db=$H_MYSQL_DB
mysql.server.id=7001
source.name=followcdc
checkpoint.store=kafka
snapshot.mode=initial
http.listen=$PRODUCER_HTTP
kafka.bootstrap.servers=$H_KAFKA_BOOTSTRAP
EOF
        setsid "$CDC_BUILD_DIR/bin/followcdc-producer" -c "$H_DIR/producer.conf" \
                </dev/null >>"$H_DIR/producer.log" 2>&1 &
        h_track_pid $!
        h_wait_for "[ \"\$(curl -fs http://$PRODUCER_HTTP/readyz)\" = 'ready: active, streaming' ]" 60 ||
                { tail -n 20 "$H_DIR/producer.log" >&2;
                  h_fail "the producer did not start streaming"; }
        h_log "producer: streaming (log $H_DIR/producer.log," \
                "http://$PRODUCER_HTTP/metrics)"
}

start_consumer() {
        printf '%s\n' "$H_CONSUMER_PASS" >"$H_DIR/consumer.secret"
        chmod 600 "$H_DIR/consumer.secret"
        cat >"$H_DIR/consumer.conf" <<EOF
# written by scripts/local-run.sh
source.name=followcdc
source.db=$H_MYSQL_DB
kafka.bootstrap.servers=$H_KAFKA_BOOTSTRAP
kafka.group.id=followcdc-redis
# the dev broker waits session.timeout.ms - 1 s on group changes
kafka.session.timeout.ms=6000
# and answers a fetch that found nothing only after fetch.wait.max.ms
# (500 ms by default; a real broker answers as soon as a message comes):
# without this each change would wait up to half a second
kafka.fetch.wait.max.ms=5
redis.host=127.0.0.1
redis.port=$H_REDIS_PORT
reaper.enable=true
reaper.mysql.host=127.0.0.1
reaper.mysql.port=$H_MYSQL_PORT
reaper.mysql.user=$H_CONSUMER_USER
reaper.mysql.password=file:$H_DIR/consumer.secret
reaper.interval=30s
http.listen=$CONSUMER_HTTP
EOF
        setsid "$CDC_BUILD_DIR/bin/followcdc-consumer" -c "$H_DIR/consumer.conf" \
                </dev/null >>"$H_DIR/consumer.log" 2>&1 &
        h_track_pid $!
        h_log "consumer: started (log $H_DIR/consumer.log," \
                "http://$CONSUMER_HTTP/metrics)"
}

run_demo() {
        local py=/usr/bin/python3 out seed
        seed=$(date +%s)
        h_log "demo: a small workload on 2 connections"
        out=$("$py" "$src/scripts/demo-workload.py" --socket "$H_MYSQL_SOCK" \
                --db "$H_MYSQL_DB" --users 20 --ops 400 --concurrency 2 \
                --seed "$seed" --req-prefix "demo-$seed") ||
                { echo "$out" >&2; h_fail "demo workload failed"; }
        echo "$out"
        h_log "demo: waiting until Redis equals MySQL"
        "$py" "$src/scripts/check-converged.py" --socket "$H_MYSQL_SOCK" \
                --db "$H_MYSQL_DB" --redis-port "$H_REDIS_PORT" --wait 120 ||
                h_fail "Redis did not converge (logs: $H_DIR/*.log)"
        echo
        "$py" "$src/scripts/check-converged.py" --redis-port "$H_REDIS_PORT" \
                --show 1 --limit 5 || true
        cat <<EOF

Try it: write to MySQL, read Redis.
  mariadb --no-defaults -S $H_MYSQL_SOCK -uroot $H_MYSQL_DB -e \\
    "INSERT INTO follow (follower_id, followee_id, status) VALUES (1, 2, 1)
     ON DUPLICATE KEY UPDATE status = VALUES(status), version = version + 1"
  redis-cli -p $H_REDIS_PORT ZREVRANGE 'fc:{u:1}:following' 0 -1 WITHSCORES
  $py $src/scripts/check-converged.py --redis-port $H_REDIS_PORT --show 2

Prove Redis equals MySQL while it streams (exit 0 equal, 1 different):
  $CDC_BUILD_DIR/bin/followcdc-verify -c $H_DIR/consumer.conf \\
    --mysql.port=$H_MYSQL_PORT --mysql.user=$H_PRODUCER_USER \\
    --mysql.password=file:$H_DIR/producer.secret --full
  (--sample=20 --every=60s keeps checking, metrics on http.listen)

Press Ctrl-C to stop everything.
EOF
}

# Stay in the foreground until a signal (the harness trap then stops every
# process by PID) or until a server exits on its own.
stage_wait() {
        local pids=() n rc=0
        for n in mariadb redis broker; do
                pids+=("$(h_pid "$n")")
        done
        wait -n "${pids[@]}" || rc=$?
        h_fail "a server exited on its own (status $rc); see the logs above"
}

# ---- main ----------------------------------------------------------------

if [ "$do_build" = 1 ]; then
        stage_deps
        stage_build
fi
stage_servers
stage_env_file
print_access
if [ -x "$CDC_BUILD_DIR/bin/followcdc-producer" ]; then
        start_producer
fi
if [ -x "$CDC_BUILD_DIR/bin/followcdc-consumer" ]; then
        start_consumer
fi
if [ -x "$CDC_BUILD_DIR/bin/followcdc-producer" ] &&
   [ -x "$CDC_BUILD_DIR/bin/followcdc-consumer" ]; then
        run_demo
fi
stage_wait
