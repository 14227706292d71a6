#!/usr/bin/env bash
# 0050-e2e-converge: the whole pipeline. MariaDB -> followcdc-producer ->
# dev Kafka broker -> two followcdc-consumer group members -> Redis, fed by
# scripts/demo-workload.py on four concurrent connections (follows,
# unfollows, hard deletes, re-follows, simultaneous mutual follows,
# transactions, a rollback, idempotency rows, some already expired): a
# burst written before the consumers have joined, then paced writes.
# scripts/check-converged.py must find Redis equal to MySQL.
# Then the replay: stop the consumers, FLUSHALL, start a consumer in a new
# group from the earliest offsets: Redis is rebuilt from the topics alone.
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
h_start_redis
h_start_broker

e_producer a
h_wait_for "grep -q 'streaming from' '$H_DIR/p-a.log'" 30 ||
        h_fail "producer did not start streaming"
e_consumer a
e_consumer b

# a burst the consumers find as a backlog when they join the group ...
out=$("$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" \
        --users 40 --ops 2000 --concurrency 4 --seed 50 --odd-ids 0.2) ||
        h_fail "workload failed: $out"
h_log "$out"
# ... then paced writes they apply live
h_wait_for "grep -q 'assigned' '$H_DIR/c-a.log' '$H_DIR/c-b.log'" 30 ||
        h_fail "no consumer got partitions"
out=$("$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" \
        --users 40 --duration 5 --rate 150 --concurrency 4 --seed 500 \
        --req-prefix live) || h_fail "workload failed: $out"
h_log "$out"
edges=$(h_mysql "SELECT COUNT(*) FROM follow WHERE status = 1")
old=$(h_mysql "SELECT COUNT(*) FROM idempotent_log
               WHERE created_at < UTC_TIMESTAMP() - INTERVAL 7 DAY")
[ "$edges" -gt 100 ] || h_fail "workload left only $edges edges"
[ "$old" -gt 0 ] || h_fail "workload made no expired idempotency rows"
odd=$(h_mysql "SELECT COUNT(*) FROM idempotent_log
               WHERE request_id REGEXP '[^-a-z0-9]'")
[ "$odd" -gt 10 ] || h_fail "workload made only $odd odd request ids"

if ! res=$(e_check --wait 90); then
        echo "$res"
        h_fail "Redis did not converge to MySQL"
fi
echo "$res"
show=$("$E_PY" "$E_CHECK" --redis-port "$H_REDIS_PORT" --show 1 --limit 3) ||
        h_fail "--show failed"
grep -q "following" <<<"$show" || h_fail "--show printed: $show"

# replay: Redis rebuilt from the topics alone
e_stop c-a || h_fail "consumer a exited $? on SIGTERM"
e_stop c-b || h_fail "consumer b exited $? on SIGTERM"
h_redis FLUSHALL >/dev/null
[ "$(h_redis DBSIZE)" = 0 ] || h_fail "FLUSHALL left keys"
e_consumer r --kafka.group.id=followcdc-e2e-replay --replay=earliest
if ! res=$(e_check --wait 90); then
        echo "$res"
        h_fail "replay from earliest did not rebuild Redis"
fi
echo "$res"
e_stop c-r || h_fail "replay consumer exited $? on SIGTERM"
e_stop p-a || h_fail "producer exited $? on SIGTERM"
h_pass "converged live and after a replay: $edges edges, $old expired and $odd odd idempotency rows"
