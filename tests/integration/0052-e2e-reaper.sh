#!/usr/bin/env bash
# 0052-e2e-reaper: the TTL reaper inside the pipeline. Two consumers run
# with reaper.enable=true: exactly one holds the reaper lock and deletes
# the idempotent_log rows older than the TTL (7 days) in status 2
# (succeeded) from MySQL, in batches; rows in status 1 and 3 and fresh rows
# stay. The deletes flow back through the binlog, and Redis still equals
# MySQL (scripts/check-converged.py). Then the reaping consumer is killed
# with SIGKILL: the other one takes the lock over and reaps new expired
# rows.
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" e2e
E_SERVER_ID=5050

h_start_mariadb
h_start_redis
h_start_broker

# old_rows TAG N STATUS: N rows created 10-40 days ago
old_rows() {
        local i sql=""
        for i in $(seq 1 "$2"); do
                sql+="INSERT INTO idempotent_log (request_id, biz_key, status,"
                sql+=" created_at) VALUES ('$1-$i', 'biz-$i', $3,"
                sql+=" UTC_TIMESTAMP(3) - INTERVAL $((10 + i % 30)) DAY);"
        done
        h_mysql "$sql" || h_fail "insert $1 rows"
}
expired() {
        h_mysql "SELECT COUNT(*) FROM idempotent_log WHERE status = $1
                 AND created_at < UTC_TIMESTAMP() - INTERVAL 7 DAY"
}

old_rows old-ok 40 2
old_rows old-processing 5 1
old_rows old-failed 5 3
h_mysql "INSERT INTO idempotent_log (request_id, biz_key, status)
         VALUES ('fresh-1', 'b', 2), ('fresh-2', 'b', 2)" || h_fail "fresh"

e_producer a
e_wait_state p-a streaming 30 ||
        h_fail "producer did not start streaming"
reap=(--reaper.enable=true --reaper.mysql.host=127.0.0.1
      --reaper.mysql.port="$H_MYSQL_PORT" --reaper.mysql.user="$H_CONSUMER_USER"
      --reaper.mysql.password="$H_CONSUMER_PASS" --reaper.interval=1s
      --reaper.batch.size=7 --reaper.pause.ms=20)
e_consumer a "${reap[@]}"
e_consumer b "${reap[@]}"

out=$("$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" \
        --users 30 --ops 1500 --concurrency 3 --seed 52) ||
        h_fail "workload failed: $out"
h_log "$out"

h_wait_for "[ \$(expired 2) = 0 ]" 60 ||
        h_fail "$(expired 2) expired status-2 rows left in MySQL"
la=$(e_cmetric a followcdc_reaper_leader); la=${la:-0}
lb=$(e_cmetric b followcdc_reaper_leader); lb=${lb:-0}
[ "$((la + lb))" = 1 ] || h_fail "reaper leaders: a=$la b=$lb, want one"
leader=c-a other=b
[ "$lb" = 1 ] && leader=c-b other=a
[ "$(expired 1)" -ge 5 ] || h_fail "status-1 rows were reaped"
[ "$(expired 3)" -ge 5 ] || h_fail "status-3 rows were reaped"
[ "$(h_mysql "SELECT COUNT(*) FROM idempotent_log
              WHERE request_id LIKE 'fresh-%'")" = 2 ] ||
        h_fail "fresh rows were reaped"
reaped=$(e_csum followcdc_reaper_deleted_rows_total a b)
[ "$reaped" -ge 40 ] || h_fail "reapers deleted $reaped rows, want >= 40"

if ! res=$(e_check --wait 60); then
        echo "$res"
        h_fail "Redis did not converge to MySQL"
fi
echo "$res"

# the reaping consumer dies: the other takes the lock over
e_kill9 "$leader"
old_rows old-late 20 2
h_wait_for "[ \"\$(e_cmetric $other followcdc_reaper_leader)\" = 1 ]" 30 ||
        h_fail "c-$other did not take the reaper lock over"
h_wait_for "[ \$(expired 2) = 0 ]" 30 ||
        h_fail "$(expired 2) expired status-2 rows left after the takeover"
if ! res=$(e_check --wait 60); then
        echo "$res"
        h_fail "Redis did not converge to MySQL after the takeover"
fi
e_stop "c-$other" || h_fail "c-$other exited $? on SIGTERM"
e_stop p-a || h_fail "producer exited $? on SIGTERM"
h_pass "one reaper at a time, $reaped + 20 expired rows reaped, Redis equals MySQL"
