#!/usr/bin/env bash
# 0065-redis-wait-replica: redis.wait.replicas with one Redis and its
# replica. While the replica runs, the consumer's batches are stored (WAIT
# 1 answers 1). With the replica killed, WAIT answers 0: the consumer
# counts short WAITs (followcdc_apply_wait_short_total), keeps the writes
# and stores no offset (followcdc_consumer_batches_total stands still).
# The replica comes back (empty, full resync): the held batch is sent
# again and stored, and both the primary and the replica equal MySQL.
set -u
. "$(dirname "$0")/../lib/harness.sh"
h_init
. "$(dirname "$0")/../lib/e2e.sh"
e_require "$E_PBIN" "$E_CBIN"
E_SERVER_ID=5065

h_start_mariadb
h_start_redis
h_start_broker
PRIMARY=$H_REDIS_PORT
REPLICA=$(h_free_port)
mkdir -p "$H_DIR/replica"
replica_start() {
        setsid redis-server --bind 127.0.0.1 --port "$REPLICA" \
                --dir "$H_DIR/replica" --save "" --appendonly no \
                --daemonize no --logfile "$H_DIR/replica/redis.log" \
                --replicaof 127.0.0.1 "$PRIMARY" </dev/null >/dev/null 2>&1 &
        RPID=$!
        h_track_pid "$RPID"
        h_wait_for "redis-cli -p $REPLICA info replication | grep -q master_link_status:up" 30 ||
                h_fail "replica did not sync"
}
replica_start

metric() {
        curl -fsS "http://127.0.0.1:$hp/metrics" 2>/dev/null |
                awk -v n="$1" '$1 == n {v = $2} END {print v + 0}'
}
e_producer a
h_wait_for "grep -q 'streaming from' '$H_DIR/p-a.log'" 30 ||
        h_fail "producer did not start streaming"
hp=$(h_free_port)
e_consumer a --http.listen="127.0.0.1:$hp" --redis.wait.replicas=1 \
        --redis.wait.timeout.ms=200 --redis.timeout.ms=2000
out=$("$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" \
        --users 30 --ops 600 --concurrency 3 --seed 65) ||
        h_fail "workload failed: $out"
e_converged "with the replica up" 60
[ "$(metric followcdc_apply_wait_short_total)" = 0 ] ||
        h_fail "short WAITs while the replica was up"

kill -KILL "$RPID"
wait "$RPID" 2>/dev/null
h_log "replica killed"
out=$("$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" \
        --users 30 --ops 300 --concurrency 3 --seed 650 --req-prefix down) ||
        h_fail "workload failed: $out"
h_wait_for "[ \$(metric followcdc_apply_wait_short_total) -gt 0 ]" 30 ||
        h_fail "no short WAIT counted without a replica"
b0=$(metric followcdc_consumer_batches_total)
w0=$(metric followcdc_apply_wait_short_total)
h_wait_for "[ \$(metric followcdc_apply_wait_short_total) -ge $((w0 + 3)) ]" 60 ||
        h_fail "the consumer stopped retrying"
b1=$(metric followcdc_consumer_batches_total)
[ "$b1" = "$b0" ] || h_fail "batches stored without a replica: $b0 -> $b1"

replica_start
h_log "replica back"
h_wait_for "[ \$(metric followcdc_consumer_batches_total) -gt $b1 ]" 60 ||
        h_fail "held batch not stored after the replica came back"
e_converged "after the replica came back" 60
H_REDIS_PORT=$REPLICA e_converged "on the replica" 60
e_stop c-a || h_fail "consumer exited $E_RC on SIGTERM"
e_stop p-a || h_fail "producer exited $E_RC on SIGTERM"
h_pass "redis.wait.replicas=1: offsets held while no replica acknowledged ($w0+ short WAITs), converged after"
