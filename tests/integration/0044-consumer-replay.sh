#!/usr/bin/env bash
# Replay / backfill: a Redis that lost everything is rebuilt with
# --replay=earliest (same group), and with --replay-from=<time>; replaying
# everything a second time over the rebuilt Redis leaves it byte-identical
# (versions, scores, absolute expiries). On Apache Kafka also: a replay
# from a time between two feeds reads exactly the messages of the second.
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" consumer

h_start_redis
h_start_broker
h_topic_create "$C_TOPIC" 3 || h_fail "topic-create"
h_topic_create "$C_ITOPIC" 1 || h_fail "topic-create"

t0=$(date +%s%3N)
out=$("$C_FEED" -b "$H_KAFKA_BOOTSTRAP" -n 4000 -u 40 -s 21 -i 30 \
        -e "$H_DIR/exp") || h_fail "feed failed"
h_log "feed: $out"
total=$(awk -F'[ =]' '{print $2 + $6 + $8}' <<<"$out")
port=$(h_free_port)

# c_run NAME FLAGS...: run a consumer until it has read $total messages
c_run() {
        local name=$1
        shift
        c_start "$name" --http.listen="127.0.0.1:$port" "$@"
        h_wait_for "[ \"\$(c_metric followcdc_consumer_messages_total $port)\" -ge $total ]" 60 ||
                h_fail "$name read $(c_metric followcdc_consumer_messages_total "$port") of $total"
        c_stop "$name" || h_fail "$name exited $?"
}

c_run first
c_converged "$H_DIR/exp" || h_fail "first run did not converge"
c_state >"$H_DIR/state1"
[ -s "$H_DIR/state1" ] || h_fail "empty state"

# Redis lost everything: replay the committed group from the beginning
h_redis FLUSHALL >/dev/null
c_run replay1 --replay=earliest
c_state >"$H_DIR/state2"
cmp -s "$H_DIR/state1" "$H_DIR/state2" ||
        h_fail "replay after FLUSHALL differs: $(diff "$H_DIR/state1" "$H_DIR/state2" | head -n 4)"

# everything applied a second time over the same Redis: no change
c_run replay2 --replay=earliest
c_state >"$H_DIR/state3"
cmp -s "$H_DIR/state1" "$H_DIR/state3" ||
        h_fail "second replay changed Redis: $(diff "$H_DIR/state1" "$H_DIR/state3" | head -n 4)"

# replay from a time (rd_kafka_offsets_for_times on assignment). The dev
# broker answers every timestamp lookup with "no message at or after it",
# as a real broker does for a time in the future: the consumer then starts
# at the end of each partition and reads nothing. (The FLUSHALLs below
# only make reads visible: the data-loss check, which would rebuild the
# flushed Redis from the beginning, is off for these runs.)
h_redis FLUSHALL >/dev/null
c_start replay3 --http.listen="127.0.0.1:$port" --redis.loss.check.ms=0 --replay-from="$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)"
c_wait_assigned "$port" 4 || h_fail "replay3 not assigned"
[ "$(c_metric followcdc_consumer_replay_partitions_total "$port")" = 4 ] ||
        h_fail "the time-based replay positioned $(c_metric followcdc_consumer_replay_partitions_total "$port") partition(s), want 4"
sleep 2
m=$(c_metric followcdc_consumer_messages_total "$port")
[ "$m" = 0 ] || h_fail "replay from a future time read $m messages"
c_stop replay3 || h_fail "replay3 exited $?"

# Apache Kafka looks offsets up by time for real: events produced after
# T are exactly what a replay from T reads (ListOffsets by timestamp; the
# events carry their produce time).
if [ "$H_BROKER" = kafka ]; then
        sleep 1
        t_mid=$(date +%s%3N)
        sleep 1
        out=$("$C_FEED" -b "$H_KAFKA_BOOTSTRAP" -n 500 -u 40 -s 22 -i 10 \
                -q 100000) || h_fail "second feed failed"
        h_log "second feed: $out"
        n2=$(awk -F'[ =]' '{print $2 + $6 + $8}' <<<"$out")
        h_redis FLUSHALL >/dev/null
        c_start replay4 --http.listen="127.0.0.1:$port" --redis.loss.check.ms=0 --replay-from="$t_mid"
        h_wait_for "[ \"\$(c_metric followcdc_consumer_messages_total $port)\" -ge $n2 ]" 60 ||
                h_fail "replay from $t_mid read $(c_metric followcdc_consumer_messages_total "$port") of the $n2 later messages"
        sleep 2
        m=$(c_metric followcdc_consumer_messages_total "$port")
        [ "$m" = "$n2" ] ||
                h_fail "replay from $t_mid read $m messages, want exactly the $n2 produced after it"
        c_stop replay4 || h_fail "replay4 exited $?"
        h_log "replay from a time between two feeds read exactly the $n2 later messages"
fi
h_pass "replays rebuilt an identical Redis ($(wc -l <"$H_DIR/state1") keys); replay-from positions by time"
