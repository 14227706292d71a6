#!/usr/bin/env bash
# bench/instr.sh: noise-free instruction counts of the two hot paths on a
# fixed input, comparable across machines and unaffected by load:
#   producer  decode + encode: INSTR_ROWS (100,000) follow inserts, 10 per
#             transaction, synthesized from tests/data/binlog/stream and
#             fed through cdc_stream and cdc_emit (bench/instr_producer.c)
#   consumer  parse + map: as many JSON change events through
#             cdc_precheck, cdc_event_parse and cdc_apply_add
#             (bench/instr_consumer.c)
# Each driver runs under `valgrind --tool=callgrind`, counting only the
# measured loop (--toggle-collect=instr_run), not building the input.
# Last line:
#   RESULT instr producer_per_row=<n> consumer_per_row=<n>
#
# Options: --profile[=N]  also print the top N (25) functions of each
#          profile (callgrind_annotate, inclusive of nothing: self cost)
#          --keep=DIR     keep the callgrind.out files in DIR
# Environment: CDC_BUILD_DIR (default <checkout>/build), INSTR_ROWS.
# Needs valgrind (scripts/deps.sh) and the build's instr_* drivers.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
: "${CDC_SOURCE_DIR:=$(cd "$HERE/.." && pwd)}"
: "${CDC_BUILD_DIR:=$CDC_SOURCE_DIR/build}"
ROWS=${INSTR_ROWS:-100000}
TOP=0
KEEP=
for arg in "$@"; do
        case "$arg" in
        --profile) TOP=25 ;;
        --profile=*) TOP=${arg#*=} ;;
        --keep=*) KEEP=${arg#*=} ;;
        *) echo "bench/instr.sh: unknown argument '$arg' (--profile[=N], --keep=DIR)" >&2; exit 2 ;;
        esac
done
command -v valgrind >/dev/null || { echo "bench/instr.sh: valgrind missing (scripts/deps.sh)" >&2; exit 1; }
for b in instr_producer instr_consumer; do
        [ -x "$CDC_BUILD_DIR/bin/$b" ] || { echo "bench/instr.sh: $CDC_BUILD_DIR/bin/$b is not built" >&2; exit 1; }
done
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# count NAME ARGS...: instructions of instr_run() per row, on stdout
count() {
        local name=$1 f ir start
        shift
        f=$OUT/callgrind.out.$name
        # built with callgrind.h: the input is built uninstrumented
        start=()
        "$CDC_BUILD_DIR/bin/$name" --requests && start=(--instr-atstart=no)
        valgrind --tool=callgrind --toggle-collect=instr_run "${start[@]}" \
                --callgrind-out-file="$f" "$CDC_BUILD_DIR/bin/$name" "$@" \
                >"$OUT/$name.out" 2>"$OUT/$name.log" || {
                echo "bench/instr.sh: $name failed:" >&2
                cat "$OUT/$name.out" >&2
                tail -n 5 "$OUT/$name.log" >&2
                exit 1
        }
        ir=$(awk '/^totals:/ {print $2; exit}' "$f")
        [ -n "$ir" ] && [ "$ir" -gt 0 ] || { echo "bench/instr.sh: no count for $name" >&2; exit 1; }
        echo "$name: $(cat "$OUT/$name.out"); instructions=$ir" >&2
        if [ "$TOP" -gt 0 ]; then
                callgrind_annotate --threshold=99 "$f" 2>/dev/null |
                        sed -n '/^ *Ir/,$p' | head -n $((TOP + 3)) >&2
        fi
        [ -z "$KEEP" ] || { mkdir -p "$KEEP"; cp "$f" "$KEEP/"; }
        echo $((ir / ROWS))
}

prod=$(count instr_producer "$ROWS" 10)
cons=$(count instr_consumer "$ROWS")
# counts move with the optimisation level (-O2 against -O3: 9,054 and
# 25,539 against 8,315 and 22,556): say which build counted
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$CDC_BUILD_DIR/CMakeCache.txt" 2>/dev/null)
echo "instr: counted in a ${btype:-unknown} build"
echo "RESULT instr producer_per_row=$prod consumer_per_row=$cons"
