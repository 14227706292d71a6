#!/usr/bin/env bash
# 0112-repair-resnapshot-kill: a re-snapshot of the whole follow table
# (a `table` request, chunks of 5 rows) while a workload writes, over a
# Redis whose scores are all wrong: Redis ends equal to MySQL. Then a
# second re-snapshot is cut by a SIGKILL of the producer after 60 chunks;
# a new instance resumes the request from the progress saved in its row
# (it reads exactly the rows after the saved key) and Redis converges.
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" e2e
E_CKPT_STORE=kafka
E_PRODUCER_CONF=(repair.signal.table=followcdc_signal repair.chunk.rows=5
        lock.retry.ms=300 lock.check.ms=300)

h_start_mariadb
h_start_redis
h_start_broker

e_producer a --mysql.server.id=1121
e_consumer a
e_wait_state p-a streaming 30 || h_fail "producer is not streaming"
"$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" --users 40 \
        --ops 1500 --concurrency 2 --seed 112 --req-prefix pre \
        >>"$H_DIR/workload.out" 2>&1 || h_fail "initial workload failed"
e_converged "before the corruption" 60

# every follow time in every followers set becomes wrong
n=$(h_redis EVAL "local n = 0
  for _, k in ipairs(redis.call('KEYS', 'fc:{u:*}:followers')) do
    for _, m in ipairs(redis.call('ZRANGE', k, 0, -1)) do
      redis.call('ZADD', k, 1, m); n = n + 1
    end
  end
  return n" 0)
[ "${n:-0}" -gt 50 ] || h_fail "only ${n:-0} scores corrupted"
if e_check >/dev/null 2>&1; then
        h_fail "check-converged.py does not see the wrong scores"
fi
# 1. a re-snapshot of the whole table while the workload writes
e_workload 1121 6 60 --req-prefix w1
h_mysql "INSERT INTO followcdc_signal (kind, payload) VALUES ('table', 'follow')" ||
        h_fail "could not file the request"
e_wait_metric p-a followcdc_producer_repair_requests_done_total -ge 1 90 ||
        h_fail "the re-snapshot did not complete"
e_workload_wait
e_converged "after a re-snapshot during a workload" 90

# 2. scores wrong again, a re-snapshot, and a SIGKILL in its middle
h_redis EVAL "for _, k in ipairs(redis.call('KEYS', 'fc:{u:*}:following')) do
    for _, m in ipairs(redis.call('ZRANGE', k, 0, -1)) do
      redis.call('ZADD', k, 2, m)
    end
  end" 0 >/dev/null
# the chunk counter is cumulative: the first request already moved it
chunks0=$(e_metric p-a followcdc_producer_repair_chunks_total)
[ -n "$chunks0" ] || h_fail "no chunk counter"
h_mysql "INSERT INTO followcdc_signal (kind, payload) VALUES ('table', 'follow')" ||
        h_fail "could not file the request"
id=$(h_mysql "SELECT MAX(id) FROM followcdc_signal WHERE kind = 'table'")
e_wait_metric p-a followcdc_producer_repair_chunks_total -ge $((chunks0 + 60)) 60 ||
        h_fail "the second re-snapshot does not progress"
e_kill9 p-a
st=$(h_mysql "SELECT state FROM followcdc_signal WHERE id = $id")
cur=$(h_mysql "SELECT progress FROM followcdc_signal WHERE id = $id")
[ "$st" = running ] && [ -n "$cur" ] ||
        h_fail "request after the kill: state '$st' progress '$cur' (want running, a key)"
# the rows after the saved key: what the resumed request must read
fr=$(sed -E 's/^\[([0-9]+),([0-9]+)\]$/\1/' <<<"$cur")
fe=$(sed -E 's/^\[([0-9]+),([0-9]+)\]$/\2/' <<<"$cur")
left=$(h_mysql "SELECT COUNT(*) FROM follow WHERE (follower_id, followee_id) > ($fr, $fe)")
rows=$(h_mysql "SELECT COUNT(*) FROM follow")
[ "$left" -lt "$rows" ] || h_fail "progress $cur covers no row"

e_producer b --mysql.server.id=1121
e_wait_metric p-b followcdc_producer_repair_requests_done_total -ge 1 90 ||
        h_fail "the resumed re-snapshot did not complete"
got=$(($(e_metric p-b followcdc_producer_repair_rows_total) +
       $(e_metric p-b followcdc_producer_repair_rows_dropped_total)))
[ "$got" = "$left" ] ||
        h_fail "the new producer read $got rows, want the $left after $cur (of $rows)"
e_converged "after the resumed re-snapshot" 90
[ "$(h_mysql "SELECT state FROM followcdc_signal WHERE id = $id")" = done ] ||
        h_fail "request not done"
[ "$(h_mysql "SELECT COUNT(*) FROM followcdc_signal WHERE kind IN ('low', 'high')")" -le 2 ] ||
        h_fail "watermarks pile up: $(h_mysql "SELECT COUNT(*) FROM followcdc_signal")"

e_stop c-a || h_fail "consumer exited $? on SIGTERM"
e_stop p-b || h_fail "producer exited $? on SIGTERM"
h_pass "re-snapshot during a workload; resumed after SIGKILL at $cur ($left of $rows rows read again)"
