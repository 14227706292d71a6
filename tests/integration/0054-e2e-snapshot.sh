#!/usr/bin/env bash
# 0054-e2e-snapshot: snapshot and stream overlap. The tables already hold
# data when the producer first starts, and the workload keeps writing
# while the producer takes its initial snapshot (in chunks of 50 rows) and
# switches to the binlog: Redis must end up equal to MySQL. Then the
# producer restarts with a new snapshot on demand (--snapshot) and writes
# go on during it, over a Redis that already holds everything: the
# snapshot reads must not undo newer streamed changes. Last, Redis is flushed and rebuilt by a replay
# of the topics, which now hold two snapshots and the stream between.
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

# e_producer NAME [FLAGS...]: start a producer in the background; the
# checkpoint is in Kafka
e_producer() {
        local name=$1
        shift
        cat >"$H_DIR/producer.conf" <<EOF
mysql.host=127.0.0.1
mysql.port=$H_MYSQL_PORT
mysql.user=$H_PRODUCER_USER
mysql.password=$H_PRODUCER_PASS
mysql.db=$H_MYSQL_DB
kafka.bootstrap.servers=$H_KAFKA_BOOTSTRAP
checkpoint.store=kafka
checkpoint.interval.ms=200
lock.retry.ms=300
lock.check.ms=300
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

# e_workload REQ_PREFIX SEED SECS: continuous workload in the background
e_workload() {
        "$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" \
                --users 40 --concurrency 3 --rate 100 --req-prefix "$1" \
                --seed "$2" --duration "$3" >>"$H_DIR/workload.out" 2>&1 \
                </dev/null &
        E_PID[wl]=$!
}
e_workload_wait() {
        wait "${E_PID[wl]}" ||
                h_fail "workload failed: $(cat "$H_DIR/workload.out")"
        unset "E_PID[wl]"
}
e_converged() {
        if ! res=$(e_check --wait 90); then
                echo "$res"
                h_fail "Redis did not converge to MySQL $1"
        fi
        h_log "$1: $(sed -n 3p <<<"$res")"
}

# data that exists before followcdc
"$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" --users 40 \
        --ops 1500 --concurrency 2 --seed 54 --req-prefix pre \
        >>"$H_DIR/workload.out" 2>&1 || h_fail "initial workload failed"
rows=$(h_mysql "SELECT (SELECT COUNT(*) FROM follow) +
                       (SELECT COUNT(*) FROM idempotent_log)")

# 1. initial snapshot while writing
e_workload w1 541 8
sleep 1
e_producer a --mysql.server.id=5401 --snapshot.chunk.rows=50
e_consumer a
h_wait_for "grep -q 'streaming from' '$H_DIR/p-a.log'" 30 ||
        h_fail "producer did not finish its snapshot"
grep -q "rows read" "$H_DIR/p-a.log" || h_fail "no snapshot was taken"
e_workload_wait
e_converged "after the initial snapshot ($rows rows before start)"

# 2. a new snapshot on demand, over a full Redis, while writing
# (writes made while no producer runs are the subject of 0055)
e_stop p-a || h_fail "producer exited $? on SIGTERM"
e_producer b --mysql.server.id=5401 --snapshot.chunk.rows=50 --snapshot
e_workload w2 542 6
h_wait_for "grep -q 'streaming from' '$H_DIR/p-b.log'" 30 ||
        h_fail "producer did not finish the new snapshot"
grep -q "rows read" "$H_DIR/p-b.log" || h_fail "--snapshot took no snapshot"
e_workload_wait
e_converged "after the second snapshot"

# 3. replay of everything into an empty Redis
e_stop c-a || h_fail "consumer exited $? on SIGTERM"
h_redis FLUSHALL >/dev/null
e_consumer r --kafka.group.id=followcdc-e2e-replay --replay=earliest
e_converged "after the replay"
edges=$(h_mysql "SELECT COUNT(*) FROM follow WHERE status = 1")
e_stop c-r || h_fail "replay consumer exited $? on SIGTERM"
e_stop p-b || h_fail "producer exited $? on SIGTERM"
h_pass "snapshot/stream overlap, re-snapshot and replay converge ($edges edges)"
