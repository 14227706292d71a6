#!/usr/bin/env bash
# Build the libFuzzer harnesses (fuzz/, clang + ASan + UBSan) and run each
# one for a fixed time. Any crash, leak, sanitizer report, timeout or
# out-of-memory fails the run; the input that did it is kept in
# <build>/artifacts/ and its path printed. CI runs this after the tests.
#
#   scripts/fuzz.sh                  every harness, 60 s each
#   scripts/fuzz.sh --time 3600 rowdec   one harness for an hour
#
# Options:
#   --time S         seconds per harness (default 60, env CDC_FUZZ_SECONDS)
#   --build-dir DIR  default build-fuzz
#   --no-deps        skip scripts/deps.sh
#   --no-build       use the binaries already in the build dir
#   --list           print the harness names and exit
#   NAME...          run only these harnesses (fuzz/fuzz_<NAME>.c)
#
# Each harness starts from its checked-in seeds (fuzz/corpus/<NAME>/),
# which are replayed first (so every reproducer stays a regression test),
# plus what earlier runs in the same build dir found
# (<build>/corpus/<NAME>/). To keep new finds, minimise them into the
# repository: <build>/fuzz/fuzz_<NAME> -merge=1 fuzz/corpus/<NAME> \
#   <build>/corpus/<NAME>. Details: docs/testing.md.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
secs=${CDC_FUZZ_SECONDS:-60}
build=$src/build-fuzz
deps=1
do_build=1
list=0
names=()
while [ "$#" -gt 0 ]; do
        case "$1" in
        --time) secs=$2; shift ;;
        --build-dir) build=$2; shift ;;
        --no-deps) deps=0 ;;
        --no-build) do_build=0 ;;
        --list) list=1 ;;
        -h | --help)
                sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
                exit 0
                ;;
        -*)
                echo "fuzz: unknown option '$1' (see --help)" >&2
                exit 2
                ;;
        *) names+=("$1") ;;
        esac
        shift
done
case "$secs" in
'' | *[!0-9]*)
        echo "fuzz: --time wants whole seconds, not '$secs'" >&2
        exit 2
        ;;
esac
case "$build" in /*) ;; *) build=$src/$build ;; esac

if [ "${#names[@]}" -eq 0 ]; then
        mapfile -t names < <(cd "$src/fuzz" && ls fuzz_*.c 2>/dev/null |
                sed 's/^fuzz_//; s/\.c$//' | LC_ALL=C sort)
fi
if [ "$list" = 1 ]; then
        printf '%s\n' "${names[@]}"
        exit 0
fi
if [ "${#names[@]}" -eq 0 ]; then
        echo "fuzz: no harnesses in fuzz/" >&2
        exit 0
fi

if [ "$deps" = 1 ]; then
        "$src/scripts/deps.sh"
fi

if [ "$do_build" = 1 ]; then
        mkdir -p "$build"
        if ! CC=clang cmake -S "$src" -B "$build" \
                -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCDC_BUILD_FUZZERS=ON \
                -DCDC_ENABLE_ASAN=ON -DCDC_BUILD_TESTS=OFF \
                >"$build/configure.log" 2>&1; then
                tail -n 30 "$build/configure.log" >&2
                echo "fuzz: configure failed" >&2
                exit 1
        fi
        if ! cmake --build "$build" -j "${CDC_BUILD_JOBS:-$(nproc)}" \
                >"$build/build.log" 2>&1; then
                grep -E -B2 -A6 'error' "$build/build.log" | head -n 60 >&2 || true
                echo "fuzz: build failed (full log: $build/build.log)" >&2
                exit 1
        fi
fi

export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"

mkdir -p "$build/artifacts"
rc=0
for n in "${names[@]}"; do
        bin=$build/fuzz/fuzz_$n
        if [ ! -x "$bin" ]; then
                echo "fuzz: $n: $bin is not built" >&2
                rc=1
                continue
        fi
        seeds=$src/fuzz/corpus/$n
        work=$build/corpus/$n
        mkdir -p "$work"
        dirs=("$work")
        [ -d "$seeds" ] && dirs+=("$seeds")
        opts=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048
              -print_final_stats=1 -artifact_prefix="$build/artifacts/$n-")
        [ -f "$src/fuzz/$n.dict" ] && opts+=(-dict="$src/fuzz/$n.dict")
        log=$build/fuzz-$n.log
        echo "fuzz: $n for ${secs}s" >&2
        set +e
        "$bin" "${opts[@]}" "${dirs[@]}" >"$log" 2>&1
        frc=$?
        set -e
        execs=$(grep -E '^stat::number_of_executed_units:' "$log" |
                awk '{print $2}' | tail -n 1)
        corp=$(find "$work" -type f | wc -l)
        if [ "$frc" -ne 0 ]; then
                grep -E -A30 'ERROR: |runtime error|==[0-9]+==' "$log" |
                        head -n 60 >&2 || tail -n 40 "$log" >&2
                art=$(grep -oE "$build/artifacts/$n-[^ ]+" "$log" | tail -n 1)
                echo "FUZZ $n FAILED (exit $frc) input: ${art:-see $log}" >&2
                rc=1
        else
                echo "FUZZ $n ok execs=${execs:-?} corpus=$corp seconds=$secs"
        fi
done
exit "$rc"
