#!/usr/bin/env bash
# 0030-apply-scripts: semantics of the cdc_apply Redis scripts against a
# private Redis: stale, duplicate and out-of-order changes are no-ops; a
# mutual follow ends as friends in every order of its four edge-side
# scripts; follow racing unfollow ends in the final state; soft delete,
# hard delete, re-follow; idempotency records expire at created_at + TTL
# (absolute), expired rows are not written, deletes remove; NOSCRIPT
# recovery; a failing script keeps its batch; poison events are refused.
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" apply_redis apply_tool
BIN=$CDC_BUILD_DIR/bin/apply_redis
h_start_redis

"$BIN" || h_fail "apply_redis: script semantics"
# The checked-in scripts and the embedded ones must be the same text.
TOOL=$CDC_BUILD_DIR/bin/apply_tool
for s in edge idem; do
        "$TOOL" script "$s" | cmp - "$CDC_SOURCE_DIR/consumer/lua/cdc_$s.lua" ||
                h_fail "embedded $s script differs from consumer/lua/cdc_$s.lua"
done
h_pass "apply scripts: semantics"
