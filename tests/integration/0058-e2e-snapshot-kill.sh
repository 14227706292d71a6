#!/usr/bin/env bash
# 0058-e2e-snapshot-kill: a producer SIGKILLed in its first snapshot,
# before any checkpoint, then rows deleted before it restarts. The rows
# the first snapshot published stay in the topics; the new snapshot no
# longer sees the deleted ones, so only a delete event can remove them
# from Redis. The producer stores the snapshot's start before its first
# row (a "pending" checkpoint), takes the snapshot again on restart and
# streams from that start: the deletes are published and Redis equals
# MySQL. Without the pending checkpoint the deleted edges stay in Redis.
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" e2e
E_CKPT_STORE=kafka
E_PRODUCER_CONF=(lock.retry.ms=300 lock.check.ms=300)

h_start_mariadb
h_start_redis
h_start_broker

# 30,000 edges before followcdc: users 1..300 follow 100 users each
h_mysql "INSERT INTO follow (follower_id, followee_id)
         SELECT 1 + (seq DIV 100), 100000 + (seq MOD 100)
         FROM seq_0_to_29999" || h_fail "preload"

# 1. the first snapshot, one row a chunk (30,000 round trips: on a fast
# machine 20-row chunks finished before the first look), killed part way
e_producer a --mysql.server.id=5801 --snapshot.chunk.rows=1
e_wait_metric p-a followcdc_producer_snapshot_rows_total -ge 400 60 ||
        h_fail "the snapshot did not start publishing"
[ "$(e_metric p-a followcdc_producer_state)" = 1 ] ||
        h_fail "the snapshot ended before the kill (make it slower)"
[ "$(e_metric p-a followcdc_producer_checkpoint_writes_total)" = 0 ] ||
        h_fail "a checkpoint was written during the first snapshot"
h_log "killing the producer at $(e_metric p-a followcdc_producer_snapshot_rows_total) of 30000 snapshot rows"
e_kill9 p-a

# 2. deletes while no producer runs: users 1..3 were published already
# (primary key order), user 299 may or may not have been
h_mysql "DELETE FROM follow WHERE follower_id IN (1, 2, 3, 299)" ||
        h_fail "delete"

# 3. restart: the snapshot again, then the stream from the first one's
# start (its deletes included)
e_producer b --mysql.server.id=5801 --snapshot.chunk.rows=500
e_consumer a
e_wait_state p-b streaming 90 || h_fail "producer did not stream"
[ "$(e_metric p-b followcdc_producer_snapshots_total)" = 1 ] ||
        h_fail "the restarted producer took no snapshot"
e_converged "after the restart" 90
[ "$(h_redis EXISTS "fc:{u:1}:following")" = 0 ] ||
        h_fail "user 1's deleted edges are still in Redis"
e_stop c-a || h_fail "consumer exited $E_RC on SIGTERM"
e_stop p-b || h_fail "producer exited $E_RC on SIGTERM"
h_pass "a snapshot killed before its first checkpoint is taken again and the deletes in between are published"
