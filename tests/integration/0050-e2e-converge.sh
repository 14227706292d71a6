#!/usr/bin/env bash
# 0050-e2e-converge: the whole pipeline. MariaDB -> followcdc-producer ->
# dev Kafka broker -> two followcdc-consumer group members -> Redis, fed by
# scripts/demo-workload.py on four concurrent connections (follows,
# unfollows, hard deletes, re-follows, simultaneous mutual follows,
# transactions, a rollback, idempotency rows, some already expired): a
# burst written before the consumers have joined, then paced writes.
# scripts/check-converged.py must find Redis equal to MySQL.
# Then the replay: stop the consumers, FLUSHALL, start a consumer in a new
# group from the earliest offsets: Redis is rebuilt from the topics alone.
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" e2e
E_SERVER_ID=5050

h_start_mariadb
h_start_redis
h_start_broker

e_producer a
e_wait_state p-a streaming 30 ||
        h_fail "producer did not start streaming"
e_consumer a
e_consumer b

# a burst the consumers find as a backlog when they join the group ...
out=$("$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" \
        --users 40 --ops 2000 --concurrency 4 --seed 50 --odd-ids 0.2) ||
        h_fail "workload failed: $out"
h_log "$out"
# ... then paced writes they apply live
h_wait_for "[ \$(e_csum followcdc_consumer_assigned_partitions a b) -gt 0 ]" 30 ||
        h_fail "no consumer got partitions"
out=$("$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" \
        --users 40 --duration 5 --rate 150 --concurrency 4 --seed 500 \
        --req-prefix live) || h_fail "workload failed: $out"
h_log "$out"
edges=$(h_mysql "SELECT COUNT(*) FROM follow WHERE status = 1")
old=$(h_mysql "SELECT COUNT(*) FROM idempotent_log
               WHERE created_at < UTC_TIMESTAMP() - INTERVAL 7 DAY")
[ "$edges" -gt 100 ] || h_fail "workload left only $edges edges"
[ "$old" -gt 0 ] || h_fail "workload made no expired idempotency rows"
odd=$(h_mysql "SELECT COUNT(*) FROM idempotent_log
               WHERE request_id REGEXP '[^-a-z0-9]'")
[ "$odd" -gt 10 ] || h_fail "workload made only $odd odd request ids"

if ! res=$(e_check --wait 90); then
        echo "$res"
        h_fail "Redis did not converge to MySQL"
fi
echo "$res"
show=$("$E_PY" "$E_CHECK" --redis-port "$H_REDIS_PORT" --show 1 --limit 3) ||
        h_fail "--show failed"
grep -q "following" <<<"$show" || h_fail "--show printed: $show"

# replay: Redis rebuilt from the topics alone
e_stop c-a || h_fail "consumer a exited $? on SIGTERM"
e_stop c-b || h_fail "consumer b exited $? on SIGTERM"
h_redis FLUSHALL >/dev/null
[ "$(h_redis DBSIZE)" = 0 ] || h_fail "FLUSHALL left keys"
e_consumer r --kafka.group.id=followcdc-e2e-replay --replay=earliest
if ! res=$(e_check --wait 90); then
        echo "$res"
        h_fail "replay from earliest did not rebuild Redis"
fi
echo "$res"
e_stop c-r || h_fail "replay consumer exited $? on SIGTERM"
e_stop p-a || h_fail "producer exited $? on SIGTERM"
h_pass "converged live and after a replay: $edges edges, $old expired and $odd odd idempotency rows"
