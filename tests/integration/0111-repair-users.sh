#!/usr/bin/env bash
# 0111-repair-users: Redis corrupted in known ways (a member deleted,
# bogus members added, a score changed, every key of one user deleted,
# an idempotency key dropped and one altered) is first shown to stay
# wrong, then repaired through the pipeline while a workload writes: a
# `users` request for the four users and a `table` request for
# idempotent_log, filed as rows of the signal table. The producer re-reads
# them between watermarks and the consumer applies the re-reads and the
# users' purges: Redis ends equal to MySQL again.
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" e2e
E_PRODUCER_CONF=(repair.signal.table=followcdc_signal repair.chunk.rows=7)

h_start_mariadb
h_start_redis
h_start_broker

e_producer a --mysql.server.id=1111
e_consumer a
e_wait_state p-a streaming 30 || h_fail "producer is not streaming"
# shellcheck source=repair_lib.sh
. "$H_TEST_DIR/repair_lib.sh"
t_corrupt_redis
if e_check >/dev/null 2>&1; then
        h_fail "check-converged.py does not see the corruption"
fi

# repair while a workload writes
e_workload 1111 8 60 --req-prefix w1
sleep 1
h_mysql "INSERT INTO followcdc_signal (kind, payload)
         VALUES ('users', '$a,$b,$c,$d'), ('table', 'idempotent_log')" ||
        h_fail "could not file the requests"
e_wait_metric p-a followcdc_producer_repair_requests_done_total -ge 2 60 ||
        h_fail "the repairs did not complete"
e_workload_wait
e_converged "after the repair of users $a $b $c $d and idempotent_log" 90
[ "$(h_mysql "SELECT COUNT(*) FROM followcdc_signal WHERE state <> 'done'")" = 0 ] ||
        h_fail "requests not done: $(h_mysql "SELECT * FROM followcdc_signal")"
purges=$(e_metric p-a followcdc_producer_repair_purges_total)
[ "${purges:-0}" = 4 ] || h_fail "purge events: ${purges:-0} (want 4)"
[ "$(h_redis ZSCORE "fc:{u:$b}:following" 999991)" = "" ] ||
        h_fail "bogus member still there"

e_stop c-a || h_fail "consumer exited $? on SIGTERM"
e_stop p-a || h_fail "producer exited $? on SIGTERM"
h_pass "users and table repairs fix a corrupted Redis under a live workload"
