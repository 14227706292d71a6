#!/usr/bin/env bash
# 0072-kafka-sasl-acl: Apache Kafka with SASL over TLS (certificates made
# by the harness with openssl) and ACLs on (nothing allowed without one).
#  1. The ACLs of schemas/kafka-acls.md, applied with Kafka's own
#     kafka-acls tool, are enough: a producer and a consumer, each with its
#     own least-privilege principal (SASL/PLAIN), bring Redis to MySQL.
#  2. Wrong password, a principal without ACLs, a broker certificate
#     signed by a CA the client does not trust, and a SCRAM login (which
#     librdkafka 2.0.2 cannot complete against Kafka 4): each producer and
#     consumer exits non-zero with a line naming the cause, never stalls.
# brokers: kafka
set -u
. "$(dirname "$0")/../lib/test.sh" e2e kafka_admin

h_start_mariadb
h_start_redis
h_start_kafka --sasl --user followcdc-producer:producer-secret \
        --user followcdc-consumer:consumer-secret \
        --user followcdc-nobody:nobody-secret
h_topic_create followcdc.followcdc.follow 4 || h_fail "create follow topic"
h_topic_create followcdc.followcdc.idempotent_log 2 || h_fail "create idempotent_log topic"
h_topic_create followcdc.dlq 1 || h_fail "create dlq topic"

# 1. the ACLs of schemas/kafka-acls.md (keep both in step)
acl() {
        h_kafka_tool org.apache.kafka.tools.AclCommand \
                --bootstrap-server "$H_KAFKA_ADMIN_BOOTSTRAP" --add "$@" \
                >>"$H_DIR/acls.log" 2>&1 || h_fail "kafka-acls $*"
}
acl --allow-principal User:followcdc-producer \
    --operation Write --operation Describe \
    --topic followcdc.followcdc. --resource-pattern-type prefixed
acl --allow-principal User:followcdc-producer \
    --operation Read --operation Write --operation Describe \
    --topic followcdc.checkpoints
acl --allow-principal User:followcdc-consumer \
    --operation Read --operation Describe \
    --topic followcdc.followcdc. --resource-pattern-type prefixed
acl --allow-principal User:followcdc-consumer \
    --operation Read --group followcdc-redis
acl --allow-principal User:followcdc-consumer \
    --operation Write --operation Describe --topic followcdc.dlq

# the broker's authorizer has them once an authorized client sees the
# topic (metadata lists a topic only to principals allowed to Describe it)
h_wait_for "kcat -b '$H_KAFKA_BOOTSTRAP' -X security.protocol=SASL_SSL \
        -X sasl.mechanisms=PLAIN -X sasl.username=followcdc-consumer \
        -X sasl.password=consumer-secret -X ssl.ca.location='$H_KAFKA_CA' \
        -L -t followcdc.followcdc.follow -m 5 2>/dev/null |
        grep -q 'partition 0, leader'" 30 ||
        h_fail "the consumer principal cannot see its topic after the ACLs"

# sasl USER PASSWORD [CA] [MECHANISM]: client settings (a config file:
# the password never goes on a command line)
sasl() {
        echo "kafka.security.protocol=SASL_SSL"
        echo "kafka.sasl.mechanisms=${4:-PLAIN}"
        echo "kafka.sasl.username=$1"
        echo "kafka.sasl.password=$2"
        echo "kafka.ssl.ca.location=${3:-$H_KAFKA_CA}"
}
# start NAME SERVER_ID PRODUCER_PASSWORD CONSUMER_PASSWORD [CA] [MECHANISM]:
# a producer as followcdc-producer (lock off: the failing ones run next to
# each other) and a consumer as followcdc-consumer; with PRODUCER_PASSWORD
# "nobody", both log in as followcdc-nobody, a user without any ACL
start() {
        local name=$1 sid=$2 ppw=$3 cpw=$4 pu=followcdc-producer
        local cu=followcdc-consumer
        shift 4
        if [ "$ppw" = nobody ]; then
                pu=followcdc-nobody cu=followcdc-nobody
                ppw=nobody-secret cpw=nobody-secret
        fi
        mapfile -t kv < <(sasl "$pu" "$ppw" "$@")
        e_producer_conf "$H_DIR/p-$name.conf" "mysql.server.id=$sid" \
                "lock.enabled=false" "checkpoint.store=kafka" "${kv[@]}"
        e_spawn "p-$name" "$H_DIR/p-$name.log" "$H_DIR/p-$name.log" \
                "$E_PBIN" -c "$H_DIR/p-$name.conf"
        sasl "$cu" "$cpw" "$@" >"$H_DIR/c-$name.conf"
        e_consumer "$name" -c "$H_DIR/c-$name.conf"
}

start ok 7201 producer-secret consumer-secret
h_wait_for "grep -q 'streaming from' '$H_DIR/p-ok.log'" 60 ||
        h_fail "producer did not start streaming over SASL_SSL"
"$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" --users 20 \
        --ops 600 --concurrency 2 --seed 72 >/dev/null || h_fail "workload failed"
e_converged "with least-privilege principals over SASL_SSL" 90
e_stop c-ok || h_fail "consumer exited $? on SIGTERM"
e_stop p-ok || h_fail "producer exited $? on SIGTERM"

# 2. refused: each process must exit non-zero and name the cause
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=another CA" \
        -keyout "$H_DIR/other-ca.key" -out "$H_DIR/other-ca.pem" \
        >/dev/null 2>&1 || h_fail "openssl: other CA"
start badpw 7202 wrong-password wrong-password
start noacl 7203 nobody nobody
start untrusted 7204 producer-secret consumer-secret "$H_DIR/other-ca.pem"
start scram 7205 producer-secret consumer-secret "$H_KAFKA_CA" SCRAM-SHA-512
declare -A cause=(
        [badpw]='authentication failed'
        [noacl]='authorization failed|not authorized'
        [untrusted]='TLS handshake failed.*certificate verify failed'
        [scram]='authentication failed')
for n in badpw noacl untrusted scram; do
        for k in "p-$n" "c-$n"; do
                h_wait_for "! e_alive $k" 60 ||
                        h_fail "$k still runs 60 s after a refused login or a missing ACL (a stall)"
                e_stop "$k"
                [ "$E_RC" != 0 ] || h_fail "$k exited 0 after $n"
                grep -Eiq "(CRIT|ERR) (KPROD|KCONS) .*(${cause[$n]})" \
                        "$H_DIR/$k.log" ||
                        h_fail "$k: no error naming the cause (${cause[$n]})"
        done
done
h_pass "least-privilege ACLs suffice over SASL_SSL; wrong password, missing ACL, untrusted certificate and SCRAM each stop with the cause"
