#!/usr/bin/env bash
# A poison message over 1 MB (bigger than a default producer may send)
# must not stop the consumer: its dead-letter copy is truncated, carries
# the SHA-256 and size of the original value and its coordinates, every
# other event is applied, offsets move on and /readyz stays ready.
# (Before: the copy failed with MSG_SIZE_TOO_LARGE and was re-sent every
# 5 s forever, the partitions stayed paused, /readyz said 200.)
# Valid but very wide events (5000 columns, over event.max.columns) are
# dead-lettered unparsed and counted, not applied (before: parsed at ~10x
# their size and applied).
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" consumer

h_start_redis
h_start_broker
h_topic_create "$C_TOPIC" 2 || h_fail "topic-create"
h_topic_create "$C_ITOPIC" 1 || h_fail "topic-create"
h_topic_create "$C_DLQ" 1 || h_fail "topic-create"

big=1048000 # under the broker default max.message.bytes (1048588)
out=$("$C_FEED" -b "$H_KAFKA_BOOTSTRAP" -n 600 -u 30 -s 47 -B "$big" \
        -e "$H_DIR/exp") || h_fail "feed failed"
h_log "feed: $out"
total=$(awk -F'[ =]' '{print $2 + $4 + $6}' <<<"$out")
# 5 wide events of 5007 columns (7 + 5000 of padding, ~100 KB each),
# newer than everything above: applied, they would change Redis
wide=$("$C_FEED" -b "$H_KAFKA_BOOTSTRAP" -n 5 -u 30 -s 4747 -q 1000000 \
        -W 100000 -C 5000) || h_fail "wide feed failed"
h_log "wide: $wide"
total=$((total + $(awk -F'[ =]' '{print $2 + $6}' <<<"$wide")))

port=$(h_free_port)
c_start a --http.listen="127.0.0.1:$port"
c_wait_converged "$H_DIR/exp" 60 || h_fail "Redis did not converge"
h_wait_for "[ \"\$(c_metric followcdc_consumer_messages_total $port)\" -ge $total ]" 30 ||
        h_fail "read $(c_metric followcdc_consumer_messages_total "$port") of $total messages"
h_wait_for "[ \$(c_topic_count $C_DLQ) -ge 6 ]" 30 ||
        h_fail "$(c_topic_count $C_DLQ) dead letter(s), want 6"
[ "$(c_metric followcdc_consumer_dead_letters_total "$port")" = 6 ] ||
        h_fail "dead_letters_total=$(c_metric followcdc_consumer_dead_letters_total "$port"), want 6"
[ "$(c_metric followcdc_consumer_oversized_events_total "$port")" = 5 ] ||
        h_fail "oversized_events_total=$(c_metric followcdc_consumer_oversized_events_total "$port"), want 5"
kcat -b "$H_KAFKA_BOOTSTRAP" -C -t "$C_DLQ" -o beginning -e -q -f '%h\n' \
        2>/dev/null | grep -c "reason=row image of 5007 columns exceeds event.max.columns (4096)" |
        grep -qx 5 || h_fail "wide events: no or wrong reason"
# every batch stored, the poison's included: nothing held, ready
h_wait_for "[ \"\$(c_metric followcdc_consumer_stalled_partitions $port)\" = 0 ]" 20 ||
        h_fail "stalled partitions: $(c_metric followcdc_consumer_stalled_partitions "$port")"
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || h_fail "not ready"

# the big one's letter (letters come in batch order, not produce order):
# truncated copy, hash and size of the original, coordinates
kcat -b "$H_KAFKA_BOOTSTRAP" -C -t "$C_DLQ" -o beginning -e -q \
        -f '%S %h\n' >"$H_DIR/letters" 2>/dev/null || h_fail "kcat"
letter=$(grep "followcdc.dlq.reason=not JSON" "$H_DIR/letters")
[ "$(wc -l <<<"$letter")" = 1 ] || h_fail "letters of the big message: $letter"
vsize=${letter%% *}
hdrs=${letter#* }
want=$({ printf '{"big poison": '; head -c $((big - 15)) /dev/zero | tr '\0' x; } |
        sha256sum | cut -d' ' -f1)
grep -q "followcdc.dlq.truncated=1" <<<"$hdrs" || h_fail "not marked truncated: $hdrs"
grep -q "followcdc.dlq.value.size=$big" <<<"$hdrs" || h_fail "no original size: $hdrs"
grep -q "followcdc.dlq.value.sha256=$want" <<<"$hdrs" || h_fail "wrong or no hash: $hdrs"
grep -q "followcdc.dlq.topic=$C_TOPIC" <<<"$hdrs" || h_fail "no topic: $hdrs"
grep -q "followcdc.dlq.offset=0" <<<"$hdrs" || h_fail "no offset: $hdrs"
grep -q "followcdc.dlq.reason=not JSON" <<<"$hdrs" || h_fail "no reason: $hdrs"
[ "$vsize" -gt 0 ] && [ "$vsize" -le 16384 ] || h_fail "letter value of $vsize bytes"

c_stop a || h_fail "consumer exited $? on SIGTERM"
h_pass "a $big-byte poison message was dead-lettered truncated ($vsize bytes, hash and size kept), 5 wide events unparsed; $total messages consumed, converged"
