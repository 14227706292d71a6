#!/usr/bin/env bash
# 0103-verify-repair: followcdc-verify --repair. Redis is corrupted in the
# ways of 0111 (a member deleted, bogus members, a wrong score, one user's
# keys gone, an idempotency key dropped and one altered); a full verify
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
"$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" --users 30 \
        --ops 1500 --concurrency 2 --seed 111 --req-prefix pre \
        >>"$H_DIR/workload.out" 2>&1 || h_fail "initial workload failed"
e_converged "before the corruption" 60

# four users with edges both ways
mapfile -t U < <(h_mysql "SELECT follower_id FROM follow WHERE status = 1
        AND follower_id IN (SELECT followee_id FROM follow WHERE status = 1)
        GROUP BY follower_id ORDER BY COUNT(*) DESC, follower_id LIMIT 4")
[ "${#U[@]}" = 4 ] || h_fail "need 4 users with edges, got ${#U[@]}"
a=${U[0]} b=${U[1]} c=${U[2]} d=${U[3]}
x=$(h_mysql "SELECT followee_id FROM follow WHERE follower_id = $a AND status = 1 LIMIT 1")
y=$(h_mysql "SELECT follower_id FROM follow WHERE followee_id = $c AND status = 1 LIMIT 1")
r1=$(h_mysql "SELECT request_id FROM idempotent_log ORDER BY id DESC LIMIT 1")
r2=$(h_mysql "SELECT request_id FROM idempotent_log ORDER BY id DESC LIMIT 1 OFFSET 1")
[ -n "$x" ] && [ -n "$y" ] && [ -n "$r1" ] && [ -n "$r2" ] ||
        h_fail "could not pick members and request ids"

h_redis ZREM "fc:{u:$a}:following" "$x" >/dev/null             # member deleted
h_redis ZADD "fc:{u:$b}:following" 1700000000000 999991 >/dev/null  # bogus
h_redis ZADD "fc:{u:$b}:followers" 1700000000000 999992 >/dev/null  # bogus
h_redis ZADD "fc:{u:$b}:friends" 1700000000000 999993 >/dev/null    # bogus
h_redis ZADD "fc:{u:$c}:followers" 12345 "$y" >/dev/null        # wrong score
h_redis DEL "fc:{u:$d}:following" "fc:{u:$d}:followers" \
        "fc:{u:$d}:friends" "fc:{u:$d}:ver" >/dev/null             # user gone
h_redis DEL "fc:idem:{r:$r1}" >/dev/null                         # key dropped
h_redis HSET "fc:idem:{r:$r2}" status 9 biz_key bogus >/dev/null  # altered
sleep 1

cat >"$H_DIR/verify.conf" <<CONF
mysql.socket=$H_MYSQL_SOCK
mysql.user=$H_PRODUCER_USER
mysql.password=$H_PRODUCER_PASS
mysql.db=$H_MYSQL_DB
redis.port=$H_REDIS_PORT
kafka.bootstrap.servers=$H_KAFKA_BOOTSTRAP
checkpoint.store=file
checkpoint.file=$H_DIR/producer.ckpt
verify.settle.timeout=90s
CONF

rc=0
"$VBIN" -c "$H_DIR/verify.conf" --full --repair >"$H_DIR/v1.out" \
        2>"$H_DIR/v1.err" || rc=$?
[ "$rc" = 1 ] || { cat "$H_DIR/v1.out" "$H_DIR/v1.err"; h_fail "verify --repair exited $rc, want 1"; }
grep -q '^REPAIR requested users=[1-9][0-9]* tables=1$' "$H_DIR/v1.out" ||
        { cat "$H_DIR/v1.out"; h_fail "no repair requested"; }
[ "$(h_mysql "SELECT COUNT(*) FROM followcdc_signal WHERE kind IN ('users', 'table')")" = 2 ] ||
        h_fail "signal rows: $(h_mysql "SELECT kind, payload FROM followcdc_signal")"
e_wait_metric p-a followcdc_producer_repair_requests_done_total -ge 2 90 ||
        h_fail "the repairs did not complete"
"$VBIN" -c "$H_DIR/verify.conf" --full >"$H_DIR/v2.out" 2>"$H_DIR/v2.err" ||
        { cat "$H_DIR/v2.out" "$H_DIR/v2.err"; h_fail "verify after the repair exited $?"; }
e_converged "after the repair"
e_stop c-a || h_fail "consumer exited $E_RC on SIGTERM"
e_stop p-a || h_fail "producer exited $E_RC on SIGTERM"
h_pass "verify --repair filed the requests; after them verify finds Redis equal to MySQL"
