#!/usr/bin/env bash
# 0029-producer-readiness: /readyz and the state metrics tell an active
# producer, a healthy standby, an unreachable source and unusable Kafka
# apart. Ready means "doing its job or a healthy standby":
#   active, streaming            200 "ready: active, streaming", role 1
#   standby, lock held elsewhere 200 "ready: standby ...", role 0
#   MySQL unreachable            503 "not ready: source unreachable ..."
#   every Kafka broker down      503 "not ready: kafka unusable ..."
# and both come back by themselves.
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" producer
h_start_mariadb
h_start_broker

# readyz_is NAME CODE PREFIX: /readyz answers CODE (200/503) with a body
# starting with PREFIX
readyz_is() {
        local body rc=0
        body=$(p_readyz "$1") || rc=$?
        case "$2:$rc" in 200:0 | 503:1) ;; *) return 1 ;; esac
        [ "${body#"$3"}" != "$body" ]
}
# wait_readyz NAME CODE PREFIX [SECS]
wait_readyz() {
        h_wait_for "readyz_is $1 $2 '$3'" "${4:-30}" || {
                h_log "$1: /readyz: $(p_readyz "$1" || true)"
                return 1
        }
}

for n in a b; do
        p_conf "$n" "checkpoint.store=file" "checkpoint.file=$H_DIR/ckpt.json" \
                "lock.retry.ms=300" "lock.check.ms=300"
done
p_start a
p_wait_state a streaming 60 || h_fail "a did not start streaming"
p_start b
p_wait_state b standby 30 || h_fail "b is not a standby"

wait_readyz a 200 "ready: active, streaming" || h_fail "a: not ready"
wait_readyz b 200 "ready: standby" || h_fail "b: a healthy standby is not ready"
# the metrics follow (the main loop publishes them; /readyz reads live)
p_wait_metric a followcdc_producer_role -eq 1 10 || h_fail "a: role"
p_wait_metric b followcdc_producer_role -eq 0 10 || h_fail "b: role"
p_wait_metric b followcdc_producer_ready -eq 1 10 || h_fail "b: ready metric"

# MySQL goes away: neither is ready, both say why
h_kill9 mariadb
wait_readyz b 503 "not ready: source unreachable" ||
        h_fail "b: standby with MySQL down is ready"
wait_readyz a 503 "not ready: source unreachable" ||
        h_fail "a: active with MySQL down is ready"
p_wait_metric b followcdc_producer_source_up -eq 0 10 || h_fail "b: source_up"
p_wait_metric a followcdc_producer_ready -eq 0 10 || h_fail "a: ready metric"
h_restart mariadb
# one of them streams again, the other stands by; both ready
h_wait_for "readyz_is a 200 'ready: active, streaming' ||
            readyz_is b 200 'ready: active, streaming'" 60 ||
        h_fail "nobody streams after MySQL came back"
wait_readyz a 200 "ready: " 30 || h_fail "a: not ready after MySQL came back"
wait_readyz b 200 "ready: " 30 || h_fail "b: not ready after MySQL came back"
h_log "MySQL down and back: ok"

# Kafka goes away: not ready either, and back
for k in 1 2 3; do h_broker_ctl broker-down "$k" >/dev/null; done
h_mysql "INSERT INTO follow (follower_id, followee_id) VALUES (1, 2)"
wait_readyz a 503 "not ready: kafka unusable" 60 ||
        h_fail "a: ready with every broker down"
wait_readyz b 503 "not ready: kafka unusable" 60 ||
        h_fail "b: ready with every broker down"
p_wait_metric a followcdc_producer_kafka_up -eq 0 10 || h_fail "a: kafka_up"
p_wait_metric b followcdc_producer_ready -eq 0 10 || h_fail "b: ready metric"
for k in 1 2 3; do h_broker_ctl broker-up "$k" >/dev/null; done
wait_readyz a 200 "ready: " 60 || h_fail "a: not ready after Kafka came back"
wait_readyz b 200 "ready: " 60 || h_fail "b: not ready after Kafka came back"
p_wait_metric a followcdc_producer_kafka_up -eq 1 10 || h_fail "a: kafka_up"
h_log "Kafka down and back: ok"

for n in a b; do
        p_stop "$n" TERM
        [ "$P_RC" = 0 ] || h_fail "$n: SIGTERM exit status $P_RC"
done
h_pass "/readyz: active, standby, source unreachable and Kafka unusable are told apart"
