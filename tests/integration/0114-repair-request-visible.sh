#!/usr/bin/env bash
# 0114-repair-request-visible: a request the binlog carries before its row
# is visible to a SELECT still runs. MariaDB writes a transaction to the
# binlog before its InnoDB commit is visible (for an XA transaction, at XA
# PREPARE, long before XA COMMIT), so the producer can read the event of a
# new request and not find its row yet. A `users` request filed in an XA
# transaction committed 2 s after XA PREPARE runs once committed and
# repairs Redis. One rolled back after XA PREPARE never becomes visible:
# the producer gives it up after 10 s with a warning and runs nothing.
# brokers: dev
set -u
. "$(dirname "$0")/../lib/test.sh" e2e
E_PRODUCER_CONF=(repair.signal.table=followcdc_signal)

h_start_mariadb
h_start_redis
h_start_broker

e_producer a --mysql.server.id=1141
e_consumer a
e_wait_state p-a streaming 30 || h_fail "producer is not streaming"
"$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" --users 20 \
        --ops 400 --concurrency 2 --seed 114 --req-prefix pre \
        >>"$H_DIR/workload.out" 2>&1 || h_fail "workload failed"
e_converged "before the corruption" 60

u=$(h_mysql "SELECT follower_id FROM follow WHERE status = 1
        GROUP BY follower_id ORDER BY COUNT(*) DESC, follower_id LIMIT 1")
x=$(h_mysql "SELECT followee_id FROM follow WHERE follower_id = $u AND status = 1 LIMIT 1")
[ -n "$u" ] && [ -n "$x" ] || h_fail "no user with an edge"
h_redis ZREM "fc:{u:$u}:following" "$x" >/dev/null
e_check >/dev/null 2>&1 && h_fail "check-converged.py does not see the missing member"

# 1. in the binlog at XA PREPARE, visible 2 s later
h_mysql "XA START 'r1';
  INSERT INTO followcdc_signal (kind, payload) VALUES ('users', '$u');
  XA END 'r1'; XA PREPARE 'r1'; DO SLEEP(2); XA COMMIT 'r1'" ||
        h_fail "could not file the request"
e_wait_metric p-a followcdc_producer_repair_requests_done_total -ge 1 60 ||
        h_fail "the request filed in an XA transaction did not run"
e_converged "after the request" 60

# 2. in the binlog at XA PREPARE, then rolled back: never visible
v=$(h_mysql "SELECT followee_id FROM follow WHERE status = 1 AND followee_id <> $u LIMIT 1")
h_mysql "XA START 'r2';
  INSERT INTO followcdc_signal (kind, payload) VALUES ('users', '$v');
  XA END 'r2'; XA PREPARE 'r2'; XA ROLLBACK 'r2'" ||
        h_fail "could not file the rolled back request"
h_wait_for "grep -q 'its row is not in followcdc_signal after 10 s' '$H_DIR/p-a.log'" 30 ||
        h_fail "the rolled back request was not given up"
[ "$(e_metric p-a followcdc_producer_repair_requests_total)" = 1 ] ||
        h_fail "requests taken: $(e_metric p-a followcdc_producer_repair_requests_total), want 1"
e_wait_state p-a streaming 5 || h_fail "producer left the stream"

e_stop c-a || h_fail "consumer exited $? on SIGTERM"
e_stop p-a || h_fail "producer exited $? on SIGTERM"
h_pass "a request visible 2 s after the binlog had it ran; a rolled back one was given up"
