#!/usr/bin/env bash
# 0002-redis-roundtrip: hiredis against the harness's private Redis:
# SET/GET, EVAL of a version-checked script, a pipeline with an error reply.
# Then the same with appendonly: data survives kill -9 and restart.
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" redis_roundtrip
PROG=$CDC_BUILD_DIR/bin/redis_roundtrip

h_start_redis --appendonly
"$PROG" || h_fail "redis_roundtrip failed"

# Redis write(2)s the AOF before it replies, so a process crash (not a
# machine crash) loses nothing even with appendfsync everysec.
h_redis SET rt:durable yes >/dev/null
port=$H_REDIS_PORT
h_kill9 redis
h_restart redis
[ "$H_REDIS_PORT" = "$port" ] || h_fail "port changed"
[ "$(h_redis GET rt:durable)" = yes ] || h_fail "key lost across kill -9"
[ "$(h_redis GET rt:counter)" = 100 ] || h_fail "counter lost across kill -9"
"$PROG" || h_fail "redis_roundtrip failed after restart"

h_pass "SET/GET, EVAL, pipeline and AOF restart"
