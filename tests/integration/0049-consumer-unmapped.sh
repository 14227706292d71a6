#!/usr/bin/env bash
# Events of a table the consumer does not map are not dropped silently:
# each is dead-lettered with a reason naming the table and the mapping,
# counted (followcdc_consumer_unmapped_events_total), and a subscribed
# topic whose table is not mapped is counted at start-up
# (followcdc_consumer_unmapped_topics). A configuration where no
# subscribed topic can carry a mapped table is refused (exit 2).
# (Before: only followcdc_apply_ignored_total moved, offsets were
# committed, no dead letter, no log line.)
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" consumer

h_start_redis
h_start_broker
C_UTOPIC=followcdc.followcdc.users
h_topic_create "$C_TOPIC" 2 || h_fail "topic-create"
h_topic_create "$C_ITOPIC" 1 || h_fail "topic-create"
h_topic_create "$C_UTOPIC" 1 || h_fail "topic-create"
h_topic_create "$C_DLQ" 1 || h_fail "topic-create"

# no subscribed topic can match the mapping: refused before it starts
rc=0
timeout 30 "$C_BIN" --kafka.bootstrap.servers="$H_KAFKA_BOOTSTRAP" \
        --redis.port="$H_REDIS_PORT" --topics="$C_TOPIC,$C_ITOPIC" \
        --follow.table=follows --idem.table=idem_log \
        >"$H_DIR/refused.log" 2>&1 || rc=$?
[ "$rc" = 2 ] || h_fail "a mapping no topic matches: exit $rc, want 2"

out=$("$C_FEED" -b "$H_KAFKA_BOOTSTRAP" -n 300 -u 30 -s 49 -U 25 \
        -e "$H_DIR/exp") || h_fail "feed failed"
h_log "feed: $out"
unmapped=$(sed -n 's/.*unmapped=\([0-9]*\).*/\1/p' <<<"$out")
[ "$unmapped" = 25 ] || h_fail "feed: $out"

port=$(h_free_port)
c_start a --http.listen="127.0.0.1:$port" --topics="$C_TOPIC,$C_ITOPIC,$C_UTOPIC"
h_wait_for "[ \"\$(c_metric followcdc_consumer_unmapped_topics $port)\" = 1 ]" 30 ||
        h_fail "unmapped_topics=$(c_metric followcdc_consumer_unmapped_topics "$port"), want 1"
c_wait_converged "$H_DIR/exp" 60 || h_fail "Redis did not converge"
h_wait_for "[ \$(c_topic_count $C_DLQ) -ge $unmapped ]" 30 ||
        h_fail "dead-letter topic has $(c_topic_count $C_DLQ), want $unmapped"
m=$(c_metric followcdc_consumer_unmapped_events_total "$port")
[ "$m" = "$unmapped" ] || h_fail "unmapped_events_total=$m, want $unmapped"
m=$(c_metric followcdc_consumer_dead_letters_total "$port")
[ "$m" = "$unmapped" ] || h_fail "dead_letters_total=$m, want $unmapped"
hdrs=$(kcat -b "$H_KAFKA_BOOTSTRAP" -C -t "$C_DLQ" -o beginning -c 1 -e -q \
        -f '%h\n' 2>/dev/null)
grep -q 'followcdc.dlq.reason=table "users" is not mapped' <<<"$hdrs" ||
        h_fail "reason: $hdrs"
grep -q "followcdc.dlq.topic=$C_UTOPIC" <<<"$hdrs" || h_fail "topic: $hdrs"
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || h_fail "not ready"
c_stop a || h_fail "consumer exited $? on SIGTERM"
h_pass "$unmapped events of an unmapped table dead-lettered and counted; a mapping no topic matches exits 2"
