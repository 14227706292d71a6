#!/usr/bin/env bash
# SIGTERM mid-stream: the consumer finishes its batch, commits, exits 0; a
# new consumer resumes from the committed offsets (it does not start over)
# and Redis converges: nothing lost.
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" consumer

h_start_redis
h_start_broker
h_topic_create "$C_TOPIC" 4 || h_fail "topic-create"
h_topic_create "$C_ITOPIC" 1 || h_fail "topic-create"

pa=$(h_free_port)
c_start a --http.listen="127.0.0.1:$pa"
c_wait_assigned "$pa" 5 || h_fail "a not assigned"
"$C_FEED" -b "$H_KAFKA_BOOTSTRAP" -n 6000 -u 50 -s 3 -r 1000 \
        -e "$H_DIR/exp" >"$H_DIR/feed.out" 2>&1 &
feed=$!
sleep 3
ma=$(c_metric followcdc_consumer_messages_total "$pa")
c_stop a || h_fail "SIGTERM: consumer exited $? (want 0)"
h_log "a stopped after about $ma messages"
[ "${ma:-0}" -gt 0 ] || h_fail "a consumed nothing"
wait "$feed" || h_fail "feed failed"
h_log "feed: $(cat "$H_DIR/feed.out")"
total=$(awk -F'[ =]' '{print $2 + $6}' "$H_DIR/feed.out")
pb=$(h_free_port)
c_start b --http.listen="127.0.0.1:$pb"
c_wait_converged "$H_DIR/exp" 60 || h_fail "Redis did not converge"
mb=$(c_metric followcdc_consumer_messages_total "$pb")
# b read only what a had not committed: strictly less than everything
[ "${mb:-0}" -lt "$total" ] || h_fail "b re-read $mb of $total messages: offsets were not committed"
c_stop b || h_fail "b exited $?"
h_pass "SIGTERM exit 0; resumed with $mb of $total messages; converged"
