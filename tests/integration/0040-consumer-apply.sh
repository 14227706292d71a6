#!/usr/bin/env bash
# Consumer end to end: follow events (with tombstones, idempotency-log
# events and poison messages) produced into the dev broker are applied to
# Redis; Redis equals the expected state, poison lands in the dead-letter
# topic with its headers, SIGTERM exits 0.
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" consumer

h_start_redis
h_start_broker
h_topic_create "$C_TOPIC" 4 || h_fail "topic-create"
h_topic_create "$C_ITOPIC" 2 || h_fail "topic-create"
h_topic_create "$C_DLQ" 1 || h_fail "topic-create"

out=$("$C_FEED" -b "$H_KAFKA_BOOTSTRAP" -n 3000 -u 40 -s 7 -P 400 -i 25 \
        -e "$H_DIR/exp") || h_fail "feed failed"
h_log "feed: $out"
poison=$(sed -n 's/.*poison=\([0-9]*\).*/\1/p' <<<"$out")
[ "$poison" -ge 3 ] || h_fail "expected poison messages, got '$out'"

port=$(h_free_port)
c_start a --http.listen="127.0.0.1:$port"
c_wait_converged "$H_DIR/exp" 60 || h_fail "Redis did not converge"
h_log "converged: $(wc -l <"$H_DIR/exp.following") edges"

# idempotency records: 25 request ids, status 2, absolute expiry set
c_idem_count() { h_redis --scan --pattern 'fc:idem:{r:*}' | grep -vc ':del$'; }
h_wait_for '[ "$(c_idem_count)" -eq 25 ]' 30 ||
        h_fail "expected 25 idempotency records, got $(c_idem_count)"
k=$(h_redis --scan --pattern 'fc:idem:{r:*}' | grep -v ':del$' | head -n 1)
[ "$(h_redis HGET "$k" status)" = 2 ] || h_fail "idem status of $k"
[ "$(h_redis PTTL "$k")" -gt 0 ] || h_fail "idem record $k has no expiry"

# dead letters: every poison message, with reason and origin headers
h_wait_for "[ \$(c_topic_count $C_DLQ) -ge $poison ]" 20 ||
        h_fail "dead-letter topic has $(c_topic_count $C_DLQ), want $poison"
hdrs=$(kcat -b "$H_KAFKA_BOOTSTRAP" -C -t "$C_DLQ" -o beginning -e -q \
        -f '%h|%k\n' 2>/dev/null | head -n 3)
grep -q "followcdc.dlq.reason=" <<<"$hdrs" || h_fail "no reason header: $hdrs"
grep -q "followcdc.dlq.topic=$C_TOPIC" <<<"$hdrs" || h_fail "no topic header"
grep -q "followcdc.dlq.offset=[0-9]" <<<"$hdrs" || h_fail "no offset header"
grep -q "|\[9000[0-9][0-9],0\]" <<<"$hdrs" || h_fail "original key not kept: $hdrs"

# metrics
m=$(c_metric followcdc_consumer_dead_letters_total "$port")
[ "$m" = "$poison" ] || h_fail "dead_letters_total=$m, want $poison"
m=$(c_metric followcdc_consumer_tombstones_total "$port")
t=$(sed -n 's/.*tombstones=\([0-9]*\).*/\1/p' <<<"$out")
[ "$m" = "$t" ] || h_fail "tombstones_total=$m, want $t"
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || h_fail "not ready"

# SIGTERM: exit 0, committed offsets cover everything -> a restart
# re-applies nothing (no script runs at all)
c_stop a || h_fail "consumer exited $? on SIGTERM"
c_start b --http.listen="127.0.0.1:$port"
c_wait_assigned "$port" 6 || h_fail "b not assigned"
sleep 2
m=$(c_metric followcdc_consumer_messages_total "$port")
[ "${m:-x}" = 0 ] || h_fail "restart re-read $m messages (offsets not committed)"
c_stop b || h_fail "second consumer exited $?"
c_converged "$H_DIR/exp" || h_fail "state changed after restart"
h_pass "applied $(wc -l <"$H_DIR/exp.following") live edges, $poison dead letters, clean restart"
