#!/usr/bin/env bash
# Two consumers in one group with rebalances mid-stream: a second consumer
# joins while events flow, later the first one is killed (SIGKILL, nothing
# committed since its last auto-commit). The survivor takes over every
# partition; Redis ends equal to the expected state, no event lost.
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" consumer

h_start_redis
h_start_broker
h_topic_create "$C_TOPIC" 6 || h_fail "topic-create"
h_topic_create "$C_ITOPIC" 2 || h_fail "topic-create"

pa=$(h_free_port)
pb=$(h_free_port)
c_start a --http.listen="127.0.0.1:$pa"
c_wait_assigned "$pa" 8 || h_fail "a not assigned"

# ~12 s of events at 800/s
"$C_FEED" -b "$H_KAFKA_BOOTSTRAP" -n 10000 -u 60 -s 11 -r 800 -i 40 \
        -e "$H_DIR/exp" >"$H_DIR/feed.out" 2>&1 &
feed=$!
sleep 2
c_start b --http.listen="127.0.0.1:$pb"
c_wait_assigned "$pb" "-ge 1" || h_fail "b never got partitions"
h_log "b joined: a owns $(c_assigned "$pa"), b $(c_assigned "$pb") partition(s)"
sleep 2
ma=$(c_metric followcdc_consumer_messages_total "$pa")
c_kill9 a
h_log "killed a after it read $ma messages"
wait "$feed" || h_fail "feed failed: $(cat "$H_DIR/feed.out")"
h_log "feed: $(cat "$H_DIR/feed.out")"
# b takes a's partitions after a's session times out (6 s)
c_wait_assigned "$pb" 8 40 || h_fail "b never took over every partition"
c_wait_converged "$H_DIR/exp" 60 || h_fail "Redis did not converge"
c_idem_count() { h_redis --scan --pattern 'fc:idem:{r:*}' | grep -vc ':del$'; }
h_wait_for '[ "$(c_idem_count)" -eq 40 ]' 30 ||
        h_fail "expected 40 idempotency records, got $(c_idem_count)"
mb=$(c_metric followcdc_consumer_messages_total "$pb")
[ "${ma:-0}" -gt 0 ] && [ "${mb:-0}" -gt 0 ] ||
        h_fail "both consumers must have worked: a=$ma b=$mb"
c_stop b || h_fail "b exited $?"
h_pass "rebalanced twice, $(wc -l <"$H_DIR/exp.following") live edges converged (a read $ma, b read $mb)"
