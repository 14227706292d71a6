#!/usr/bin/env bash
# 0031-apply-property: random follow and idempotency histories (200 users,
# 2000 edges, 300 request ids, increasing versions) delivered through
# cdc_apply with duplicates, replays from earlier offsets and random
# interleavings that keep each row's order. Redis must equal, key by key
# (type, content, scores, expiry), the state computed in C from the newest
# change of each row, and a second full delivery must change nothing.
# Several seeds; APPLY_PROP_SEEDS overrides the list.
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" apply_prop
BIN=$CDC_BUILD_DIR/bin/apply_prop
h_start_redis

for seed in ${APPLY_PROP_SEEDS:-1 2 3}; do
        "$BIN" "$seed" 200 2000 300 || h_fail "apply_prop seed $seed"
done
# small and dense: many mutual follows, many changes per user
"$BIN" 7 12 120 40 || h_fail "apply_prop dense"
h_pass "apply property: Redis converges to the newest rows"
