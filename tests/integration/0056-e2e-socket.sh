#!/usr/bin/env bash
# 0056-e2e-socket: the pipeline with every MySQL connection over the unix
# socket (producer: mysql.socket, consumer reaper: reaper.mysql.socket),
# host left at its default. A short workload, then Redis must equal MySQL
# and the reaper must have deleted the expired succeeded rows.
set -u
. "$(dirname "$0")/../lib/harness.sh"
h_init

E_PY=/usr/bin/python3
E_WL=$CDC_SOURCE_DIR/scripts/demo-workload.py
E_CHECK=$CDC_SOURCE_DIR/scripts/check-converged.py
E_PBIN=$CDC_BUILD_DIR/bin/followcdc-producer
E_CBIN=$CDC_BUILD_DIR/bin/followcdc-consumer
declare -A E_PID=()

[ -x "$E_PBIN" ] || h_fail "$E_PBIN is not built"
[ -x "$E_CBIN" ] || h_fail "$E_CBIN is not built"

e_cleanup() {
        local rc=$? n
        for n in "${!E_PID[@]}"; do
                kill -KILL "${E_PID[$n]}" 2>/dev/null
                wait "${E_PID[$n]}" 2>/dev/null
        done
        if [ "$rc" -ne 0 ] || [ -n "${H__FAILED:-}" ]; then
                for n in "$H_DIR"/p-*.log "$H_DIR"/c-*.log; do
                        [ -f "$n" ] || continue
                        echo "---- $n (tail)" >&2
                        tail -n 30 "$n" >&2
                done
        fi
        (exit "$rc")
        h__cleanup
}
trap e_cleanup EXIT

# e_producer NAME [FLAGS...]: a producer connecting over the unix socket
e_producer() {
        local name=$1
        shift
        cat >"$H_DIR/producer.conf" <<EOF
mysql.socket=$H_MYSQL_SOCK
mysql.user=$H_PRODUCER_USER
mysql.password=$H_PRODUCER_PASS
mysql.db=$H_MYSQL_DB
mysql.server.id=5601
kafka.bootstrap.servers=$H_KAFKA_BOOTSTRAP
checkpoint.store=kafka
checkpoint.interval.ms=200
EOF
        "$E_PBIN" -c "$H_DIR/producer.conf" "$@" </dev/null \
                >>"$H_DIR/p-$name.log" 2>&1 &
        E_PID[p-$name]=$!
        echo "${E_PID[p-$name]}" >>"$H_DIR/.pids"
        h_log "producer $name started: pid ${E_PID[p-$name]}"
}

# e_consumer NAME [FLAGS...]
e_consumer() {
        local name=$1
        shift
        "$E_CBIN" --kafka.bootstrap.servers="$H_KAFKA_BOOTSTRAP" \
                --kafka.session.timeout.ms=6000 \
                --kafka.heartbeat.interval.ms=500 \
                --kafka.auto.commit.interval.ms=500 \
                --redis.port="$H_REDIS_PORT" --batch.ms=20 \
                --shutdown.timeout.ms=5000 "$@" </dev/null \
                >>"$H_DIR/c-$name.log" 2>&1 &
        E_PID[c-$name]=$!
        echo "${E_PID[c-$name]}" >>"$H_DIR/.pids"
        h_log "consumer $name started: pid ${E_PID[c-$name]}"
}

# e_stop KEY: SIGTERM, wait; returns the exit code
e_stop() {
        local pid=${E_PID[$1]} rc=0
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" || rc=$?
        unset "E_PID[$1]"
        h_log "$1 exited $rc"
        return "$rc"
}

e_check() {
        "$E_PY" "$E_CHECK" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" \
                --redis-port "$H_REDIS_PORT" "$@"
}

h_start_mariadb
h_start_redis
h_start_broker

e_producer a
e_consumer a --reaper.enable=true --reaper.mysql.socket="$H_MYSQL_SOCK" \
        --reaper.mysql.user="$H_CONSUMER_USER" \
        --reaper.mysql.password="$H_CONSUMER_PASS" --reaper.interval=1s
if ! h_wait_for "grep -q 'streaming from' '$H_DIR/p-a.log'" 20; then
        h_fail "producer over the socket did not start streaming: $(grep -m1 -i 'connect' "$H_DIR/p-a.log")"
fi
"$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" --users 20 \
        --ops 500 --concurrency 2 --seed 56 >/dev/null ||
        h_fail "workload failed"
h_wait_for "[ \$(h_mysql \"SELECT COUNT(*) FROM idempotent_log WHERE status = 2
        AND created_at < UTC_TIMESTAMP() - INTERVAL 7 DAY\") = 0 ]" 30 ||
        h_fail "the reaper over the socket deleted nothing"
if ! res=$(e_check --wait 60); then
        echo "$res"
        h_fail "Redis did not converge to MySQL"
fi
echo "$res"
e_stop c-a || h_fail "consumer exited $? on SIGTERM"
e_stop p-a || h_fail "producer exited $? on SIGTERM"
h_pass "producer and reaper over the unix socket"
