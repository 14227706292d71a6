#!/usr/bin/env bash
# 0032-apply-restart: Redis is killed (kill -9) and restarted EMPTY while
# cdc_apply holds an unflushed batch. The flush must fail with
# CDC_ERR__TRANSPORT and keep the batch, cdc_apply_connect() must succeed
# again (with backoff) once Redis is back, and re-applying the kept batch
# plus a replay of the stream from the start must rebuild exactly the
# state a fault-free run produces (compared key by key in another db).
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" apply_tool
BIN=$CDC_BUILD_DIR/bin/apply_tool
h_start_redis   # no persistence: a restart comes back empty

mkfifo "$H_DIR/go"
"$BIN" restart <"$H_DIR/go" >"$H_DIR/restart.out" 2>&1 &
tool=$!
exec 3>"$H_DIR/go"      # keep the fifo open for writing

h_wait_for "grep -q READY '$H_DIR/restart.out'" 60 ||
        { cat "$H_DIR/restart.out"; h_fail "apply_tool never got ready"; }
grep READY "$H_DIR/restart.out"
h_kill9 redis
h_restart redis
[ "$(h_redis dbsize)" = 0 ] || h_fail "redis did not come back empty"
echo go >&3
exec 3>&-
rc=0
wait "$tool" || rc=$?
cat "$H_DIR/restart.out"
# the tool fails unless the flush returned CDC_ERR__TRANSPORT and kept
# the batch, the reconnect worked and the replay rebuilt the state
[ "$rc" -eq 0 ] || h_fail "apply_tool restart exited $rc"
h_pass "apply restart: batch kept, reconnect, replay rebuilds the state"
