#!/usr/bin/env bash
# 0034-apply-failover: with redis_wait_replicas = 1, every pipeline that
# cdc_apply_flush() acknowledges is on the replica too. A primary with one
# replica takes a stream of changes; the primary is killed (kill -9) and
# the replica promoted; it must hold exactly the state of the whole stream
# (compared key by key with the stream applied afresh into another db).
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" apply_tool
BIN=$CDC_BUILD_DIR/bin/apply_tool
h_start_redis
PRIMARY_PORT=$H_REDIS_PORT

# The replica is started here (the harness runs one Redis); it is killed by
# PID from this EXIT trap, before the harness cleanup runs, and listed for
# the harness watchdog.
REPLICA_PID=
apply_failover_cleanup() {
        local rc=$?
        set +e
        if [ -n "$REPLICA_PID" ]; then
                kill -KILL "$REPLICA_PID" 2>/dev/null
                wait "$REPLICA_PID" 2>/dev/null
        fi
        (exit "$rc")
        h__cleanup
}
trap apply_failover_cleanup EXIT
REPLICA_PORT=$(h_free_port)
mkdir -p "$H_DIR/replica"
redis-server --bind 127.0.0.1 --port "$REPLICA_PORT" --dir "$H_DIR/replica" \
        --save "" --appendonly no --daemonize no \
        --logfile "$H_DIR/replica/redis.log" \
        --replicaof 127.0.0.1 "$PRIMARY_PORT" </dev/null &
REPLICA_PID=$!
echo "$REPLICA_PID" >>"$H_DIR/.pids"
h_wait_for "redis-cli -p $REPLICA_PORT info replication | grep -q master_link_status:up" 30 ||
        h_fail "replica did not sync"

N=3000
NOW_MS=$(date +%s%3N)   # created_at of the idempotency rows, both runs
"$BIN" failover-write "$N" "$NOW_MS" || h_fail "failover-write"
h_kill9 redis
echo "$REPLICA_PID" >>"$H_DIR/.pids"
[ "$(redis-cli -p "$REPLICA_PORT" replicaof no one)" = OK ] ||
        h_fail "promotion failed"
H_REDIS_PORT=$REPLICA_PORT "$BIN" failover-check "$N" "$NOW_MS" ||
        h_fail "acknowledged writes lost in the failover"
h_pass "apply failover: WAIT-acknowledged writes survive a primary kill -9"
