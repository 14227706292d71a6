#!/usr/bin/env bash
# 0051-e2e-crash: the whole pipeline under crashes. While
# scripts/demo-workload.py writes continuously on three connections, the
# producer is killed with SIGKILL three times and restarted from its
# checkpoint file, each of the two consumers is killed with SIGKILL and
# restarted, and Redis is killed with SIGKILL twice and restarted.
# Redis runs with persistence on (appendonly, appendfsync always), so a
# write it acknowledged survives the kill; the consumer reconnects and
# goes on from its committed offsets (no replay). In the end
# scripts/check-converged.py must find Redis equal to MySQL.
# (Redis without persistence loses everything on a kill: that case is the
# replay of 0050, FLUSHALL + a consumer from the earliest offsets.)
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

# e_producer NAME: start a producer (checkpoint in a file) in the background
e_producer() {
        local name=$1
        cat >"$H_DIR/producer.conf" <<EOF
mysql.host=127.0.0.1
mysql.port=$H_MYSQL_PORT
mysql.user=$H_PRODUCER_USER
mysql.password=$H_PRODUCER_PASS
mysql.db=$H_MYSQL_DB
mysql.server.id=5050
kafka.bootstrap.servers=$H_KAFKA_BOOTSTRAP
checkpoint.store=file
checkpoint.file=$H_DIR/producer.ckpt
checkpoint.interval.ms=200
EOF
        "$E_PBIN" -c "$H_DIR/producer.conf" </dev/null \
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
h_start_redis --appendonly appendfsync always
h_start_broker

e_producer a
h_wait_for "grep -q 'streaming from' '$H_DIR/p-a.log'" 30 ||
        h_fail "producer did not start streaming"
e_consumer a
e_consumer b

"$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" --users 40 \
        --concurrency 3 --seed 51 --duration 30 --rate 80 \
        >"$H_DIR/workload.out" 2>&1 </dev/null &
E_PID[wl]=$!
h_log "workload started: pid ${E_PID[wl]}"

# e_kill9 KEY: SIGKILL one of our processes and reap it
e_kill9() {
        kill -KILL "${E_PID[$1]}" 2>/dev/null
        wait "${E_PID[$1]}" 2>/dev/null
        unset "E_PID[$1]"
        h_log "$1 killed (SIGKILL)"
}

sleep 3
h_wait_for "[ -s '$H_DIR/producer.ckpt' ]" 30 ||
        h_fail "producer a wrote no checkpoint"
e_kill9 p-a
sleep 1
e_producer b
sleep 3
e_kill9 c-a
e_consumer a2
sleep 3
keys=$(h_redis DBSIZE)
h_kill9 redis
sleep 1
h_restart redis
[ "$keys" = 0 ] || [ "$(h_redis DBSIZE)" -gt 0 ] ||
        h_fail "Redis came back empty (persistence?)"
sleep 3
e_kill9 p-b
e_producer c
sleep 3
e_kill9 c-b
e_kill9 p-c
e_producer d
e_consumer b2
sleep 3
h_kill9 redis
h_restart redis

wait "${E_PID[wl]}" || h_fail "workload failed: $(cat "$H_DIR/workload.out")"
unset "E_PID[wl]"
h_log "$(cat "$H_DIR/workload.out")"
for p in a2 b2; do
        kill -0 "${E_PID[c-$p]}" 2>/dev/null || h_fail "consumer $p died"
done
kill -0 "${E_PID[p-d]}" 2>/dev/null || h_fail "producer d died"
grep -q 'no checkpoint' "$H_DIR/p-b.log" &&
        h_fail "restarted producer found no checkpoint"

if ! res=$(e_check --wait 90); then
        echo "$res"
        h_fail "Redis did not converge to MySQL after the crashes"
fi
echo "$res"
edges=$(h_mysql "SELECT COUNT(*) FROM follow WHERE status = 1")
e_stop c-a2 || h_fail "consumer a2 exited $? on SIGTERM"
e_stop c-b2 || h_fail "consumer b2 exited $? on SIGTERM"
e_stop p-d || h_fail "producer d exited $? on SIGTERM"
h_pass "converged after 3 producer, 2 consumer and 2 Redis SIGKILLs ($edges edges)"
