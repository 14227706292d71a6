#!/usr/bin/env bash
# 0053-e2e-failover: the pipeline across a producer failover, a MariaDB
# crash and Kafka broker faults. Two producers run for one source: one
# holds the lock, the other waits as a standby; checkpoints are in Kafka.
#  1. while the workload writes, the active producer is killed with
#     SIGKILL: the standby takes over from the Kafka checkpoint; the
#     killed one comes back as the new standby;
#  2. MariaDB is killed with SIGKILL and restarted (same data, binlog and
#     port): the producers reconnect and one streams on;
#  3. while the workload writes again, a Kafka broker goes down for a few
#     seconds, then produce requests fail with retriable errors.
# In the end scripts/check-converged.py must find Redis equal to MySQL.
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
# checkpoint is in Kafka (shared by the active and the standby instance)
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

# e_kill9 KEY: SIGKILL one of our processes and reap it
e_kill9() {
        kill -KILL "${E_PID[$1]}" 2>/dev/null
        wait "${E_PID[$1]}" 2>/dev/null
        unset "E_PID[$1]"
        h_log "$1 killed (SIGKILL)"
}
# e_streams NAME: how often producer NAME started streaming
e_streams() {
        grep -c 'BINLOG streaming from gtid' "$H_DIR/p-$1.log" 2>/dev/null
}
# e_workload REQ_PREFIX SEED SECS: continuous workload in the background
e_workload() {
        "$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" \
                --users 40 --concurrency 3 --rate 80 --req-prefix "$1" \
                --seed "$2" --duration "$3" >>"$H_DIR/workload.out" 2>&1 \
                </dev/null &
        E_PID[wl]=$!
}
e_workload_wait() {
        wait "${E_PID[wl]}" ||
                h_fail "workload failed: $(cat "$H_DIR/workload.out")"
        unset "E_PID[wl]"
}

e_producer a --mysql.server.id=5301
h_wait_for "grep -q 'streaming from' '$H_DIR/p-a.log'" 30 ||
        h_fail "producer a did not start streaming"
e_producer b --mysql.server.id=5302
e_consumer a
e_consumer b
sleep 2
[ "$(e_streams b)" = 0 ] || h_fail "producer b streams while a holds the lock"

# 1. producer failover
e_workload w1 531 12
sleep 4
e_kill9 p-a
h_wait_for "[ \$(e_streams b) -ge 1 ]" 30 ||
        h_fail "standby producer b did not take over"
grep -q 'CKPT resuming after' "$H_DIR/p-b.log" ||
        h_fail "producer b did not resume from the Kafka checkpoint"
e_producer a --mysql.server.id=5301
e_workload_wait
sleep 2
[ "$(e_streams a)" = 1 ] || h_fail "restarted producer a streams next to b"
if ! res=$(e_check --wait 60); then
        echo "$res"
        h_fail "Redis did not converge after the producer failover"
fi
h_log "failover: $(sed -n 3p <<<"$res")"

# 2. MariaDB crash
na=$(e_streams a) nb=$(e_streams b)
h_kill9 mariadb
sleep 2
h_restart mariadb
e_workload w2 532 6
e_workload_wait
h_wait_for "[ \$((\$(e_streams a) + \$(e_streams b))) -gt $((na + nb)) ]" 60 ||
        h_fail "no producer streams again after the MariaDB restart"
if ! res=$(e_check --wait 60); then
        echo "$res"
        h_fail "Redis did not converge after the MariaDB crash"
fi
h_log "mariadb crash: $(sed -n 3p <<<"$res")"

# 3. broker faults while writing
e_workload w3 533 10
sleep 2
h_broker_ctl broker-down 1 >/dev/null || h_fail "broker-down"
sleep 4
h_broker_ctl broker-up 1 >/dev/null || h_fail "broker-up"
h_broker_ctl request-errors Produce \
        NOT_LEADER_FOR_PARTITION,REQUEST_TIMED_OUT,NOT_ENOUGH_REPLICAS \
        >/dev/null || h_fail "request-errors"
e_workload_wait
h_log "$(grep -h '^demo-workload' "$H_DIR/workload.out" | tr '\n' ' ')"
if ! res=$(e_check --wait 90); then
        echo "$res"
        h_fail "Redis did not converge after the broker faults"
fi
echo "$res"
edges=$(h_mysql "SELECT COUNT(*) FROM follow WHERE status = 1")
for k in c-a c-b p-a p-b; do
        e_stop "$k" || h_fail "$k exited $? on SIGTERM"
done
h_pass "converged across a producer failover, a MariaDB crash and broker faults ($edges edges)"
