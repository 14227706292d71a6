#!/usr/bin/env bash
# 0073-kafka-tombstone-lag: a delete survives compaction, on Apache Kafka.
# A consumer applies some edges and idempotency records and stops. While
# it is away, rows are hard-deleted and other writes keep the segments
# rolling; with min.compaction.lag.ms=0 the log cleaner removes the delete
# events and keeps their tombstones (checked in the topics: for every
# deleted key no delete event is left, its last message is a tombstone
# with the followcdc.delete header). The consumer comes back past
# compaction: it sees only the tombstones and must apply the deletes from
# their headers. Redis equals MySQL afterwards (check-converged), the
# deleted edges and records included.
# brokers: kafka
set -u
. "$(dirname "$0")/../lib/test.sh" consumer followcdc-producer kafka_admin
E_SERVER_ID=7301
E_CKPT_STORE=kafka

h_start_mariadb
h_start_redis
h_start_kafka --prop log.cleaner.backoff.ms=200
compact=(cleanup.policy=compact segment.ms=500
         min.cleanable.dirty.ratio=0.01 min.compaction.lag.ms=0
         delete.retention.ms=3600000)
T=followcdc.followcdc.follow
IT=followcdc.followcdc.idempotent_log
h_topic_create "$T" 2 "${compact[@]}" || h_fail "create $T"
h_topic_create "$IT" 2 "${compact[@]}" || h_fail "create $IT"

e_producer a
h_wait_for "grep -q 'streaming from' '$H_DIR/p-a.log'" 60 ||
        h_fail "producer did not start streaming"

# 12 edges 9001..9012 -> 9100 and 6 idempotency records
vals=$(for i in $(seq 9001 9012); do printf '(%d,9100,1),' "$i"; done)
h_mysql "INSERT INTO follow (follower_id, followee_id, status)
            VALUES ${vals%,}" || h_fail "insert edges"
vals=$(for i in $(seq 1 6); do printf "('tomb-%d','b%d',2,NOW(3)),"  "$i" "$i"; done)
h_mysql "INSERT INTO idempotent_log (request_id, biz_key, status, created_at)
            VALUES ${vals%,}" || h_fail "insert records"
pc=$(h_free_port)
c_start a --http.listen="127.0.0.1:$pc"
e_converged "before the deletes" 60
[ "$(h_redis ZCARD 'fc:{u:9100}:followers')" = 12 ] ||
        h_fail "the edges did not reach Redis"
c_stop a || h_fail "consumer a exited $? on SIGTERM"

# while the consumer is away: hard deletes, then other writes so that the
# segments holding the deletes roll and get cleaned
h_mysql "DELETE FROM follow WHERE followee_id = 9100 AND follower_id <= 9008;
            DELETE FROM idempotent_log WHERE request_id IN ('tomb-1','tomb-2','tomb-3')" ||
        h_fail "delete"
keys=()
for i in $(seq 9001 9008); do keys+=(--key "[$i,9100]"); done
ikeys=(--key '["tomb-1"]' --key '["tomb-2"]' --key '["tomb-3"]')
e_workload 731 30 40
compacted() {
        kcat -b "$H_KAFKA_ADMIN_BOOTSTRAP" -C -t "$T" -o beginning -e -q -J \
                2>/dev/null | "$E_PY" "$H_TEST_DIR/tomb_check.py" "${keys[@]}" \
                >"$H_DIR/tomb.out" &&
        kcat -b "$H_KAFKA_ADMIN_BOOTSTRAP" -C -t "$IT" -o beginning -e -q -J \
                2>/dev/null | "$E_PY" "$H_TEST_DIR/tomb_check.py" "${ikeys[@]}" \
                >>"$H_DIR/tomb.out"
}
h_wait_for compacted 90 ||
        h_fail "the cleaner did not leave only tombstones: $(cat "$H_DIR/tomb.out")"
h_log "compacted: $(tr '\n' ' ' <"$H_DIR/tomb.out")"
kill "${E_PID[wl]}" 2>/dev/null
wait "${E_PID[wl]}" 2>/dev/null
unset "E_PID[wl]"

# the consumer comes back past compaction: same group, committed offsets
# before the deletes
c_start a --http.listen="127.0.0.1:$pc"
e_converged "after the lagging consumer read the tombstones" 90
[ "$(h_redis ZCARD 'fc:{u:9100}:followers')" = 4 ] ||
        h_fail "deleted edges left in Redis: $(h_redis ZRANGE 'fc:{u:9100}:followers' 0 -1 | tr '\n' ' ')"
n=$(c_metric followcdc_consumer_tombstone_deletes_total "$pc")
[ "${n:-0}" -ge 11 ] || h_fail "only ${n:-0} deletes applied from tombstone headers (want >= 11)"
c_stop a || h_fail "consumer a exited $? on SIGTERM"
e_stop p-a || h_fail "producer exited $? on SIGTERM"
h_pass "delete events compacted away, tombstones kept; the lagging consumer applied $n deletes from their headers and converged"
