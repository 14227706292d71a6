#!/usr/bin/env bash
# 0035-apply-sources-property: random histories of follow rows and of
# pair-table rows (relation bits) on one, two and three sources, with rows
# moved between sources (copy then delete, delete then copy), left on two
# sources, hard deleted and re-inserted, each source numbering its changes
# with its own versions. Delivered through cdc_apply with duplicates,
# replays and random interleavings of the (row, source) streams while the
# connection is killed and the script cache flushed: Redis must equal, key
# by key (members, scores, version fields), the union computed in C from
# each source's newest change, and a second delivery must change nothing.
# APPLY_SOURCES_SEEDS overrides the seeds.
# ctest-labels: sources
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" apply_sources_prop
BIN=$CDC_BUILD_DIR/bin/apply_sources_prop
h_start_redis

for seed in ${APPLY_SOURCES_SEEDS:-1 2}; do
        for model in edge pair; do
                for n in 1 3; do
                        "$BIN" "$model" "$seed" "$n" 60 600 ||
                                h_fail "apply_sources_prop $model seed $seed sources $n"
                done
        done
done
# small and dense: many pairs per user, many moves per row
"$BIN" pair 9 2 8 28 || h_fail "apply_sources_prop pair dense"
"$BIN" edge 9 2 8 56 || h_fail "apply_sources_prop edge dense"
h_pass "apply with several sources and pair rows: Redis is the union of the sources"
