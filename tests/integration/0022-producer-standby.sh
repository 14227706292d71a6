#!/usr/bin/env bash
# 0022-producer-standby: two producers with the same configuration (file
# checkpoint store shared by both): one is active, the other waits as a
# standby and takes over within seconds when the active one is SIGKILLed.
# Then the active one's lock connection is killed on the server: it must
# stop producing and return to standby (split-brain guard) while the
# other takes over. Kafka must still hold exactly the committed changes.
# brokers: dev kafka
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" producer
h_start_mariadb
h_start_broker
p_audit_setup
p_workload 1 100

p_conf a "checkpoint.store=file" "checkpoint.file=$H_DIR/ckpt.json"
p_conf b "checkpoint.store=file" "checkpoint.file=$H_DIR/ckpt.json"
p_start a
p_wait_state a streaming 60 || h_fail "a did not start streaming"
p_start b
p_wait_state b standby 20 || h_fail "b is not a standby"
# a healthy standby is ready, and says what it is
body=$(p_readyz b) || h_fail "the standby is not ready: $body"
case "$body" in "ready: standby"*) ;; *) h_fail "b's /readyz: $body" ;; esac
[ "$(p_metric b followcdc_producer_role)" = 0 ] || h_fail "b's role is not standby"
[ "$(p_metric b followcdc_producer_stream_starts_total)" = 0 ] ||
        h_fail "b streams while a is active"
[ -s "$H_DIR/ckpt.json" ] || h_wait_for "[ -s $H_DIR/ckpt.json ]" 10 ||
        h_fail "no checkpoint file"

p_workload 11 200 &
w1=$!
sleep 1
t0=$(date +%s%N)
p_stop a KILL
p_wait_metric b followcdc_producer_role -eq 1 10 ||
        h_fail "b did not take over within 10 s"
t1=$(date +%s%N)
h_log "takeover after $(((t1 - t0) / 1000000)) ms"
p_wait_state b streaming 20 || h_fail "b did not stream after takeover"
p_start a
p_wait_state a standby 20 || h_fail "restarted a is not a standby"
[ "$(p_metric a followcdc_producer_role)" = 0 ] || h_fail "a is not a standby"
wait "$w1"
p_wait_check 60 || h_fail "after takeover: Kafka differs from the committed changes"

# split brain guard: kill b's lock connection on the server
p_workload 12 200 &
w1=$!
conn=$(h_mysql "SELECT IS_USED_LOCK('followcdc:followcdc')")
[ -n "$conn" ] && [ "$conn" != NULL ] || h_fail "nobody holds the lock"
h_mysql "KILL CONNECTION $conn"
p_wait_metric b followcdc_producer_lock_lost_total -ge 1 10 ||
        h_fail "b did not notice the lost lock"
# one of them (whichever retries first) holds the lock again
h_wait_for "h_mysql \"SELECT IS_USED_LOCK('followcdc:followcdc') IS NOT NULL\" | grep -qx 1" 15 ||
        h_fail "nobody took the lock after b lost it"
wait "$w1"
p_wait_check 60 || h_fail "after the lock loss: Kafka differs from the committed changes"
p_check --stats
p_alive a || h_fail "a died"
p_alive b || h_fail "b died"
p_stop a TERM
[ "$P_RC" = 0 ] || h_fail "a: SIGTERM exit status $P_RC"
p_stop b TERM
[ "$P_RC" = 0 ] || h_fail "b: SIGTERM exit status $P_RC"
h_pass "standby takeover after SIGKILL and after a lost lock connection"
