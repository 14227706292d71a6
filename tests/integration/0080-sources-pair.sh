#!/usr/bin/env bash
# 0080-sources-pair: the pair-table model end to end. The table
# `friendship` (schemas/mysql/003-pair.sql: one row per pair, relation
# bits 1 = a follows b, 2 = b follows a, per-direction since-times) is
# written by six connections at once with INSERT ... ON DUPLICATE KEY
# UPDATE relation = relation | bit and relation & ~bit: both users of a
# pair following each other at the same instant, unfollows racing follows,
# pairs deleted and inserted again. A producer captures it, two consumers
# (follow.model=pair) apply it; one consumer and the producer are SIGKILLed
# and restarted during the run. check-converged.py --model pair must find
# following, followers, friends and their scores equal to the table.
# ctest-labels: sources
set -u
. "$(dirname "$0")/../lib/test.sh" e2e
E_SERVER_ID=8080

h_start_mariadb
h_mysql <"$CDC_SOURCE_DIR/schemas/mysql/003-pair.sql" ||
        h_fail "loading schemas/mysql/003-pair.sql"
h_start_redis
h_start_broker

E_PRODUCER_CONF=("source.tables=friendship,idempotent_log"
        "source.keys=friendship:user_a,user_b")
PAIR=(--follow.model=pair --follow.table=friendship
      --follow.col.time.ab=a_since --follow.col.time.ba=b_since)
CHECK=(--model pair --follow-table friendship --col-time-ab a_since
       --col-time-ba b_since)

e_producer a
e_wait_state p-a streaming 60 || h_fail "producer did not start streaming"
e_consumer a "${PAIR[@]}"
e_consumer b "${PAIR[@]}"

e_spawn wl "$H_DIR/workload.out" "$H_DIR/workload.out" "$E_PY" \
        "$H_TEST_DIR/sources_wl.py" --shard "$H_MYSQL_SOCK" --model pair \
        --users 24 --concurrency 6 --seed 80 --duration 20
sleep 5
e_kill9 c-a
e_consumer a2 "${PAIR[@]}"
sleep 4
h_wait_for "[ -s '$H_DIR/producer.ckpt' ]" 30 || h_fail "no producer checkpoint"
e_kill9 p-a
e_producer b
e_workload_wait
h_log "$(cat "$H_DIR/workload.out")"
grep -q ' mutual=[1-9]' "$H_DIR/workload.out" || h_fail "no simultaneous mutual follows"
grep -q ' race=[1-9]' "$H_DIR/workload.out" || h_fail "no unfollow racing a follow"

friends=$(h_mysql "SELECT COUNT(*) FROM friendship WHERE relation & 3 = 3")
one_way=$(h_mysql "SELECT COUNT(*) FROM friendship WHERE relation & 3 IN (1, 2)")
[ "$friends" -gt 0 ] && [ "$one_way" -gt 0 ] ||
        h_fail "the workload left $friends friend pairs and $one_way one-way pairs"
e_converged_pair() {
        if ! res=$(e_check "${CHECK[@]}" --wait 90); then
                echo "$res"
                h_fail "Redis did not converge to the pair table"
        fi
        h_log "$(sed -n 3p <<<"$res")"
}
e_converged_pair
# a pair deleted now, and one turned into friends, arrive too
pair=$(h_mysql "SELECT user_a, user_b FROM friendship WHERE relation & 3 = 3 LIMIT 1")
h_mysql "DELETE FROM friendship WHERE user_a = ${pair%%$'\t'*} AND user_b = ${pair##*$'\t'}"
h_mysql "INSERT INTO friendship (user_a, user_b, relation, a_since, b_since)
         VALUES (1000, 1001, 3, NOW(3), NOW(3))"
e_converged_pair
[ "$(h_redis ZSCORE 'fc:{u:1001}:friends' 1000)" != "" ] ||
        h_fail "new friends 1000 and 1001 not in Redis"
e_alive c-b || h_fail "consumer b died"
e_alive c-a2 || h_fail "consumer a2 died"
e_stop c-a2 || h_fail "consumer a2 exited $E_RC on SIGTERM"
e_stop c-b || h_fail "consumer b exited $E_RC on SIGTERM"
e_stop p-b || h_fail "producer b exited $E_RC on SIGTERM"
h_pass "pair table ($friends friend pairs, $one_way one-way): Redis equals MySQL after concurrent bit updates and SIGKILLs"
