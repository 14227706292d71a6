#!/usr/bin/env bash
# Build followcdc and run every test (unit + integration) with ctest.
#
#   scripts/test-all.sh           build dir: build       (-DCDC_WERROR=ON)
#   scripts/test-all.sh --asan    build dir: build-asan  (+ ASan/UBSan)
#
# Options:
#   --asan           AddressSanitizer + UndefinedBehaviorSanitizer build
#   --no-deps        skip scripts/deps.sh (packages already installed)
#   --build-dir DIR  build there instead of build / build-asan
#   -j N             ctest parallelism (default 2; the tests start their
#                    own servers on free ports, so suites may overlap)
#   -R REGEX / -E REGEX / -L LABEL / -LE LABEL   passed to ctest (e.g.
#                    -L unit; -LE kafka skips the Apache Kafka tests)
#
# Environment: CDC_BUILD_JOBS (compile jobs, default nproc),
# CDC_CTEST_TIMEOUT (per-test cap in seconds, default from tests/).
# Exits non-zero when the build or any test fails.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
asan=0
deps=1
jobs=2
build_dir=
ctest_args=()
while [ "$#" -gt 0 ]; do
        case "$1" in
        --asan) asan=1 ;;
        --no-deps) deps=0 ;;
        -j) jobs=$2; shift ;;
        --build-dir) build_dir=$2; shift ;;
        -R | -L | -E | -LE) ctest_args+=("$1" "$2"); shift ;;
        -h | --help)
                sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
                exit 0
                ;;
        *)
                echo "test-all: unknown argument '$1' (see --help)" >&2
                exit 2
                ;;
        esac
        shift
done

if [ "$asan" = 1 ]; then
        build=$src/build-asan
        cmake_extra=(-DCDC_ENABLE_ASAN=ON)
        # Leaks fail the test; the first error stops the process with a
        # stack trace. librdkafka/Connector/C keep a few process-lifetime
        # allocations: suppress them in tests/lib/lsan.supp, not here.
        export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:print_stacktrace=1:check_initialization_order=1:${ASAN_OPTIONS:-}"
        export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
        if [ -f "$src/tests/lib/lsan.supp" ]; then
                export LSAN_OPTIONS="suppressions=$src/tests/lib/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"
        fi
else
        build=$src/build
        cmake_extra=()
fi

if [ -n "$build_dir" ]; then
        case "$build_dir" in
        /*) build=$build_dir ;;
        *) build=$src/$build_dir ;;
        esac
fi

if [ "$deps" = 1 ]; then
        "$src/scripts/deps.sh"
fi

# Style first: banned functions and clang-format drift fail the run (once;
# the --asan pass builds the same sources).
if [ "$asan" = 0 ] && ! "$src/scripts/style-check.sh"; then
        echo "test-all: style check failed (scripts/style-check.sh)" >&2
        exit 1
fi

t0=$(date +%s)
echo "test-all: configure + build in $build" >&2
mkdir -p "$build"
if ! cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCDC_WERROR=ON -DCDC_BUILD_TESTS=ON "${cmake_extra[@]}" \
        >"$build/configure.log" 2>&1; then
        tail -n 40 "$build/configure.log" >&2
        echo "test-all: configure failed" >&2
        exit 1
fi
if ! cmake --build "$build" -j "${CDC_BUILD_JOBS:-$(nproc)}" \
        >"$build/build.log" 2>&1; then
        grep -E -B2 -A6 'error|Error' "$build/build.log" | head -n 80 >&2 || true
        echo "test-all: build failed (full log: $build/build.log)" >&2
        exit 1
fi
t1=$(date +%s)
echo "test-all: build took $((t1 - t0)) s" >&2

log=$build/ctest-summary.log
set +e
(cd "$build" && ctest --output-on-failure -j "$jobs" \
        ${CDC_CTEST_TIMEOUT:+--timeout "$CDC_CTEST_TIMEOUT"} \
        "${ctest_args[@]}") 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
t2=$(date +%s)
summary=$(grep -E '^[0-9]+% tests passed' "$log" | tail -n 1 || true)
if [ -z "$summary" ]; then
        summary="no ctest summary (ctest exit $rc)"
        [ "$rc" -eq 0 ] && rc=1
fi
echo "test-all: $([ "$asan" = 1 ] && echo 'asan: ')$summary; tests took $((t2 - t1)) s" >&2
exit "$rc"
