# shellcheck shell=bash
#
# The preamble of every integration test, in one line:
#
#   #!/usr/bin/env bash
#   # NNNN-name: what the test proves
#   # brokers: dev kafka          (optional, see tests/CMakeLists.txt)
#   set -euo pipefail             (or set -u: the script's own choice)
#   . "$(dirname "$0")/../lib/test.sh" [LIB...] [BIN...]
#
# It sources tests/lib/harness.sh, runs h_init (temporary directory,
# cleanup trap, watchdog), then each LIB in order:
#   e2e        tests/lib/e2e.sh; requires followcdc-producer and -consumer
#   producer   tests/integration/producer_lib.sh (e2e.sh included);
#              requires followcdc-producer
#   consumer   tests/integration/consumer_lib.sh (e2e.sh included);
#              requires followcdc-consumer and consumer_feed
# and fails the test (h_fail) unless each BIN, a program name under
# $CDC_BUILD_DIR/bin, is built. CDC_BUILD_DIR and CDC_SOURCE_DIR (set by
# ctest) default to the checkout holding this file and its build/.
# H_TEST_DIR is the directory of the test script (its helper files).

H_TEST_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
h_init

t__arg=
for t__arg in "$@"; do
        case "$t__arg" in
        e2e)
                # shellcheck source=e2e.sh
                . "$H_LIB_DIR/e2e.sh"
                e_require "$E_PBIN" "$E_CBIN"
                ;;
        producer)
                # shellcheck source=../integration/producer_lib.sh
                . "$CDC_SOURCE_DIR/tests/integration/producer_lib.sh"
                e_require "$P_BIN"
                ;;
        consumer)
                # shellcheck source=../integration/consumer_lib.sh
                . "$CDC_SOURCE_DIR/tests/integration/consumer_lib.sh"
                ;;
        *)
                [ -x "$CDC_BUILD_DIR/bin/$t__arg" ] ||
                        h_fail "$CDC_BUILD_DIR/bin/$t__arg is not built"
                ;;
        esac
done
unset t__arg
