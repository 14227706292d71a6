#!/usr/bin/env bash
# Rebalance while Redis is down: the first consumer is stuck retrying a
# batch when a second one joins; the revoke drops that batch without
# storing its offsets (the new owner re-reads it). Then SIGTERM while
# Redis is down: exit 0 within shutdown.timeout.ms, nothing unacknowledged
# committed. Redis comes back: everything converges.
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" consumer

h_start_redis --appendonly appendfsync always
h_start_broker
h_topic_create "$C_TOPIC" 4 || h_fail "topic-create"
h_topic_create "$C_ITOPIC" 2 || h_fail "topic-create"

pa=$(h_free_port)
pb=$(h_free_port)
c_start a --http.listen="127.0.0.1:$pa"
c_wait_assigned "$pa" 6 || h_fail "a not assigned"
"$C_FEED" -b "$H_KAFKA_BOOTSTRAP" -n 4000 -u 40 -s 9 -r 1000 \
        -e "$H_DIR/exp" >"$H_DIR/feed.out" 2>&1 &
feed=$!
sleep 1
h_kill9 redis
sleep 1
c_start b --http.listen="127.0.0.1:$pb"
c_wait_assigned "$pb" "-ge 1" || h_fail "b never joined"
h_wait_for "[ \"\$(c_metric followcdc_consumer_dropped_batches_total $pa)\" -ge 1 ]" 10 ||
        h_fail "a did not drop its unacknowledged batch on revoke"

# SIGTERM while Redis is still down and a is retrying its new batch:
# bounded wait (shutdown.timeout.ms=5000), exit 0, the batch is dropped
f1=$(c_metric followcdc_consumer_redis_failures_total "$pa")
h_wait_for "[ \$(c_metric followcdc_consumer_redis_failures_total $pa) -gt $f1 ]" 20 ||
        h_fail "a is not retrying after the rebalance"
t0=$(date +%s)
c_stop a || h_fail "a exited $? on SIGTERM with Redis down"
t1=$(date +%s)
[ $((t1 - t0)) -le 30 ] || h_fail "SIGTERM took $((t1 - t0)) s"

h_restart redis
wait "$feed" || h_fail "feed failed"
h_log "feed: $(cat "$H_DIR/feed.out")"
c_wait_assigned "$pb" 6 || h_fail "b never took every partition"
c_wait_converged "$H_DIR/exp" 60 || h_fail "Redis did not converge"
c_stop b || h_fail "b exited $?"
h_pass "revoke with Redis down dropped the batch, SIGTERM exited 0 in $((t1 - t0)) s, converged"
