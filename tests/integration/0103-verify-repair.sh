#!/usr/bin/env bash
# 0103-verify-repair: followcdc-verify --repair. Redis is corrupted in the
# ways of 0111 (a member deleted, bogus members, a wrong score, one user's
# keys gone, an idempotency key dropped and one altered) and a user MySQL
# has no row for gets keys (found by the scan of Redis); a full verify
# with --repair reports them (exit 1) and files the requests in the
# producer's signal table (users + idempotent_log); once the producer has
# done them, a second full verify finds Redis equal to MySQL (exit 0).
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" e2e followcdc-verify
VBIN=$CDC_BUILD_DIR/bin/followcdc-verify
E_SERVER_ID=1031
E_PRODUCER_CONF=(repair.signal.table=followcdc_signal repair.chunk.rows=7)

h_start_mariadb
h_start_redis
h_start_broker

e_producer a
e_consumer a
e_wait_state p-a streaming 30 || h_fail "producer is not streaming"
# shellcheck source=repair_lib.sh
. "$H_TEST_DIR/repair_lib.sh"
t_corrupt_redis
t_corrupt_orphan

e_verify_conf "$H_DIR/verify.conf" verify.settle.timeout=90s

rc=0
"$VBIN" -c "$H_DIR/verify.conf" --full --repair >"$H_DIR/v1.out" \
        2>"$H_DIR/v1.err" || rc=$?
[ "$rc" = 1 ] || { cat "$H_DIR/v1.out" "$H_DIR/v1.err"; h_fail "verify --repair exited $rc, want 1"; }
grep -q '^REPAIR requested users=[1-9][0-9]* tables=1$' "$H_DIR/v1.out" ||
        { cat "$H_DIR/v1.out"; h_fail "no repair requested"; }
# the user only Redis knows is found by the scan of Redis and repaired too
grep -q "^DIFF user=$o set=following kind=extra_member member=$a " "$H_DIR/v1.out" ||
        { cat "$H_DIR/v1.out"; h_fail "Redis-only user $o not reported"; }
grep -q '^VERIFY .* redis_only_users=1 redis_only_records=0$' "$H_DIR/v1.out" ||
        h_fail "summary: $(grep '^VERIFY' "$H_DIR/v1.out")"
h_mysql "SELECT payload FROM followcdc_signal WHERE kind = 'users'" | tr ',' '\n' |
        grep -qx "$o" || h_fail "user $o not in the repair request"

[ "$(h_mysql "SELECT COUNT(*) FROM followcdc_signal WHERE kind IN ('users', 'table')")" = 2 ] ||
        h_fail "signal rows: $(h_mysql "SELECT kind, payload FROM followcdc_signal")"
e_wait_metric p-a followcdc_producer_repair_requests_done_total -ge 2 90 ||
        h_fail "the repairs did not complete"
"$VBIN" -c "$H_DIR/verify.conf" --full >"$H_DIR/v2.out" 2>"$H_DIR/v2.err" ||
        { cat "$H_DIR/v2.out" "$H_DIR/v2.err"; h_fail "verify after the repair exited $?"; }
e_converged "after the repair"
[ "$(h_redis EXISTS "fc:{u:$o}:following" "fc:{u:$o}:friends")" = 0 ] ||
        h_fail "the keys of Redis-only user $o survived the repair"
e_stop c-a || h_fail "consumer exited $E_RC on SIGTERM"
e_stop p-a || h_fail "producer exited $E_RC on SIGTERM"
h_pass "verify --repair filed the requests; after them verify finds Redis equal to MySQL"
