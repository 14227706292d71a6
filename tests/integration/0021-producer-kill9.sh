#!/usr/bin/env bash
# 0021-producer-kill9: SIGKILL the producer at random moments (24 times,
# 12 on Kafka)
# while three connections write a randomized workload; restart it each
# time. Afterwards Kafka must hold every committed change, in order per
# key (re-deliveries allowed), with the checkpoint in Kafka.
# brokers: dev kafka
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" producer

# 24 kills on the dev broker; 12 on Kafka, where each restart costs more
# (a new producer id, metadata): the same proof in half the time
KILLS=${FOLLOWCDC_TEST_KILLS:-$([ "$H_BROKER" = kafka ] && echo 12 || echo 24)}

h_start_mariadb
h_start_broker
p_audit_setup
p_workload 1 100

p_conf p1 "checkpoint.interval.ms=100" "lock.retry.ms=200"
p_start p1
p_wait_state p1 streaming 60 || h_fail "producer did not start streaming"
# The kills start once the first snapshot is done and a stream position
# is saved (a record without "snapshot":"pending"): this test is about
# resuming the stream; kills during a first snapshot are 0058's subject.
h_wait_for "kcat -C -b '$H_KAFKA_BOOTSTRAP' -t followcdc.checkpoints \
        -o beginning -e -q 2>/dev/null | grep -v '\"snapshot\":\"pending\"' |
        grep -q ." 60 ||
        h_fail "no stream checkpoint in followcdc.checkpoints"

# background writers until the kill loop ends
touch "$H_DIR/run"
writers=()
for c in 1 2 3; do
        (
                s=$((c * 1000))
                while [ -f "$H_DIR/run" ]; do
                        p_workload "$s" 60 --sleep-every 5 --prefix "w$c"
                        s=$((s + 1))
                done
        ) &
        writers+=($!)
done

RANDOM=42
for i in $(seq 1 "$KILLS"); do
        # 0.2 .. 1.4 s of life: during snapshot-free start-up, streaming,
        # checkpoint writes
        sleep "$(printf '0.%d' $((RANDOM % 9 + 1)))"
        [ $((RANDOM % 3)) = 0 ] && sleep 0.5
        p_alive p1 || h_fail "producer died by itself (see $H_DIR/p1.log)"
        p_stop p1 KILL
        p_start p1
done
rm -f "$H_DIR/run"
wait "${writers[@]}"

p_wait_state p1 streaming 60 || h_fail "producer did not restart"
# the last restart resumed from the checkpoint the killed ones left
[ "$(p_metric p1 followcdc_producer_checkpoint_loads_total)" = 1 ] &&
        [ "$(p_metric p1 followcdc_producer_snapshots_total)" = 0 ] ||
        h_fail "the last restart did not resume from a checkpoint"
p_wait_check 90 || h_fail "after $KILLS SIGKILLs: Kafka differs from the committed changes"
p_check --stats
# A restart without a checkpoint takes a snapshot (op r events at a new
# position): most restarts must have resumed from a checkpoint instead.
snaps=$(kcat -C -b "$H_KAFKA_BOOTSTRAP" -t followcdc.followcdc.follow \
        -o beginning -e -q -f '%s\n' 2>/dev/null | "$P_PY" -c '
import json, sys
seqs = set()
for line in sys.stdin:
    try:
        ev = json.loads(line)
    except ValueError:
        continue  # a tombstone
    if ev.get("op") == "r":
        seqs.add(ev["source"]["seq"])
print(len(seqs))') || h_fail "reading the topic failed"
[ "$snaps" -ge 1 ] && [ "$snaps" -le $((KILLS / 2)) ] ||
        h_fail "$snaps snapshots in $KILLS restarts: they did not resume from checkpoints"
p_stop p1 TERM
[ "$P_RC" = 0 ] || h_fail "SIGTERM exit status $P_RC, want 0"
h_pass "$KILLS SIGKILLs during a workload: no committed change missing or reordered"
