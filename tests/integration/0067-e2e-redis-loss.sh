#!/usr/bin/env bash
# 0067-e2e-redis-loss: Redis without persistence is killed and restarted
# empty while scripts/demo-workload.py writes and two consumers apply.
# Consumer b is frozen (SIGSTOP) before the restart and SIGKILLed once
# consumer a has seen the loss, so b never learns of it: its partitions,
# committed past data that Redis no longer has, move to a, which must
# replay them too (the replay obligation lives on the Redis marker, not
# in the instance that noticed). With no manual step Redis converges to
# MySQL; the loss is counted in followcdc_consumer_redis_data_loss_total
# and the replays in followcdc_consumer_redis_loss_replays_total.
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" e2e
E_SERVER_ID=5067

# cwait NAME METRIC OP N [SECS]: until consumer NAME's METRIC OP N holds
cwait() {
        h_wait_for "v=\$(e_cmetric $1 $2); [ \"\${v:-0}\" $3 $4 ]" "${5:-30}" || {
                h_log "c-$1: $2 is '$(e_cmetric "$1" "$2")', want $3 $4"
                return 1
        }
}

h_start_mariadb
h_start_redis # no persistence: a restart comes back empty
h_start_broker

e_producer a
e_wait_state p-a streaming 30 || h_fail "producer did not start streaming"
e_consumer a
e_consumer b
# on Apache Kafka the topics appear with the first event: start writing
e_workload 67 30 80
# the markers exist before Redis restarts (a new Redis counts as a loss:
# each consumer's first check may create one)
cwait a followcdc_consumer_redis_loss_checks_total -ge 1 30 ||
        h_fail "consumer a never checked the markers"
cwait b followcdc_consumer_redis_loss_checks_total -ge 1 30 ||
        h_fail "consumer b never checked the markers"
cwait a followcdc_consumer_assigned_partitions -ge 1 60 ||
        h_fail "consumer a has no partition"
cwait b followcdc_consumer_assigned_partitions -ge 1 60 ||
        h_fail "consumer b has no partition"
sleep 8 # offsets committed (auto-commit every 5 s) past applied data
lost=$(e_cmetric a followcdc_consumer_redis_data_loss_total)
replays=$(e_cmetric a followcdc_consumer_redis_loss_replays_total)
before=$(h_redis DBSIZE)
kill -STOP "${E_PID[c-b]}"
h_kill9 redis
sleep 1
h_restart redis
after=$(h_redis DBSIZE)
h_log "Redis had $before keys, $after after the restart"
[ "$before" -gt 100 ] && [ "$after" -lt "$before" ] ||
        h_fail "Redis did not lose its data ($before -> $after keys)"
cwait a followcdc_consumer_redis_data_loss_total -gt "$lost" 30 ||
        h_fail "consumer a did not detect the loss"
cwait a followcdc_consumer_redis_loss_replays_total -gt "$replays" 30 ||
        h_fail "consumer a did not replay"
replays=$(e_cmetric a followcdc_consumer_redis_loss_replays_total)
e_kill9 c-b
# b's partitions come to a (session timeout 6 s), whose check finds them
# not replayed since the marker was made again
cwait a followcdc_consumer_redis_loss_replays_total -gt "$replays" 60 ||
        h_fail "b's partitions were not replayed after they moved to a"
e_workload_wait
e_converged "after a Redis restart without persistence" 120
h_log "consumer a: $(e_cmetric a followcdc_consumer_redis_data_loss_total) loss(es), $(e_cmetric a followcdc_consumer_redis_loss_replays_total) partition replays"
e_stop c-a || h_fail "consumer a exited $E_RC on SIGTERM"
e_stop p-a || h_fail "producer exited $E_RC on SIGTERM"
h_pass "Redis rebuilt itself after a restart without persistence"
