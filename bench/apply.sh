#!/usr/bin/env bash
# cdc_apply benchmark (was tests/integration/0033; a benchmark is not a
# test): measures and prints, never asserts a timing.
#  1. scripts/s through cdc_apply (pipelined EVALSHA, batches of 256)
#     against a private Redis, and Redis memory per follow edge and per
#     idempotency record (INFO memory used_memory delta / count);
#  2. the Redis-side limit of the same edge script with redis-benchmark
#     (no client in the way): the script source is consumer/lua/cdc_edge.lua,
#     loaded with SCRIPT LOAD, run with random users.
# Needs build/bin/apply_tool (built with the tests, CDC_BUILD_TESTS=ON).
# Sizes: APPLY_BENCH_EDGES (100000), APPLY_BENCH_USERS (10000),
# APPLY_BENCH_IDEMS (20000), APPLY_BENCH_N (redis-benchmark calls, 100000).
# Last line: RESULT apply follow_scripts_per_s=<n> idem_scripts_per_s=<n>
#            redis_limit_scripts_per_s=<n>
set -euo pipefail

H_NAME=bench-apply
# shellcheck source=../tests/lib/harness.sh
. "$(cd "$(dirname "$0")" && pwd)/../tests/lib/harness.sh"

h_init
BIN=$CDC_BUILD_DIR/bin/apply_tool
[ -x "$BIN" ] || h_fail "$BIN is not built"
h_start_redis

"$BIN" bench "${APPLY_BENCH_EDGES:-100000}" "${APPLY_BENCH_USERS:-10000}" \
        "${APPLY_BENCH_IDEMS:-20000}" | tee "$H_DIR/bench.out" ||
        h_fail "apply_tool bench"
grep -q "scripts_per_s=" "$H_DIR/bench.out" || h_fail "no figures"

limit=0
if command -v redis-benchmark >/dev/null; then
        sha=$(h_redis -x script load <"$CDC_SOURCE_DIR/consumer/lua/cdc_edge.lua")
        [ ${#sha} -eq 40 ] || h_fail "SCRIPT LOAD: $sha"
        # one follower-side script per call: user __rand_int__ follows
        # another random user (each occurrence is drawn on its own, fine
        # on a standalone server). Versions are fixed, so a repeated edge
        # is a stale no-op: the mix of a replay.
        limit=$(redis-benchmark -h 127.0.0.1 -p "$H_REDIS_PORT" --csv \
                -n "${APPLY_BENCH_N:-100000}" -r 100000 -P 32 -c 4 \
                evalsha "$sha" 4 \
                "rb:{u:__rand_int__}:following" "rb:{u:__rand_int__}:followers" \
                "rb:{u:__rand_int__}:friends" "rb:{u:__rand_int__}:ver" \
                __rand_int__ 100000000000 '' o 1 \
                1795000000000 2>/dev/null | tail -n 1 | cut -d, -f2 | tr -d '"')
        limit=${limit%.*}
        echo "redis-benchmark edge script (EVALSHA, -P 32 -c 4): $limit scripts/s"
fi
fsps=$(sed -n 's/^apply_bench follow: .* scripts_per_s=\([0-9]*\).*/\1/p' "$H_DIR/bench.out")
bpe=$(sed -n 's/^apply_bench memory: .* bytes_per_edge=\([0-9.]*\).*/\1/p' "$H_DIR/bench.out")
isps=$(sed -n 's/^apply_bench idem: .* scripts_per_s=\([0-9]*\).*/\1/p' "$H_DIR/bench.out")
echo "RESULT apply follow_scripts_per_s=${fsps:-0} idem_scripts_per_s=${isps:-0} redis_bytes_per_edge=${bpe:-0} redis_limit_scripts_per_s=$limit"
