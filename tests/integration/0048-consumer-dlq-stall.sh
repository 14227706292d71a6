#!/usr/bin/env bash
# A dead-letter topic that refuses the copies (here: the broker answers
# every Produce with TOPIC_AUTHORIZATION_FAILED for a while) holds the
# poison's partition back: that must show in /readyz (503, naming the
# dead-letter topic) and in followcdc_consumer_stalled_partitions, not
# only in the log. Once the topic accepts again, the letters go through,
# the partition moves on, /readyz turns 200 and Redis converges.
set -u
. "$(dirname "$0")/../lib/test.sh" consumer

h_start_redis
h_start_broker
h_topic_create "$C_TOPIC" 2 || h_fail "topic-create"
h_topic_create "$C_ITOPIC" 1 || h_fail "topic-create"
h_topic_create "$C_DLQ" 1 || h_fail "topic-create"

out=$("$C_FEED" -b "$H_KAFKA_BOOTSTRAP" -n 400 -u 30 -s 48 -P 100 \
        -e "$H_DIR/exp") || h_fail "feed failed"
h_log "feed: $out"
poison=$(sed -n 's/.*poison=\([0-9]*\).*/\1/p' <<<"$out")

# the next 10 Produce requests (only the dead-letter producer sends any
# from now on) are refused for good, as a missing ACL would be
errs=$(printf 'TOPIC_AUTHORIZATION_FAILED,%.0s' $(seq 1 10))
h_broker_ctl request-errors Produce "${errs%,}" >/dev/null || h_fail "inject"

port=$(h_free_port)
c_start a --http.listen="127.0.0.1:$port"
ready() { curl -s -o "$H_DIR/readyz" -w '%{http_code}' "http://127.0.0.1:$port/readyz"; }
h_wait_for "[ \"\$(ready)\" = 503 ] && grep -q 'dead-letter topic $C_DLQ' '$H_DIR/readyz'" 30 ||
        h_fail "/readyz did not report the refused dead letters: $(ready) $(cat "$H_DIR/readyz")"
h_log "readyz: $(cat "$H_DIR/readyz")"
s=$(c_metric followcdc_consumer_stalled_partitions "$port")
[ "${s:-0}" -ge 1 ] || h_fail "stalled_partitions=$s while the letters are refused"
f=$(c_metric followcdc_consumer_dead_letter_failures_total "$port")
[ "${f:-0}" -ge 1 ] || h_fail "dead_letter_failures_total=$f"

# the injected errors run out: everything goes through
c_wait_converged "$H_DIR/exp" 90 || h_fail "Redis did not converge"
h_wait_for "[ \$(c_topic_count $C_DLQ) -ge $poison ]" 90 ||
        h_fail "dead-letter topic has $(c_topic_count $C_DLQ), want $poison"
h_wait_for "[ \"\$(ready)\" = 200 ]" 30 || h_fail "not ready again: $(cat "$H_DIR/readyz")"
h_wait_for "[ \"\$(c_metric followcdc_consumer_stalled_partitions $port)\" = 0 ]" 20 ||
        h_fail "still stalled after recovery"
[ "$(c_metric followcdc_consumer_dead_letters_total "$port")" = "$poison" ] ||
        h_fail "dead_letters_total=$(c_metric followcdc_consumer_dead_letters_total "$port"), want $poison"
c_stop a || h_fail "consumer exited $? on SIGTERM"
h_pass "refused dead letters showed in /readyz and stalled_partitions=$s ($f failed deliveries), then recovered and converged"
