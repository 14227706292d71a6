#!/usr/bin/env bash
# 0092-sighup: SIGHUP never stops a binary. With log.file, the producer
# reopens its log after logrotate renamed it (new lines in a new file, the
# old file keeps the old ones); without, the consumer ignores it (a notice
# on stderr). Both keep running and serving /readyz and /metrics, and stop
# with status 0 on SIGTERM afterwards.
set -euo pipefail
. "$(dirname "$0")/../lib/test.sh" producer consumer

h_start_mariadb
h_start_redis
h_start_broker

# ---- producer, log.file: rotate, SIGHUP, reopen
p_conf a "checkpoint.store=file" "checkpoint.file=$H_DIR/a.ckpt" \
        "log.file=$H_DIR/a.file.log"
e_spawn a "$H_DIR/a.out" "$H_DIR/a.file.log" "$P_BIN" -c "$H_DIR/a.conf"
p_wait_state a streaming 60 || h_fail "a: not streaming"
port=$(p_http_port a) || h_fail "a: no /metrics port"
[ ! -s "$H_DIR/a.out" ] || h_fail "a wrote to stderr with log.file set: $(head -3 "$H_DIR/a.out")"
mv "$H_DIR/a.file.log" "$H_DIR/a.file.log.1"
old=$(wc -c <"$H_DIR/a.file.log.1")
kill -HUP "${P_PID[a]}"
# the notice of the reopen is the new file's first line
h_wait_for "[ -s '$H_DIR/a.file.log' ]" 20 || h_fail "a: log file not reopened"
kill -HUP "${P_PID[a]}"
h_mysql "INSERT INTO follow (follower_id, followee_id) VALUES (1, 2)"
h_wait_for "[ \"\$(curl -fs http://127.0.0.1:$port/metrics |
        awk '\$1 == \"followcdc_producer_events_acked_total\" {print \$2}')\" -ge 1 ]" 30 ||
        h_fail "a: not producing after SIGHUP"
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || h_fail "a: not ready after SIGHUP"
p_alive a || h_fail "a: SIGHUP stopped the producer"
[ "$(wc -c <"$H_DIR/a.file.log.1")" = "$old" ] ||
        h_fail "a: still writing to the rotated file"

# ---- consumer, stderr: SIGHUP is ignored
c_start c
h_wait_for '[ -n "$(e_cmetric c followcdc_consumer_assigned_partitions)" ]' 30 ||
        h_fail "c: no /metrics"
for i in 1 2 3; do
        kill -HUP "${E_PID[c-c]}"
        curl -fs "http://127.0.0.1:${E_CPORT[c-c]}/healthz" >/dev/null ||
                h_fail "c: /healthz after SIGHUP $i"
done
h_mysql "INSERT INTO follow (follower_id, followee_id) VALUES (2, 1)"
friends_of_1() {
        local key
        key=$(h_redis --scan --pattern '*{u:1}:friends' | head -n 1)
        [ -n "$key" ] && [ "$(h_redis ZCARD "$key")" = 1 ]
}
h_wait_for friends_of_1 60 ||
        h_fail "c: not applying after SIGHUP"
c_alive c || h_fail "c: SIGHUP stopped the consumer"

rc=0
c_stop c || rc=$?
[ "$rc" = 0 ] || h_fail "c: exit $rc after SIGTERM"
p_stop a
[ "$P_RC" = 0 ] || h_fail "a: exit $P_RC after SIGTERM"
h_pass "SIGHUP reopens log.file or is ignored; never fatal"
