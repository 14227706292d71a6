#!/usr/bin/env bash
# Redis killed (SIGKILL) and restarted mid-stream: the consumer retries
# with backoff, holds its offsets, keeps its group membership, and Redis
# converges to the expected state; nothing skipped.
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" consumer

# every acknowledged write must survive the kill: fsync each one
h_start_redis --appendonly appendfsync always
h_start_broker
h_topic_create "$C_TOPIC" 4 || h_fail "topic-create"
h_topic_create "$C_ITOPIC" 2 || h_fail "topic-create"

port=$(h_free_port)
c_start a --http.listen="127.0.0.1:$port"
c_wait_assigned "$port" 6 || h_fail "a not assigned"
"$C_FEED" -b "$H_KAFKA_BOOTSTRAP" -n 8000 -u 50 -s 5 -r 800 \
        -e "$H_DIR/exp" >"$H_DIR/feed.out" 2>&1 &
feed=$!
sleep 3
h_kill9 redis
sleep 4
curl -s "http://127.0.0.1:$port/readyz" >/dev/null &&
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 503 ] ||
        h_fail "/readyz should say 503 while Redis is down"
h_restart redis
wait "$feed" || h_fail "feed failed: $(cat "$H_DIR/feed.out")"
h_log "feed: $(cat "$H_DIR/feed.out")"
c_wait_converged "$H_DIR/exp" 60 || h_fail "Redis did not converge after restart"
c_alive a || h_fail "consumer died"
f=$(c_metric followcdc_consumer_redis_failures_total "$port")
[ "${f:-0}" -gt 0 ] || h_fail "the consumer never saw Redis down"
[ "$(c_metric followcdc_consumer_rebalances_total "$port")" = 0 ] ||
        h_fail "lost group membership while Redis was down"
c_stop a || h_fail "consumer exited $?"
h_pass "converged after a Redis kill/restart ($f failed attempts)"
