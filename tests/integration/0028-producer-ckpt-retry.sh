#!/usr/bin/env bash
# 0028-producer-ckpt-retry: a checkpoint save that fails is tried again
# (every checkpoint.interval.ms) until it succeeds, also when nothing new
# is acknowledged meanwhile. It used to be marked saved before the save
# succeeded, so the position stayed unsaved until the next acknowledgement
# (here: never - no heartbeats, no other writes).
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" producer
h_start_mariadb
h_start_broker

mkdir "$H_DIR/ck"
p_conf p1 "checkpoint.store=file" "checkpoint.file=$H_DIR/ck/p.ckpt" \
        "checkpoint.interval.ms=200" "mysql.heartbeat.ms=0" \
        "lock.enabled=false"
p_start p1
p_wait_state p1 streaming 60 || h_fail "producer did not start streaming"
h_mysql "INSERT INTO follow (follower_id, followee_id) VALUES (1, 2)"
h_wait_for "grep -q position '$H_DIR/ck/p.ckpt'" 30 ||
        h_fail "no checkpoint written"

# the directory goes away: saves fail from now on
mv "$H_DIR/ck" "$H_DIR/ck.gone"
acked=$(p_metric p1 followcdc_producer_events_acked_total)
h_mysql "INSERT INTO follow (follower_id, followee_id) VALUES (3, 4)"
p_wait_metric p1 followcdc_producer_events_acked_total -gt "$acked" 30 ||
        h_fail "the new row was not acknowledged"
sleep 1 # a few failed attempts
[ ! -e "$H_DIR/ck/p.ckpt" ] || h_fail "saved into a missing directory?"

# it comes back: the same position is saved without any new change
mkdir "$H_DIR/ck"
h_wait_for "grep -q position '$H_DIR/ck/p.ckpt'" 10 ||
        h_fail "the failed checkpoint save was not retried"
pos() { grep -o '"position":"[^"]*"' "$1"; }
[ "$(pos "$H_DIR/ck/p.ckpt")" != "$(pos "$H_DIR/ck.gone/p.ckpt")" ] ||
        h_fail "the retried checkpoint is the old position"
[ "$(p_metric p1 followcdc_producer_checkpoint_errors_total)" -ge 1 ] ||
        h_fail "the failed saves were not counted"
# no temp files left next to it
[ "$(find "$H_DIR/ck" -mindepth 1 | wc -l)" = 1 ] ||
        h_fail "stray files: $(ls "$H_DIR/ck")"
p_stop p1 TERM
[ "$P_RC" = 0 ] || h_fail "SIGTERM exit status $P_RC, want 0"
h_pass "a failed checkpoint save is retried until it succeeds"
