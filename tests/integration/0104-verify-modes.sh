#!/usr/bin/env bash
# 0104-verify-modes: followcdc-verify's other modes and exit statuses.
# --sample=N checks at most N users that exist (exit 0 when converged);
# a bad setting exits 2 naming it; MySQL unreachable exits 3; continuous
# mode (--every with --users) serves Prometheus metrics that follow what
# each run finds: a corrupted user counts as different run after run, and
# once Redis is put right the next runs are equal; SIGTERM between runs
# exits 0.
# brokers: dev
set -euo pipefail
. "$(dirname "$0")/../lib/test.sh" e2e followcdc-verify
VBIN=$CDC_BUILD_DIR/bin/followcdc-verify
E_SERVER_ID=5104

h_start_mariadb
h_start_redis
h_start_broker
h_mysql "INSERT INTO follow (follower_id, followee_id, status)
  SELECT seq, seq % 20 + 1, 1 FROM seq_1_to_20;
  INSERT INTO follow (follower_id, followee_id, status) VALUES (2001, 2002, 1)"
e_producer a
e_wait_state p-a streaming 30 || h_fail "producer did not start streaming"
e_consumer a
e_converged "first rows"

e_verify_conf "$H_DIR/verify.conf" verify.settle.timeout=30s
V() { "$VBIN" -c "$H_DIR/verify.conf" "$@"; }

# --sample: at most N existing users, clean
V --sample=5 --verify.seed=7 >"$H_DIR/s.out" 2>"$H_DIR/s.err" ||
        { cat "$H_DIR/s.out" "$H_DIR/s.err"; h_fail "--sample exited $?"; }
n=$(sed -n 's/^VERIFY users=\([0-9]*\) .*/\1/p' "$H_DIR/s.out")
[ -n "$n" ] && [ "$n" -ge 1 ] && [ "$n" -le 5 ] && grep -q ' divergent_users=0 ' "$H_DIR/s.out" ||
        h_fail "--sample=5: $(tail -n 1 "$H_DIR/s.out")"

# configuration errors: exit 2, the setting named
rc=0; V --verify.chunk.rows=lots >/dev/null 2>"$H_DIR/c1.err" || rc=$?
[ "$rc" = 2 ] && grep -q 'verify.chunk.rows' "$H_DIR/c1.err" ||
        h_fail "bad verify.chunk.rows: exit $rc, $(cat "$H_DIR/c1.err")"
rc=0; V --sample=3 --users=1 >/dev/null 2>"$H_DIR/c2.err" || rc=$?
[ "$rc" = 2 ] || h_fail "--sample with --users: exit $rc, $(cat "$H_DIR/c2.err")"
rc=0; V >/dev/null 2>"$H_DIR/c3.err" || rc=$?
[ "$rc" = 2 ] || h_fail "no mode: exit $rc, $(cat "$H_DIR/c3.err")"

# MySQL unreachable: could not finish, exit 3
rc=0; V --users=1 --mysql.socket= --mysql.host=127.0.0.1 \
        --mysql.port="$(h_free_port)" >/dev/null 2>"$H_DIR/m.err" || rc=$?
[ "$rc" = 3 ] || h_fail "MySQL unreachable: exit $rc, $(tail -n 3 "$H_DIR/m.err")"

# continuous: metrics follow the runs
h_redis ZREM 'fc:{u:2001}:following' 2002 >/dev/null
port=$(h_free_port)
"$VBIN" -c "$H_DIR/verify.conf" --users=2001,1 --every=1s --http.listen="127.0.0.1:$port" \
        >"$H_DIR/e.out" 2>"$H_DIR/e.err" &
vpid=$!
h_track_pid "$vpid"
vm() { curl -fs "http://127.0.0.1:$port/metrics" 2>/dev/null |
        awk -v n="$1" '$1 == n {print $2}'; }
h_wait_for '[ "$(vm "followcdc_verify_runs_total{result=\"different\"}")" -ge 2 ] 2>/dev/null' 60 ||
        { cat "$H_DIR/e.err"; h_fail "no two runs counted as different"; }
[ "$(vm followcdc_verify_divergent_users)" = 1 ] &&
        [ "$(vm 'followcdc_verify_differences{kind="missing_member"}')" = 1 ] &&
        [ "$(vm followcdc_verify_users)" = 2 ] ||
        h_fail "metrics of a different run: $(curl -fs "http://127.0.0.1:$port/metrics" | grep '^followcdc_verify')"
# put Redis right by hand: the next runs are equal
sc=$(h_redis ZSCORE 'fc:{u:2002}:followers' 2001)
h_redis ZADD 'fc:{u:2001}:following' "$sc" 2002 >/dev/null
h_wait_for '[ "$(vm "followcdc_verify_runs_total{result=\"equal\"}")" -ge 1 ] 2>/dev/null' 60 ||
        h_fail "no equal run after the fix"
[ "$(vm followcdc_verify_divergent_users)" = 0 ] || h_fail "divergent_users not back to 0"
kill -TERM "$vpid"
rc=0; wait "$vpid" || rc=$?
[ "$rc" = 0 ] || { tail -n 5 "$H_DIR/e.err"; h_fail "--every exited $rc on SIGTERM"; }
grep -c '^VERIFY ' "$H_DIR/e.out" | { read -r k; [ "$k" -ge 3 ]; } ||
        h_fail "expected a summary per run"
h_pass "--sample, exit 2 and 3, --every metrics (different, then equal), SIGTERM exit 0"
