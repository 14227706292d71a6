#!/usr/bin/env bash
# 0069-consumer-loss-check-refused: Redis refuses the data-loss marker
# check (the marker key is made a string: every check gets WRONGTYPE, as
# it would get OOM, NOPERM or READONLY). The consumer must keep fetching
# and applying while it retries the check with a backoff: Redis converges
# to MySQL through a workload, the failures are counted in
# followcdc_consumer_redis_loss_check_errors_total and logged (once, as a
# streak), without reconnecting to Redis. When the key is removed, the
# next check works again, logs the recovery, and (the marker being gone)
# replays to rebuild Redis.
# brokers: dev
set -u
. "$(dirname "$0")/../lib/test.sh" e2e
E_SERVER_ID=5069

h_start_mariadb
h_start_redis
h_start_broker

e_producer a
e_wait_state p-a streaming 30 || h_fail "producer did not start streaming"
e_consumer a
"$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" --users 20 \
        --ops 300 --concurrency 2 --seed 69 --req-prefix pre \
        >>"$H_DIR/workload.out" 2>&1 || h_fail "workload failed"
e_converged "before the marker is broken" 60
h_wait_for "[ \"\$(e_cmetric a followcdc_consumer_redis_loss_checks_total)\" -ge 1 ]" 30 ||
        h_fail "consumer a never checked the markers"

mapfile -t M < <(h_redis --scan --pattern '*{marker:*}')
[ "${#M[@]}" -ge 1 ] || h_fail "no marker key in Redis"
for k in "${M[@]}"; do
        h_redis DEL "$k" >/dev/null
        h_redis SET "$k" not-a-hash >/dev/null
done
sleep 3 # a few checks (one a second) meet the string
msgs=$(e_cmetric a followcdc_consumer_messages_total)

# the consumer goes on while every check fails
e_workload 691 5 60 --req-prefix w1
e_workload_wait
e_converged "while every marker check fails" 60
[ "$(e_cmetric a followcdc_consumer_messages_total)" -gt "$msgs" ] ||
        h_fail "no message consumed while the checks failed"
errs=$(e_cmetric a followcdc_consumer_redis_loss_check_errors_total)
[ "${errs:-0}" -ge 2 ] || h_fail "the refused checks were not counted: '$errs'"
[ "$errs" -lt 100 ] || h_fail "$errs failed checks: retried without a backoff"
# Redis answered: no reconnect for a refused check
n=$(grep -c 'connected to redis' "$H_DIR/c-a.log")
[ "$n" = 1 ] || h_fail "$n connects to Redis: a refused check made it reconnect"
n=$(grep -c 'WRONGTYPE' "$H_DIR/c-a.log")
[ "$n" -ge 1 ] && [ "$n" -le 5 ] ||
        h_fail "$n log lines name the failure (want one streak, a few lines)"

# the key goes: the check works again and rebuilds Redis
for k in "${M[@]}"; do
        h_redis DEL "$k" >/dev/null
done
h_wait_for "grep -q 'Redis data-loss marker check: recovered' '$H_DIR/c-a.log'" 30 ||
        h_fail "the recovery of the check was not logged"
e_converged "after the marker is repaired" 60

e_stop c-a || h_fail "consumer exited $E_RC on SIGTERM"
e_stop p-a || h_fail "producer exited $E_RC on SIGTERM"
h_pass "the consumer applied through $errs refused marker checks and recovered"
