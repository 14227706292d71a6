#!/usr/bin/env bash
# 0033-apply-bench: measures, prints, never asserts a timing.
#  1. scripts/s through cdc_apply (pipelined EVALSHA, batches of 256)
#     against the local Redis, and Redis memory per follow edge and per
#     idempotency record (INFO memory used_memory delta / count);
#  2. the Redis-side limit of the same edge script with redis-benchmark
#     (no client in the way): the script source is consumer/lua/cdc_edge.lua,
#     loaded with SCRIPT LOAD, run with random users.
# Sizes: APPLY_BENCH_EDGES (100000), APPLY_BENCH_USERS (10000),
# APPLY_BENCH_IDEMS (20000), APPLY_BENCH_N (redis-benchmark calls, 100000).
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" apply_tool
BIN=$CDC_BUILD_DIR/bin/apply_tool
h_start_redis

"$BIN" bench "${APPLY_BENCH_EDGES:-100000}" "${APPLY_BENCH_USERS:-10000}" \
        "${APPLY_BENCH_IDEMS:-20000}" | tee "$H_DIR/bench.out" ||
        h_fail "apply_tool bench"
grep -q "scripts_per_s=" "$H_DIR/bench.out" || h_fail "no figures"

# The checked-in script and the embedded one must be the same text.
"$BIN" script edge | cmp - "$CDC_SOURCE_DIR/consumer/lua/cdc_edge.lua" ||
        h_fail "embedded edge script differs from consumer/lua/cdc_edge.lua"

if command -v redis-benchmark >/dev/null; then
        sha=$(h_redis -x script load <"$CDC_SOURCE_DIR/consumer/lua/cdc_edge.lua")
        [ ${#sha} -eq 40 ] || h_fail "SCRIPT LOAD: $sha"
        # one follower-side script per call: user __rand_int__ follows
        # another random user (each occurrence is drawn on its own, fine
        # on a standalone server). Versions are fixed, so a repeated edge
        # is a stale no-op: the mix of a replay.
        redis-benchmark -h 127.0.0.1 -p "$H_REDIS_PORT" -q \
                -n "${APPLY_BENCH_N:-100000}" -r 100000 -P 32 -c 4 \
                evalsha "$sha" 4 \
                "rb:{u:__rand_int__}:following" "rb:{u:__rand_int__}:followers" \
                "rb:{u:__rand_int__}:friends" "rb:{u:__rand_int__}:ver" \
                __rand_int__ 100000000000 '' o 1 \
                1795000000000 | tr '\r' '\n' | grep -v '^$' | tail -1 |
                sed 's/.*1795000000000: /redis-benchmark edge script (EVALSHA, -P 32 -c 4): /'
fi
h_pass "apply bench (figures above)"
