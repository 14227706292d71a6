#!/usr/bin/env bash
# 0027-producer-resnapshot-faults: with snapshot.mode=when_needed, a stream
# whose position disappears mid-stream (server error 1236, answered to the
# binlog dump by tests/integration/mysql_fault_proxy.py) takes a new
# snapshot. Faults during that snapshot must be handled like anywhere else:
#   1. its connection is killed (a transient MySQL error): back off and
#      carry on (it used to exit with status 0);
#   2. the source lock is lost meanwhile: stop, stand by, take the lock
#      again (it used to exit with status 0).
# The snapshot is held on the table's metadata lock (LOCK TABLES ... WRITE
# in another session) while the fault is made. Kafka must still hold
# exactly the committed changes afterwards.
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" producer
h_start_mariadb
h_start_broker
p_audit_setup
# more than 1024 rows: the snapshot checks the lock every 1024 rows
h_mysql "INSERT INTO follow (follower_id, followee_id, status)
         SELECT seq, seq + 1, 1 FROM seq_1_to_3000" || h_fail "rows"

# every connection of the producer goes through the proxy
pport=$(h_free_port) || h_fail "no free port"
"$P_PY" "$P_DIR/mysql_fault_proxy.py" --listen "$pport" \
        --to "127.0.0.1:$H_MYSQL_PORT" --control "$H_DIR/inject" \
        >"$H_DIR/proxy.log" 2>&1 &
h_track_pid $!
h_wait_for "grep -q listening '$H_DIR/proxy.log'" 10 || h_fail "proxy"

p_conf p1 "mysql.host=127.0.0.1" "mysql.port=$pport" \
        "checkpoint.store=file" "checkpoint.file=$H_DIR/ckpt.json" \
        "checkpoint.interval.ms=100" "snapshot.mode=when_needed" \
        "snapshot.chunk.rows=100" "lock.check.ms=100" "lock.retry.ms=300"

# lock_follow: hold follow's metadata lock in a session of its own (the
# next snapshot waits for it) until unlock_follow
locker_id() {
        h_mysql "SELECT ID FROM information_schema.PROCESSLIST
                 WHERE INFO = 'SELECT SLEEP(300)' LIMIT 1"
}
lock_follow() {
        h_mysql "LOCK TABLES follow WRITE; SELECT SLEEP(300)" \
                >/dev/null 2>&1 &
        locker=$!
        h_wait_for "[ -n \"\$(locker_id)\" ]" 10 || h_fail "locker"
}
unlock_follow() {
        h_mysql "KILL $(locker_id)" || true
        wait "$locker" 2>/dev/null || true
}
# snapshot_waiting: the connection id of the producer's snapshot, waiting
# for follow's metadata lock
snapshot_waiting() {
        h_mysql "SELECT ID FROM information_schema.PROCESSLIST
                 WHERE USER = '$H_PRODUCER_USER'
                   AND STATE LIKE '%metadata lock%' LIMIT 1"
}
# re_snapshot: make the stream's position vanish; wait until the new
# snapshot waits for the table
re_snapshot() {
        lock_follow
        echo "1236 binlog position gone (injected by the test)" \
                >"$H_DIR/inject"
        h_wait_for "[ -e '$H_DIR/inject.done' ]" 30 ||
                h_fail "the 1236 was not injected"
        rm -f "$H_DIR/inject.done"
        h_wait_for "[ -n \"\$(snapshot_waiting)\" ]" 30 ||
                h_fail "no snapshot started after the position vanished"
}
# still_running WHAT: the producer survived and streams every committed
# change again
still_running() {
        local i
        for i in $(seq 1 15); do
                if ! p_alive p1; then
                        p_stop p1
                        h_fail "$1: the producer exited with status $P_RC"
                fi
                sleep 0.2
        done
        p_workload "$2" 100
        p_wait_check 60 || h_fail "$1: Kafka differs from the committed changes"
        p_alive p1 || h_fail "$1: the producer exited"
}

p_start p1
p_wait_state p1 streaming 60 || h_fail "producer did not start streaming"
p_workload 1 100
h_wait_for "[ -s '$H_DIR/ckpt.json' ]" 30 || h_fail "no checkpoint written"
p_wait_check 60 || h_fail "initial stream differs"

# 1. the snapshot's connection is killed
re_snapshot
h_mysql "KILL CONNECTION $(snapshot_waiting)" || h_fail "kill the snapshot"
unlock_follow
still_running "a transient error during the re-snapshot" 2
h_log "killed snapshot connection: ok"

# 2. the source lock is lost while the snapshot runs
re_snapshot
conn=$(h_mysql "SELECT IS_USED_LOCK('followcdc:followcdc')")
[ -n "$conn" ] && [ "$conn" != NULL ] || h_fail "nobody holds the lock"
h_mysql "KILL CONNECTION $conn" || h_fail "kill the lock connection"
unlock_follow
still_running "a lock lost during the re-snapshot" 3
h_log "lost lock: ok"

p_check --stats
p_stop p1 TERM
[ "$P_RC" = 0 ] || h_fail "SIGTERM exit status $P_RC, want 0"
h_pass "faults during a when_needed re-snapshot: backed off / stood by, nothing lost"
