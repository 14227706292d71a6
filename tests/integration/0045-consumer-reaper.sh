#!/usr/bin/env bash
# TTL reaper against MariaDB: deletes exactly the expired rows in the
# allowed statuses (never "processing"), in batches; with two consumers only
# one reaps; when the reaper dies the other takes over.
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" consumer

h_start_mariadb
h_start_redis
h_start_broker

# c_rows STATUS: rows of idempotent_log in STATUS; c_old: rows older than 7 d
c_rows() { h_mysql "SELECT COUNT(*) FROM idempotent_log WHERE status = $1"; }
c_ins() { # c_ins PREFIX COUNT STATUS AGE_SQL
        h_mysql "INSERT INTO idempotent_log (request_id, biz_key, status, created_at)
                 SELECT CONCAT('$1-', seq), 'order', $3, UTC_TIMESTAMP(3) - $4
                 FROM seq_1_to_$2" || h_fail "insert $1"
}
c_ins exp2 130 2 "INTERVAL 8 DAY"
c_ins exp3 40 3 "INTERVAL 9 DAY"
c_ins exp1 30 1 "INTERVAL 30 DAY"
c_ins new2 50 2 "INTERVAL 1 HOUR"
c_ins edge2 5 2 "INTERVAL 10070 MINUTE"
[ "$(c_rows 2)" = 185 ] || h_fail "setup: $(c_rows 2) rows in status 2"

common=(--reaper.enable=true --reaper.mysql.host=127.0.0.1
        --reaper.mysql.port="$H_MYSQL_PORT" --reaper.mysql.user="$H_CONSUMER_USER"
        --reaper.mysql.db="$H_MYSQL_DB" --reaper.interval=1s
        --reaper.batch.size=50 --reaper.pause.ms=50 --idem.ttl=7d)
printf '%s' "$H_CONSUMER_PASS" >"$H_DIR/mysql.pass"
pa=$(h_free_port)
pb=$(h_free_port)
c_start a "${common[@]}" --reaper.mysql.password="file:$H_DIR/mysql.pass" \
        --http.listen="127.0.0.1:$pa"
h_wait_for "[ \"\$(c_metric followcdc_reaper_leader $pa)\" = 1 ]" 20 || h_fail "a never took the lock"
c_start b "${common[@]}" --reaper.mysql.password="file:$H_DIR/mysql.pass" \
        --http.listen="127.0.0.1:$pb"
h_wait_for "[ \$(c_rows 2) = 55 ]" 30 || h_fail "status 2: $(c_rows 2) rows left, want 55"
sleep 3 # b has had several rounds to (wrongly) reap
[ "$(c_rows 1)" = 30 ] || h_fail "processing rows were reaped: $(c_rows 1) left"
[ "$(c_rows 3)" = 40 ] || h_fail "status 3 is not in reaper.statuses: $(c_rows 3) left"
left=$(h_mysql "SELECT COUNT(*) FROM idempotent_log WHERE status = 2 AND request_id LIKE 'exp2-%'")
[ "$left" = 0 ] || h_fail "$left expired rows left"
da=$(c_metric followcdc_reaper_deleted_rows_total "$pa")
db=$(c_metric followcdc_reaper_deleted_rows_total "$pb")
[ "$da" = 130 ] && [ "$db" = 0 ] || h_fail "deleted a=$da b=$db, want 130/0"
[ "$(c_metric followcdc_reaper_leader "$pb")" = 0 ] || h_fail "b claims the lock"
[ "$(c_metric followcdc_reaper_leader "$pa")" = 1 ] || h_fail "a lost the lock"
h_log "a reaped 130 rows, b stood by"

# the leader dies: its connection closes, the lock is free, b takes over
c_kill9 a
c_ins late3 20 3 "INTERVAL 10 DAY"
c_ins late2 20 2 "INTERVAL 10 DAY"
h_wait_for "[ \"\$(c_metric followcdc_reaper_leader $pb)\" = 1 ]" 20 || h_fail "b never took over"
h_wait_for "[ \$(c_rows 2) = 55 ]" 20 || h_fail "b did not reap: $(c_rows 2) rows"
[ "$(c_rows 3)" = 60 ] || h_fail "status 3 rows reaped"
c_stop b || h_fail "b exited $?"

# statuses 2,3 with a zone: CONVERT_TZ with an offset needs no tz tables
c_start c "${common[@]}" --reaper.mysql.password="file:$H_DIR/mysql.pass" \
        --reaper.statuses=2,3 --source.tz=+00:00
h_wait_for "[ \$(c_rows 3) = 0 ]" 20 || h_fail "status 3: $(c_rows 3) rows left"
[ "$(c_rows 2)" = 55 ] && [ "$(c_rows 1)" = 30 ] || h_fail "wrong rows reaped"
c_stop c || h_fail "c exited $?"

# status 1 (processing) is refused by the configuration
"$C_BIN" --reaper.statuses=1,2 --dump-config >/dev/null 2>&1
[ $? = 2 ] || h_fail "reaper.statuses=1 accepted"
h_pass "reaped exactly the expired rows of allowed statuses, one instance at a time"
