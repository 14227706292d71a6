#!/usr/bin/env bash
# 0113-repair-dlq: dead letters are repaired once their cause is removed.
# A consumer whose follow.table does not match the producer's table name
# (follow.table=follows) dead-letters every follow event, so Redis misses
# the edges. `followcdc-consumer --reprocess-dlq` with that same wrong
# mapping re-applies nothing and reports every letter (exit 1); after the
# configuration is fixed it re-applies them all (exit 0, failed=0) and
# Redis equals what the events describe. A second pass changes nothing.
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" consumer

h_start_redis
h_start_broker
h_topic_create "$C_TOPIC" 2 || h_fail "topic-create"
h_topic_create "$C_ITOPIC" 1 || h_fail "topic-create"
h_topic_create "$C_DLQ" 1 || h_fail "topic-create"

out=$("$C_FEED" -b "$H_KAFKA_BOOTSTRAP" -n 300 -u 30 -s 113 -e "$H_DIR/exp") ||
        h_fail "feed failed"
h_log "feed: $out"
port=$(h_free_port)
c_start a --http.listen="127.0.0.1:$port" --topics="$C_TOPIC,$C_ITOPIC" \
        --follow.table=follows
# every message read (events dead-lettered, tombstones counted)
total=$(($(c_topic_count "$C_TOPIC") + $(c_topic_count "$C_ITOPIC")))
h_wait_for "[ \"\$(c_metric followcdc_consumer_messages_total $port)\" -ge $total ] 2>/dev/null" 90 ||
        h_fail "consumer read $(c_metric followcdc_consumer_messages_total "$port") of $total messages"
[ "$(c_metric followcdc_consumer_unmapped_events_total "$port")" -gt 0 ] ||
        h_fail "no follow event was dead-lettered"
c_stop a || h_fail "consumer exited $? on SIGTERM"
letters=$(c_topic_count "$C_DLQ")
[ "$letters" -gt 0 ] || h_fail "the dead-letter topic is empty"
c_converged "$H_DIR/exp" && h_fail "Redis holds the edges without the letters"

reprocess() {
        "$C_BIN" --kafka.bootstrap.servers="$H_KAFKA_BOOTSTRAP" \
                --redis.port="$H_REDIS_PORT" --reprocess-dlq "$@" \
                2>>"$H_DIR/reprocess.log"
}

# the cause is still there: nothing applied, every letter reported
rc=0
res=$(reprocess --follow.table=follows) || rc=$?
[ "$rc" = 1 ] || h_fail "reprocess with the wrong mapping: exit $rc, want 1: $res"
grep -q "^REPROCESS letters=$letters applied=0 failed=$letters skipped=0$" <<<"$res" ||
        h_fail "summary: $(tail -n 1 <<<"$res")"
[ "$(grep -c '^FAIL .*table "follow" is not mapped' <<<"$res")" = "$letters" ] ||
        h_fail "failures not reported one by one: $(head -n 3 <<<"$res")"
c_converged "$H_DIR/exp" && h_fail "a failed reprocess changed Redis"

# the cause removed (the mapping fixed): every letter applies
res=$(reprocess) || h_fail "reprocess after the fix: exit $?: $res"
grep -q "^REPROCESS letters=$letters applied=$letters failed=0 skipped=0$" <<<"$res" ||
        h_fail "summary after the fix: $res"
c_wait_converged "$H_DIR/exp" 10 || h_fail "Redis did not converge after reprocessing"

# again: harmless
res=$(reprocess) || h_fail "second reprocess: exit $?"
c_converged "$H_DIR/exp" || h_fail "a second reprocess changed Redis"
h_pass "$letters dead letters reprocessed after the mapping was fixed"
