#!/usr/bin/env bash
# 0075-kafka-topics: the producer's start-up check of its topics (Admin
# API), on Apache Kafka. (1) topics.create=true creates the missing change
# topics (topics.partitions) and the checkpoint topic (1 partition), all
# compacted, and the producer streams. (2) A source whose topic exists with
# cleanup.policy=delete: a warning and the gauge
# followcdc_producer_topics_not_compacted=1 while it streams; with
# topics.require.compact=true the producer exits 2 naming the topic.
# brokers: kafka
set -u
. "$(dirname "$0")/../lib/test.sh" e2e kafka_admin
E_SERVER_ID=7501
E_CKPT_STORE=kafka

h_start_mariadb
h_start_kafka

policy() {
        h_kafka_admin topic-config "$1" 2>/dev/null |
                sed -n 's/^cleanup.policy=//p'
}
partitions() {
        kcat -b "$H_KAFKA_ADMIN_BOOTSTRAP" -L -t "$1" 2>/dev/null |
                grep -c '^ *partition [0-9]*,'
}

# 1. created, compacted
e_producer a --topics.create=true --topics.partitions=3
e_wait_state p-a streaming 60 || h_fail "producer a did not stream"
for t in followcdc.followcdc.follow followcdc.followcdc.idempotent_log; do
        [ "$(policy "$t")" = compact ] || h_fail "$t: cleanup.policy '$(policy "$t")'"
        [ "$(partitions "$t")" = 3 ] || h_fail "$t: $(partitions "$t") partitions"
done
[ "$(policy followcdc.checkpoints)" = compact ] ||
        h_fail "checkpoint topic: cleanup.policy '$(policy followcdc.checkpoints)'"
[ "$(partitions followcdc.checkpoints)" = 1 ] ||
        h_fail "checkpoint topic: $(partitions followcdc.checkpoints) partitions"
[ "$(e_metric p-a followcdc_producer_topics_not_compacted)" = 0 ] ||
        h_fail "not_compacted gauge on compacted topics"
e_stop p-a || h_fail "producer a exited $E_RC on SIGTERM"

# 2. a topic that deletes old segments
for t in nc.followcdc.follow nc.followcdc.idempotent_log nc.checkpoints; do
        h_topic_create "$t" 1 cleanup.policy=compact || h_fail "create $t"
done
h_kafka_admin create-topic nc2.followcdc.follow 1 1 cleanup.policy=delete ||
        h_fail "create the delete-policy topic"
for t in nc2.followcdc.idempotent_log nc2.checkpoints; do
        h_topic_create "$t" 1 cleanup.policy=compact || h_fail "create $t"
done
e_producer b --source.name=nc2 --mysql.server.id=7502
e_wait_state p-b streaming 60 || h_fail "producer b did not stream"
e_wait_metric p-b followcdc_producer_topics_not_compacted -eq 1 30 ||
        h_fail "the delete-policy topic was not reported"
grep -q 'topic nc2.followcdc.follow has cleanup.policy=delete' "$H_DIR/p-b.log" ||
        h_fail "no warning naming the topic"
e_stop p-b || h_fail "producer b exited $E_RC on SIGTERM"

e_producer c --source.name=nc2 --mysql.server.id=7503 \
        --topics.require.compact=true
wait "${E_PID[p-c]}"
rc=$?
unset "E_PID[p-c]"
[ "$rc" = 2 ] || h_fail "topics.require.compact: exit $rc, want 2"
grep -q 'nc2.followcdc.follow is not compacted' "$H_DIR/p-c.log" ||
        h_fail "the exit does not name the topic"
h_pass "topics created compacted; a delete-policy topic warned about, refused with topics.require.compact"
