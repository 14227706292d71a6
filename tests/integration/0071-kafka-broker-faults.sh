#!/usr/bin/env bash
# 0071-kafka-broker-faults: the pipeline on a three-node Apache Kafka
# cluster (replication factor 3, min.insync.replicas=2) while the workload
# writes and the producer and two consumers run:
#  1. the leader of a partition of the follow topic is killed with SIGKILL
#     and restarted on its data;
#  2. once every replica is back in sync, another node is stopped
#     (SIGTERM) for 30 s, then started again.
# Afterwards scripts/check-converged.py must find Redis equal to MySQL, and
# tests/integration/topic_check.py must find every row event of the
# binlog (by GTID and row index) in the topics: no acknowledged change is
# missing.
# brokers: kafka
# processors: 2
set -u
. "$(dirname "$0")/../lib/test.sh" e2e
E_SERVER_ID=7101
E_CKPT_STORE=kafka

h_start_mariadb
h_start_redis
h_start_kafka --nodes 3
T=followcdc.followcdc.follow
IT=followcdc.followcdc.idempotent_log
h_topic_create "$T" 4 || h_fail "create $T"
h_topic_create "$IT" 2 || h_fail "create $IT"

e_producer a
h_wait_for "grep -q 'streaming from' '$H_DIR/p-a.log'" 60 ||
        h_fail "producer did not start streaming"
e_consumer a
e_consumer b
e_workload 71 60 80 --req-prefix w
sleep 8

# 1. SIGKILL the leader of partition 0, restart it
victim=$(h_kafka_leader "$T" 0)
[ -n "$victim" ] && [ "$victim" -ge 1 ] || h_fail "no leader for $T [0]"
h_kill9 "kafka$victim"
# the controller fences it after broker.session.timeout.ms (6 s) and
# elects another in-sync replica
h_wait_for "l=\$(h_kafka_leader $T 0); [ -n \"\$l\" ] && [ \"\$l\" != $victim ] && [ \"\$l\" != -1 ]" 60 ||
        h_fail "no new leader for $T [0] after killing node $victim"
h_log "leader of $T [0]: node $victim killed, now node $(h_kafka_leader "$T" 0)"
h_restart "kafka$victim" || h_fail "kafka$victim did not restart"
h_wait_for "h_kafka_isr_full $T $IT followcdc.checkpoints" 60 ||
        h_fail "replicas did not catch up after the restart of kafka$victim"

# 2. stop another node for 30 s
other=$(( victim % 3 + 1 ))
h_stop "kafka$other"
sleep 30
h_restart "kafka$other" || h_fail "kafka$other did not restart"
e_workload_wait
h_log "$(grep -h '^demo-workload' "$H_DIR/workload.out" | tr '\n' ' ')"
for k in p-a c-a c-b; do
        e_alive "$k" || h_fail "$k died during the broker faults"
done

e_converged "after the broker faults" 120
if ! out=$("$E_PY" "$H_TEST_DIR/topic_check.py" --socket "$H_MYSQL_SOCK" \
        --bootstrap "$H_KAFKA_BOOTSTRAP"); then
        echo "$out"
        h_fail "an acknowledged change is missing from the topics"
fi
h_log "$out"
for k in c-a c-b p-a; do
        e_stop "$k" || h_fail "$k exited $? on SIGTERM"
done
h_pass "leader SIGKILL + restart and a 30 s node stop: converged, nothing missing ($out)"
