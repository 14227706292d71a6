#!/usr/bin/env bash
# 0053-e2e-failover: the pipeline across a producer failover, a MariaDB
# crash and Kafka broker faults. Two producers run for one source: one
# holds the lock, the other waits as a standby; checkpoints are in Kafka.
#  1. while the workload writes, the active producer is killed with
#     SIGKILL: the standby takes over from the Kafka checkpoint; the
#     killed one comes back as the new standby;
#  2. MariaDB is killed with SIGKILL and restarted (same data, binlog and
#     port): the producers reconnect and one streams on;
#  3. while the workload writes again, a Kafka broker goes down for a few
#     seconds (dev broker: then produce requests fail with retriable
#     errors; Apache Kafka: the broker is killed and restarted).
# In the end scripts/check-converged.py must find Redis equal to MySQL,
# and tests/integration/topic_check.py every binlog row event in the topics.
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" e2e
# checkpoints in Kafka, shared by the active and the standby producer
E_CKPT_STORE=kafka
E_PRODUCER_CONF=(lock.retry.ms=300 lock.check.ms=300)
# the dev broker's injected Produce errors are safe only with one request
# in flight (it checks no sequence numbers: docs/devbroker.md)
[ "$H_BROKER" = dev ] && E_PRODUCER_CONF+=(kafka.max.in.flight=1)

h_start_mariadb
h_start_redis
h_start_broker

e_producer a --mysql.server.id=5301
e_wait_state p-a streaming 30 || h_fail "producer a did not start streaming"
e_producer b --mysql.server.id=5302
e_consumer a
e_consumer b
e_wait_state p-b standby 30 || h_fail "producer b is not a standby"
[ "$(e_metric p-b followcdc_producer_stream_starts_total)" = 0 ] ||
        h_fail "producer b streams while a holds the lock"

# 1. producer failover
e_workload 531 12 80 --req-prefix w1
sleep 4
e_kill9 p-a
e_wait_state p-b streaming 30 || h_fail "standby producer b did not take over"
[ "$(e_metric p-b followcdc_producer_checkpoint_loads_total)" = 1 ] ||
        h_fail "producer b did not resume from the Kafka checkpoint"
e_producer a --mysql.server.id=5301
e_workload_wait
e_wait_state p-a standby 30 || h_fail "restarted producer a is not a standby"
[ "$(e_metric p-a followcdc_producer_stream_starts_total)" = 0 ] ||
        h_fail "restarted producer a streams next to b"
if ! res=$(e_check --wait 60); then
        echo "$res"
        h_fail "Redis did not converge after the producer failover"
fi
h_log "failover: $(sed -n 3p <<<"$res")"

# 2. MariaDB crash
streams() {
        echo $(($(e_metric p-a followcdc_producer_stream_starts_total) +
                $(e_metric p-b followcdc_producer_stream_starts_total)))
}
n0=$(streams)
h_kill9 mariadb
sleep 2
h_restart mariadb
e_workload 532 6 80 --req-prefix w2
e_workload_wait
h_wait_for "[ \$(streams) -gt $n0 ]" 60 ||
        h_fail "no producer streams again after the MariaDB restart"
if ! res=$(e_check --wait 60); then
        echo "$res"
        h_fail "Redis did not converge after the MariaDB crash"
fi
h_log "mariadb crash: $(sed -n 3p <<<"$res")"

# 3. broker faults while writing: on the dev broker one broker goes down
# for a few seconds, then produce requests fail with errors the idempotent
# producer retries safely (see docs/devbroker.md); on Kafka the broker is
# killed with SIGKILL and restarted on its data
e_workload 533 10 80 --req-prefix w3
sleep 2
if [ "$H_BROKER" = kafka ]; then
        h_kill9 broker
        sleep 4
        h_restart broker
else
        h_broker_ctl broker-down 1 >/dev/null || h_fail "broker-down"
        sleep 4
        h_broker_ctl broker-up 1 >/dev/null || h_fail "broker-up"
        h_broker_ctl request-errors Produce \
                REQUEST_TIMED_OUT,NOT_ENOUGH_REPLICAS \
                >/dev/null || h_fail "request-errors"
fi
e_workload_wait
h_log "$(grep -h '^demo-workload' "$H_DIR/workload.out" | tr '\n' ' ')"
if ! res=$(e_check --wait 90); then
        echo "$res"
        h_fail "Redis did not converge after the broker faults"
fi
echo "$res"
# nothing acknowledged is missing: every binlog row event is in the topics
if ! out=$("$E_PY" "$H_TEST_DIR/topic_check.py" --socket "$H_MYSQL_SOCK" \
        --bootstrap "$H_KAFKA_BOOTSTRAP"); then
        echo "$out"
        h_fail "a binlog row event is missing from the topics"
fi
h_log "$out"
edges=$(h_mysql "SELECT COUNT(*) FROM follow WHERE status = 1")
for k in c-a c-b p-a p-b; do
        e_stop "$k" || h_fail "$k exited $? on SIGTERM"
done
h_pass "converged across a producer failover, a MariaDB crash and broker faults ($edges edges)"
