#!/usr/bin/env bash
# 0025-producer-purged: the binlog is purged past the saved position while
# the producer is down. It must refuse to continue (exit 3, naming the fix)
# instead of silently skipping changes; `--snapshot` recovers; and with
# snapshot.mode=when_needed it re-snapshots by itself. Afterwards every
# key's story (snapshot read + later changes) matches the committed state.
# (Hard deletes inside the purged window can't be seen by any snapshot, so
# the workload there only inserts and updates.)
# brokers: dev kafka
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" producer
h_start_mariadb
h_start_broker
p_audit_setup
p_workload 1 100

# A file still read by a dump thread is not purged (the server may not
# have noticed the stopped producer yet): retry until it is gone.
purge() {
        local last first i
        h_mysql "FLUSH BINARY LOGS"
        last=$(h_mysql "SHOW BINARY LOGS" | tail -n 1 | cut -f1)
        for i in $(seq 1 20); do
                h_mysql "PURGE BINARY LOGS TO '$last'" 2>/dev/null || true
                first=$(h_mysql "SHOW BINARY LOGS" | head -n 1 | cut -f1)
                [ "$first" = "$last" ] && break
                sleep 0.5
        done
        [ "$first" = "$last" ] || h_fail "could not purge the binlogs"
        h_log "binlogs purged up to $last"
}

p_conf p1 "checkpoint.store=file" "checkpoint.file=$H_DIR/ckpt.json"
p_start p1
p_wait_state p1 streaming 60 || h_fail "producer did not start"
p_workload 2 200
p_wait_check 60 || h_fail "initial stream differs"
p_stop p1 TERM

# ---- purged while down: refuse, exit 3 ----
p_workload 3 200 --no-deletes
purge
p_workload 4 50 --no-deletes
p_start p1
h_wait_for "! kill -0 ${P_PID[p1]} 2>/dev/null" 60 ||
        h_fail "producer kept running on a purged position"
p_stop p1 TERM
[ "$P_RC" = 3 ] || h_fail "exit status $P_RC on a purged position, want 3"
grep -q -- "--snapshot" "$H_DIR/p1.log" || h_fail "the log does not name the fix"

# ---- --snapshot recovers ----
# p1.log keeps the earlier runs' lines: wait for this run's stream. The
# old position is purged, so the stream falls back to the snapshot
# position, and a row hard-deleted before that position is gone for good
# (its delete is in the purged window): workload 5, which deletes, must
# not start before the stream of this run is open.
p_start p1 --snapshot
p_wait_state p1 streaming 60 || h_fail "--snapshot did not stream"
# the old position was purged: the stream fell back to the snapshot's
[ "$(p_metric p1 followcdc_producer_snapshots_total)" = 1 ] &&
        [ "$(p_metric p1 followcdc_producer_positions_purged_total)" = 1 ] ||
        h_fail "--snapshot did not fall back to the snapshot position"
p_workload 5 200
p_wait_check 60 || h_fail "after --snapshot: Kafka differs from the committed state"
p_stop p1 TERM

# ---- snapshot.mode=when_needed re-snapshots by itself ----
p_workload 6 200 --no-deletes
purge
p_conf p1 "checkpoint.store=file" "checkpoint.file=$H_DIR/ckpt.json" \
        "snapshot.mode=when_needed"
p_start p1
p_wait_metric p1 followcdc_producer_positions_purged_total -ge 1 60 ||
        h_fail "when_needed did not find the position purged"
p_wait_metric p1 followcdc_producer_snapshots_total -eq 1 60 ||
        h_fail "when_needed did not re-snapshot"
p_wait_state p1 streaming 30 || h_fail "no stream after the new snapshot"
p_workload 7 200
p_wait_check 60 || h_fail "after when_needed: Kafka differs from the committed state"
p_check --stats
p_stop p1 TERM
[ "$P_RC" = 0 ] || h_fail "SIGTERM exit status $P_RC"
h_pass "purged binlog: refused with exit 3, recovered by --snapshot and when_needed"
