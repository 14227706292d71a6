#!/usr/bin/env bash
# 0054-e2e-snapshot: snapshot and stream overlap. The tables already hold
# data when the producer first starts, and the workload keeps writing
# while the producer takes its initial snapshot (in chunks of 50 rows) and
# switches to the binlog: Redis must end up equal to MySQL. Then the
# producer restarts with a new snapshot on demand (--snapshot) and writes
# go on during it, over a Redis that already holds everything: the
# snapshot reads must not undo newer streamed changes. Last, Redis is flushed and rebuilt by a replay
# of the topics, which now hold two snapshots and the stream between.
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" e2e
E_CKPT_STORE=kafka
E_PRODUCER_CONF=(lock.retry.ms=300 lock.check.ms=300)

h_start_mariadb
h_start_redis
h_start_broker

# data that exists before followcdc
"$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" --users 40 \
        --ops 1500 --concurrency 2 --seed 54 --req-prefix pre \
        >>"$H_DIR/workload.out" 2>&1 || h_fail "initial workload failed"
rows=$(h_mysql "SELECT (SELECT COUNT(*) FROM follow) +
                       (SELECT COUNT(*) FROM idempotent_log)")

# 1. initial snapshot while writing
e_workload 541 8 100 --req-prefix w1
sleep 1
e_producer a --mysql.server.id=5401 --snapshot.chunk.rows=50
e_consumer a
e_wait_state p-a streaming 30 ||
        h_fail "producer did not finish its snapshot"
[ "$(e_metric p-a followcdc_producer_snapshots_total)" = 1 ] ||
        h_fail "no snapshot was taken"
e_workload_wait
e_converged "after the initial snapshot ($rows rows before start)" 90

# 2. a new snapshot on demand, over a full Redis, while writing
# (writes made while no producer runs are the subject of 0055)
e_stop p-a || h_fail "producer exited $? on SIGTERM"
e_producer b --mysql.server.id=5401 --snapshot.chunk.rows=50 --snapshot
e_workload 542 6 100 --req-prefix w2
e_wait_state p-b streaming 30 ||
        h_fail "producer did not finish the new snapshot"
[ "$(e_metric p-b followcdc_producer_snapshots_total)" = 1 ] ||
        h_fail "--snapshot took no snapshot"
e_workload_wait
e_converged "after the second snapshot" 90

# 3. replay of everything into an empty Redis
e_stop c-a || h_fail "consumer exited $? on SIGTERM"
h_redis FLUSHALL >/dev/null
e_consumer r --kafka.group.id=followcdc-e2e-replay --replay=earliest
e_converged "after the replay" 90
edges=$(h_mysql "SELECT COUNT(*) FROM follow WHERE status = 1")
e_stop c-r || h_fail "replay consumer exited $? on SIGTERM"
e_stop p-b || h_fail "producer exited $? on SIGTERM"
h_pass "snapshot/stream overlap, re-snapshot and replay converge ($edges edges)"
