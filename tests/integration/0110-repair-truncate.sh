#!/usr/bin/env bash
# 0110-repair-truncate: a TRUNCATE of a captured table in the middle of a
# live workload becomes truncate events (one per partition of the table's
# topic) and the consumer removes every edge side and idempotency record
# older than the TRUNCATE: Redis ends equal to MySQL, including the rows
# written after it. Before truncate events, Redis kept every edge the
# TRUNCATE removed (check-converged.py reports them as extra members).
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" e2e

h_start_mariadb
h_start_redis
h_start_broker

e_producer a --mysql.server.id=1101
e_consumer a
e_wait_state p-a streaming 30 || h_fail "producer is not streaming"

# data from before, fully applied
"$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" --users 30 \
        --ops 600 --concurrency 2 --seed 110 --req-prefix pre \
        >>"$H_DIR/workload.out" 2>&1 || h_fail "initial workload failed"
e_converged "before the TRUNCATEs" 60
before=$(h_redis EVAL "return #redis.call('KEYS', 'fc:{u:*}:following')" 0)
[ "${before:-0}" -gt 0 ] || h_fail "no user keys in Redis before the TRUNCATE"

# TRUNCATE both tables while the workload writes
e_workload 1101 8 80 --req-prefix w1
sleep 2
h_mysql "TRUNCATE TABLE follow" || h_fail "TRUNCATE follow failed"
sleep 1
h_mysql "TRUNCATE TABLE idempotent_log" || h_fail "TRUNCATE idempotent_log failed"
e_workload_wait
e_wait_metric p-a followcdc_producer_truncates_total -ge 2 30 ||
        h_fail "the producer did not send both TRUNCATEs"
e_converged "after two TRUNCATEs mid-workload" 90
n=$(e_cmetric a followcdc_apply_truncates_total)
[ "${n:-0}" -ge 2 ] || h_fail "consumer applied ${n:-0} truncate events (want >= 2)"
removed=$(e_cmetric a followcdc_apply_truncate_removed_total)
[ "${removed:-0}" -gt 0 ] || h_fail "the sweeps removed nothing"

# a TRUNCATE with no writes after it: Redis ends empty of edges
h_mysql "TRUNCATE TABLE follow" || h_fail "TRUNCATE follow failed"
e_wait_metric p-a followcdc_producer_truncates_total -ge 3 30 ||
        h_fail "the producer did not send the third TRUNCATE"
e_converged "after a TRUNCATE of an idle table" 60
left=$(h_redis EVAL "return #redis.call('KEYS', 'fc:{u:*}:follow*')" 0)
[ "$left" = 0 ] || h_fail "$left following/followers keys left after TRUNCATE"

e_stop c-a || h_fail "consumer exited $? on SIGTERM"
e_stop p-a || h_fail "producer exited $? on SIGTERM"
h_pass "TRUNCATE mid-workload converges (removed $removed edge sides and records)"
