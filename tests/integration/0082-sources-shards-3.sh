#!/usr/bin/env bash
# 0082-sources-shards-3: three MariaDB shards sharded by follower id, three
# producers (source.name s1..s3, per-shard topics) into one consumer group
# of two and one Redis. A concurrent workload runs on all three shards,
# moving users between them; every producer is SIGKILLed and restarted
# from its checkpoint, both consumers are SIGKILLed and replaced, and
# Redis is killed (persistence on) and restarted. Redis must end equal to
# the union of the three shards; the producers and consumers stop cleanly.
# ctest-labels: sources
set -u
. "$(dirname "$0")/../lib/test.sh" e2e
# shellcheck source=../lib/shards.sh
. "$H_LIB_DIR/shards.sh"

s_start_shards 3
h_start_redis --appendonly appendfsync always
h_start_broker

for k in 1 2 3; do
        s_producer "$k" a
done
for k in 1 2 3; do
        s_wait_streaming "$k" a
done
s_consumer_flags
e_consumer a "${S_CONSUMER_FLAGS[@]}"
e_consumer b "${S_CONSUMER_FLAGS[@]}"

e_spawn wl "$H_DIR/workload.out" "$H_DIR/workload.out" "$E_PY" \
        "$H_TEST_DIR/sources_wl.py" --shard "${S_SOCK[1]}" \
        --shard "${S_SOCK[2]}" --shard "${S_SOCK[3]}" --model edge \
        --users 45 --concurrency 2 --seed 82 --duration 24 --moves 8
sleep 3
for k in 1 2 3; do
        h_wait_for "[ -s '$H_DIR/p-s$k.ckpt' ]" 30 ||
                h_fail "no checkpoint of shard $k"
done
e_kill9 p-s1-a
s_producer 1 b
sleep 2
e_kill9 c-a
e_consumer a2 "${S_CONSUMER_FLAGS[@]}"
e_kill9 p-s2-a
s_producer 2 b
sleep 3
h_kill9 redis
h_restart redis
e_kill9 p-s3-a
s_producer 3 b
sleep 3
e_kill9 c-b
e_consumer b2 "${S_CONSUMER_FLAGS[@]}"
e_workload_wait
h_log "$(cat "$H_DIR/workload.out")"
grep -q 'moved users none' "$H_DIR/workload.out" && h_fail "no user moved"

s_converged "after moves and SIGKILLs of 3 producers, 2 consumers and Redis" 120
for c in c-a2 c-b2; do
        e_alive "$c" || h_fail "consumer $c died"
        e_stop "$c" || h_fail "consumer $c exited $E_RC on SIGTERM"
done
for k in 1 2 3; do
        e_stop "p-s$k-b" || h_fail "producer of shard $k exited $E_RC on SIGTERM"
done
h_pass "three shards: Redis is the union of the shards ($(sed -n 1p <<<"$res"))"
