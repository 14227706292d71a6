#!/usr/bin/env bash
# 0055-e2e-gap: writes made while no producer runs. The producer is
# stopped; meanwhile rows are hard-deleted, unfollowed, inserted and
# updated. (1) A plain restart resumes after its checkpoint and streams the
# gap: Redis equals MySQL. (2) The same again, but the producer restarts
# with --snapshot: the new snapshot only reads the rows that exist, so it
# must not be the only thing that covers the gap — the hard deletes made
# while the producer was down must reach Redis as well (and a replay of the
# topics must not bring the deleted edges back).
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" e2e
E_CKPT_STORE=kafka
E_PRODUCER_CONF=(lock.retry.ms=300 lock.check.ms=300)

h_start_mariadb
h_start_redis
h_start_broker

# e_gap TAG: changes while the producer is down: 4 hard deletes and 4
# unfollows of live edges, 4 new edges, an idempotency row deleted and one
# inserted; prints the hard-deleted edges
e_gap() {
        local del soft
        del=$(h_mysql "SELECT follower_id, followee_id FROM follow
                       WHERE status = 1 ORDER BY id LIMIT 4")
        soft=$(h_mysql "SELECT follower_id, followee_id FROM follow
                        WHERE status = 1 ORDER BY id DESC LIMIT 4")
        {
                while read -r a b; do
                        echo "DELETE FROM follow WHERE follower_id = $a AND followee_id = $b;"
                done <<<"$del"
                while read -r a b; do
                        echo "UPDATE follow SET status = 0, version = version + 1 WHERE follower_id = $a AND followee_id = $b;"
                done <<<"$soft"
                for a in 1 2 3 4; do
                        echo "INSERT INTO follow (follower_id, followee_id, status) VALUES ($((1000 + a)), $((2000 + a)), 1) ON DUPLICATE KEY UPDATE status = VALUES(status), version = version + 1;"
                done
                echo "DELETE FROM idempotent_log WHERE created_at > UTC_TIMESTAMP() - INTERVAL 1 DAY ORDER BY id LIMIT 1;"
                echo "INSERT INTO idempotent_log (request_id, biz_key, status) VALUES ('gap-$1', 'b', 2);"
        } | h_mysql || h_fail "gap writes"
        echo "$del" | tr '\t\n' '> '
}

e_producer a --mysql.server.id=5501
e_wait_state p-a streaming 30 ||
        h_fail "producer did not start streaming"
e_consumer a
"$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" --users 30 \
        --ops 800 --concurrency 3 --seed 55 >/dev/null ||
        h_fail "workload failed"
e_converged "after the workload"

# 1. gap, then a plain restart (streams from the checkpoint)
e_stop p-a || h_fail "producer exited $? on SIGTERM"
gone=$(e_gap 1)
h_log "producer down: hard-deleted $gone and more"
e_producer b --mysql.server.id=5501
e_converged "after a restart from the checkpoint"

# 2. gap, then a restart with a new snapshot
e_stop p-b || h_fail "producer exited $? on SIGTERM"
gone=$(e_gap 2)
h_log "producer down: hard-deleted $gone and more"
e_producer c --mysql.server.id=5501 --snapshot
e_wait_state p-c streaming 30 ||
        h_fail "producer did not finish the snapshot"
e_converged "after a restart with --snapshot (deletes made while the producer was down: $gone)" 20

# 3. the topics alone rebuild the same state
e_stop c-a || h_fail "consumer exited $? on SIGTERM"
h_redis FLUSHALL >/dev/null
e_consumer r --kafka.group.id=followcdc-e2e-replay --replay=earliest
e_converged "after a replay"
e_stop c-r || h_fail "replay consumer exited $? on SIGTERM"
e_stop p-c || h_fail "producer exited $? on SIGTERM"
h_pass "changes made while the producer was down reach Redis, with and without --snapshot"
