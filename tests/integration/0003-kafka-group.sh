#!/usr/bin/env bash
# 0003-kafka-group: Kafka round trip through followcdc-devbroker, with
# separate producer and consumer processes.
#
# 1. One process produces N keyed messages with the idempotent producer
#    (acks=all) while the control channel injects faults: Produce request
#    errors, then the leader of partition 0 goes down mid-stream and comes
#    back 2 s later. Every message must be delivered.
# 2. A consumer process in group G reads exactly N/2 messages, commits
#    synchronously and leaves.
# 3. A new consumer process in G must resume exactly at the committed
#    offsets and read to the end.
# Checks: no message lost, no offset read twice across the two consumers,
# per-partition offsets contiguous, each key in one partition and in order.
# Duplicates in the log itself (a retried batch: the 2.0.2 mock does not
# de-duplicate idempotent retries) are counted and reported, not failed.
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" kafka_roundtrip
RT=$CDC_BUILD_DIR/bin/kafka_roundtrip

N=2000
HALF=$((N / 2))
PARTS=4
TOPIC=cdc.test.roundtrip
GROUP=g-roundtrip-$$

h_start_broker --brokers 3 --topic "$TOPIC:$PARTS"

# ---- control channel sanity: OK exits 0, ERR exits 1 ----
h_broker_ctl ping >/dev/null || h_fail "ctl ping"
if h_broker_ctl no-such-command >/dev/null; then
        h_fail "ctl accepted an unknown command"
fi
if h_broker_ctl broker-down 99 >/dev/null; then
        h_fail "ctl accepted broker 99"
fi
if h_broker_ctl request-errors Produce NO_SUCH_ERROR >/dev/null; then
        h_fail "ctl accepted an unknown error name"
fi

# ---- 1. produce with faults ----
t0=$(date +%s)
"$RT" produce --bootstrap "$H_KAFKA_BOOTSTRAP" --topic "$TOPIC" \
        --count "$N" --keys 50 --control "$H_BROKER_CTL" \
        --fault-request-errors --fault-down-leader ||
        h_fail "produce with broker-down/up did not deliver every message"
h_log "produce: $(($(date +%s) - t0)) s"

# ---- 2. first consumer: half, commit, leave ----
t0=$(date +%s)
"$RT" consume --bootstrap "$H_KAFKA_BOOTSTRAP" --topic "$TOPIC" \
        --group "$GROUP" --max "$HALF" --out "$H_DIR/c1.txt" \
        --committed-out "$H_DIR/committed.txt" ||
        h_fail "first consumer failed"
h_log "consumer 1: $(($(date +%s) - t0)) s"

# ---- 3. second consumer, same group, to the end ----
t0=$(date +%s)
"$RT" consume --bootstrap "$H_KAFKA_BOOTSTRAP" --topic "$TOPIC" \
        --group "$GROUP" --until-eof --out "$H_DIR/c2.txt" ||
        h_fail "second consumer failed"
h_log "consumer 2: $(($(date +%s) - t0)) s"

# ---- checks ----
c1=$(wc -l <"$H_DIR/c1.txt")
[ "$c1" -eq "$HALF" ] || h_fail "consumer 1 read $c1 messages, expected $HALF"

# awk prints "FAIL <why>" lines and a summary; any FAIL fails the test.
report=$(awk -v N="$N" -v PARTS="$PARTS" '
FILENAME ~ /committed/ { committed[$1] = $2; next }
{
        who = (FILENAME ~ /c1\.txt$/) ? 1 : 2
        p = $1; o = $2; k = $3; v = $4
        if ((p, o) in seen) {
                print "FAIL offset " p "/" o " read by consumer " seen[p, o] " and " who
                fails++
        }
        seen[p, o] = who
        lines++
        if (!(p in min2) && who == 2) min2[p] = o
        if (who == 2 && o < min2[p]) min2[p] = o
        if (who == 1 && (!(p in max1) || o > max1[p])) max1[p] = o
        if (!(p in hi) || o > hi[p]) hi[p] = o
        cnt[p]++
        if ((k in kpart) && kpart[k] != p) {
                print "FAIL key " k " in partitions " kpart[k] " and " p
                fails++
        }
        kpart[k] = p
        val[p, o] = v; key[p, o] = k
        if (v in got) dups++
        else distinct++
        got[v] = 1
}
END {
        for (p = 0; p < PARTS; p++) {
                c = (p in committed) ? committed[p] : -1001
                if (c >= 0) {
                        if (!(p in max1) || max1[p] != c - 1) {
                                print "FAIL partition " p ": committed " c " but consumer 1 last read " max1[p]
                                fails++
                        }
                        if ((p in min2) && min2[p] != c) {
                                print "FAIL partition " p ": committed " c " but consumer 2 started at " min2[p]
                                fails++
                        }
                } else {
                        if (p in max1) {
                                print "FAIL partition " p ": consumer 1 read it but nothing was committed"
                                fails++
                        }
                        if ((p in min2) && min2[p] != 0) {
                                print "FAIL partition " p ": no commit, consumer 2 started at " min2[p] " not 0"
                                fails++
                        }
                }
                if ((p in hi) && cnt[p] != hi[p] + 1) {
                        print "FAIL partition " p ": " cnt[p] " messages for offsets 0.." hi[p]
                        fails++
                }
                # per key, first occurrences must come in produce order
                for (o = 0; (p, o) in val; o++) {
                        v = val[p, o]; k = key[p, o]
                        if (v in first) continue
                        first[v] = 1
                        if ((k in last) && v + 0 <= last[k] + 0) {
                                print "FAIL key " k ": value " v " after " last[k]
                                fails++
                        }
                        last[k] = v
                }
        }
        lost = 0
        for (i = 0; i < N; i++) if (!(i in got)) lost++
        if (lost) { print "FAIL " lost " message(s) lost"; fails++ }
        printf "SUMMARY lines=%d distinct=%d lost=%d log_duplicates=%d fails=%d\n", lines, distinct + 0, lost, dups + 0, fails + 0
}' "$H_DIR/committed.txt" "$H_DIR/c1.txt" "$H_DIR/c2.txt")

echo "$report" | sed 's/^/  /' >&2
if grep -q '^FAIL' <<<"$report"; then
        h_fail "round trip check failed (see above)"
fi
grep -q '^SUMMARY .* lost=0 ' <<<"$report" || h_fail "no summary"

h_pass "kafka group round trip: $N messages, resume at committed offsets, broker-down survived"
