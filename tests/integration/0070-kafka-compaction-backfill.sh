#!/usr/bin/env bash
# 0070-kafka-compaction-backfill: backfill from compacted topics, on Apache
# Kafka. The change-event topics are compacted (cleanup.policy=compact)
# with segments that roll every half second and a cleaner that looks for
# work every 200 ms, so the log cleaner compacts while the test runs; the
# test checks that it did (records are gone from the middle of the logs).
# A workload updates the same edges many times; the live consumer brings
# Redis to MySQL. Then:
#  1. a NEW consumer group on an EMPTY Redis reads the compacted topics
#     from the beginning: scripts/check-converged.py finds Redis equal to
#     MySQL;
#  2. another new group replays everything over that full Redis: a no-op,
#     Redis is byte-identical (every key, score, version and expiry).
# brokers: kafka
set -u
. "$(dirname "$0")/../lib/test.sh" consumer followcdc-producer kafka_admin
E_SERVER_ID=7001
E_CKPT_STORE=kafka

h_start_mariadb
h_start_redis
h_start_kafka --prop log.cleaner.backoff.ms=200
compact=(cleanup.policy=compact segment.ms=500
         min.cleanable.dirty.ratio=0.01 min.compaction.lag.ms=0
         delete.retention.ms=3600000)
T=followcdc.followcdc.follow
IT=followcdc.followcdc.idempotent_log
h_topic_create "$T" 4 "${compact[@]}" || h_fail "create $T"
h_topic_create "$IT" 2 "${compact[@]}" || h_fail "create $IT"
h_kafka_admin topic-config "$T" | grep -qx 'cleanup.policy=compact' ||
        h_fail "$T is not compacted"

e_producer a
h_wait_for "grep -q 'streaming from' '$H_DIR/p-a.log'" 60 ||
        h_fail "producer did not start streaming"
pa=$(h_free_port)
c_start a --http.listen="127.0.0.1:$pa"
# few users, many ops: every edge changes many times
out=$("$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" \
        --users 15 --ops 3000 --concurrency 3 --seed 70) ||
        h_fail "workload failed: $out"
h_log "$out"
# paced writes for a few seconds: segments keep rolling behind the burst
e_workload 701 6 100 --req-prefix live
e_workload_wait
e_converged "live" 90

# the cleaner has removed superseded records: fewer messages than offsets
compacted() {
        h_kafka_offsets "$T" >"$H_DIR/offsets"
        awk '{ span += $3 - $2; present += $4 }
             END { exit !(present > 0 && present < span) }' "$H_DIR/offsets"
}
h_wait_for compacted 90 ||
        h_fail "the log cleaner did not compact $T: $(tr '\n' ';' <"$H_DIR/offsets")"
span=$(awk '{ s += $3 - $2 } END { print s }' "$H_DIR/offsets")
present=$(awk '{ s += $4 } END { print s }' "$H_DIR/offsets")
h_log "$T compacted: $present of $span records left"

# 1. new group, empty Redis
c_stop a || h_fail "consumer a exited $? on SIGTERM"
h_redis FLUSHALL >/dev/null
pb=$(h_free_port)
c_start b --kafka.group.id=followcdc-backfill-1 --http.listen="127.0.0.1:$pb"
e_converged "after the backfill from the compacted topics" 90
c_state >"$H_DIR/state1"
[ -s "$H_DIR/state1" ] || h_fail "empty Redis after the backfill"
c_stop b || h_fail "consumer b exited $? on SIGTERM"

# 2. another new group over the full Redis: nothing changes
total=0
for t in "$T" "$IT"; do
        n=$(kcat -b "$H_KAFKA_BOOTSTRAP" -C -t "$t" -o beginning -e -q \
                -f '.\n' 2>/dev/null | wc -l)
        total=$((total + n))
done
c_start c --kafka.group.id=followcdc-backfill-2 --http.listen="127.0.0.1:$pb"
h_wait_for "[ \"\$(c_metric followcdc_consumer_messages_total $pb)\" -ge $total ]" 60 ||
        h_fail "replay read $(c_metric followcdc_consumer_messages_total "$pb") of $total messages"
c_stop c || h_fail "consumer c exited $? on SIGTERM"
c_state >"$H_DIR/state2"
cmp -s "$H_DIR/state1" "$H_DIR/state2" ||
        h_fail "a replay over a full Redis changed it: $(diff "$H_DIR/state1" "$H_DIR/state2" | head -n 4)"
e_stop p-a || h_fail "producer exited $? on SIGTERM"
h_pass "compacted to $present of $span records; a new group rebuilt Redis; a second replay changed nothing ($(wc -l <"$H_DIR/state1") keys)"
