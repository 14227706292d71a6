#!/usr/bin/env bash
# 0051-e2e-crash: the whole pipeline under crashes. While
# scripts/demo-workload.py writes continuously on three connections, the
# producer is killed with SIGKILL three times and restarted from its
# checkpoint file, each of the two consumers is killed with SIGKILL and
# restarted, and Redis is killed with SIGKILL twice and restarted.
# Redis runs with persistence on (appendonly, appendfsync always), so a
# write it acknowledged survives the kill; the consumer reconnects and
# goes on from its committed offsets (no replay). In the end
# scripts/check-converged.py must find Redis equal to MySQL.
# (Redis without persistence loses everything on a kill: that case is the
# replay of 0050, FLUSHALL + a consumer from the earliest offsets.)
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" e2e
E_SERVER_ID=5050

h_start_mariadb
h_start_redis --appendonly appendfsync always
h_start_broker

e_producer a
e_wait_state p-a streaming 30 ||
        h_fail "producer did not start streaming"
e_consumer a
e_consumer b

e_workload 51 30 80

sleep 3
h_wait_for "[ -s '$H_DIR/producer.ckpt' ]" 30 ||
        h_fail "producer a wrote no checkpoint"
e_kill9 p-a
sleep 1
e_producer b
e_wait_metric p-b followcdc_producer_checkpoint_loads_total -eq 1 30 ||
        h_fail "restarted producer found no checkpoint"
sleep 1
e_kill9 c-a
e_consumer a2
sleep 3
keys=$(h_redis DBSIZE)
h_kill9 redis
sleep 1
h_restart redis
[ "$keys" = 0 ] || [ "$(h_redis DBSIZE)" -gt 0 ] ||
        h_fail "Redis came back empty (persistence?)"
sleep 3
e_kill9 p-b
e_producer c
sleep 3
e_kill9 c-b
e_kill9 p-c
e_producer d
e_consumer b2
sleep 3
h_kill9 redis
h_restart redis

e_workload_wait
h_log "$(cat "$H_DIR/workload.out")"
for p in a2 b2; do
        e_alive "c-$p" || h_fail "consumer $p died"
done
e_alive p-d || h_fail "producer d died"

if ! res=$(e_check --wait 90); then
        echo "$res"
        h_fail "Redis did not converge to MySQL after the crashes"
fi
echo "$res"
edges=$(h_mysql "SELECT COUNT(*) FROM follow WHERE status = 1")
e_stop c-a2 || h_fail "consumer a2 exited $? on SIGTERM"
e_stop c-b2 || h_fail "consumer b2 exited $? on SIGTERM"
e_stop p-d || h_fail "producer d exited $? on SIGTERM"
h_pass "converged after 3 producer, 2 consumer and 2 Redis SIGKILLs ($edges edges)"
