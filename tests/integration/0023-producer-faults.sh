#!/usr/bin/env bash
# 0023-producer-faults: the producer survives, on the dev broker,
#   1. MariaDB SIGKILLed and restarted mid-workload,
#   2. every Kafka broker down for a few seconds mid-workload,
#   3. injected retriable Produce errors,
# and 4. stops (exit 1, checkpoint not past the failed message) on a
# permanent delivery error instead of skipping it; a restart then
# delivers everything. After each step Kafka must hold every committed
# change in order (producer_check.py against the audit triggers), and at
# the end every binlog row event (topic_check.py, by GTID and row index).
# The dev broker checks no idempotent sequence numbers, so the producer
# runs with one request in flight: an injected Produce error with later
# requests in flight would be lost by the mock, not by the producer
# (docs/devbroker.md). Nothing lost under real broker faults is shown on
# Apache Kafka by kafka.0021, kafka.0053 and kafka.0071.
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" producer
h_start_mariadb
h_start_broker
p_audit_setup
p_workload 1 100

p_conf p1 "lock.retry.ms=300" "kafka.max.in.flight=1"
p_start p1
p_wait_state p1 streaming 60 || h_fail "producer did not start streaming"

# ---- 1. MariaDB crash ----
p_workload 11 400 --sleep-every 20 &
w1=$!
sleep 1
h_kill9 mariadb
sleep 1
h_restart mariadb
wait "$w1"
p_workload 12 200
p_alive p1 || h_fail "producer exited after the MariaDB crash"
p_wait_check 60 || h_fail "after MariaDB crash: Kafka differs from the committed changes"
h_log "MariaDB crash: ok"

# ---- 2. all brokers down ----
p_workload 13 300 --sleep-every 20 &
w1=$!
sleep 0.5
for b in 1 2 3; do h_broker_ctl broker-down "$b" >/dev/null; done
sleep 4
for b in 1 2 3; do h_broker_ctl broker-up "$b" >/dev/null; done
wait "$w1"
p_alive p1 || h_fail "producer exited during the Kafka outage"
p_wait_check 60 || h_fail "after Kafka outage: Kafka differs from the committed changes"
h_log "Kafka outage: ok"

# ---- 3. retriable request errors ----
h_broker_ctl request-errors Produce \
        NOT_LEADER_FOR_PARTITION,REQUEST_TIMED_OUT,NOT_ENOUGH_REPLICAS,LEADER_NOT_AVAILABLE,NOT_LEADER_FOR_PARTITION,REQUEST_TIMED_OUT \
        >/dev/null || h_fail "ctl request-errors"
p_workload 14 300
p_alive p1 || h_fail "producer exited on retriable errors"
p_wait_check 60 || h_fail "after request errors: Kafka differs from the committed changes"
h_broker_ctl clear-request-errors Produce >/dev/null
h_log "retriable errors: ok"

# ---- 4. permanent error: stop, don't skip ----
h_broker_ctl request-errors Produce \
        TOPIC_AUTHORIZATION_FAILED,TOPIC_AUTHORIZATION_FAILED,TOPIC_AUTHORIZATION_FAILED,TOPIC_AUTHORIZATION_FAILED \
        >/dev/null || h_fail "ctl request-errors"
p_workload 15 50
h_wait_for "! kill -0 ${P_PID[p1]} 2>/dev/null" 30 ||
        h_fail "producer kept running after a permanent delivery error"
p_stop p1 TERM
[ "$P_RC" = 1 ] || h_fail "exit status $P_RC after a permanent error, want 1"
grep -Eq "delivery .*failed|fatal" "$H_DIR/p1.log" ||
        h_fail "the permanent error is not named in the log"
h_broker_ctl clear-request-errors Produce >/dev/null
p_start p1
p_wait_metric p1 followcdc_producer_checkpoint_loads_total -eq 1 60 ||
        h_fail "did not resume after the permanent error"
p_workload 16 100
p_wait_check 60 || h_fail "after the permanent error: a change was skipped"
p_check --stats
out=$("$P_PY" "$P_DIR/topic_check.py" --socket "$H_MYSQL_SOCK" \
        --bootstrap "$H_KAFKA_BOOTSTRAP") ||
        h_fail "a binlog row event is missing from the topics: $out"
h_log "$out"
p_stop p1 TERM
[ "$P_RC" = 0 ] || h_fail "SIGTERM exit status $P_RC, want 0"
h_pass "MariaDB crash, Kafka outage, retriable and permanent Produce errors"
