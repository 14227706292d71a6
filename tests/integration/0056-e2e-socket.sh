#!/usr/bin/env bash
# 0056-e2e-socket: the pipeline with every MySQL connection over the unix
# socket (producer: mysql.socket, consumer reaper: reaper.mysql.socket),
# host left at its default. A short workload, then Redis must equal MySQL
# and the reaper must have deleted the expired succeeded rows.
# brokers: dev kafka
set -u
. "$(dirname "$0")/../lib/test.sh" e2e
# the producer connects over the unix socket
E_MYSQL_VIA=socket
E_SERVER_ID=5601
E_CKPT_STORE=kafka

h_start_mariadb
h_start_redis
h_start_broker

e_producer a
e_consumer a --reaper.enable=true --reaper.mysql.socket="$H_MYSQL_SOCK" \
        --reaper.mysql.user="$H_CONSUMER_USER" \
        --reaper.mysql.password="$H_CONSUMER_PASS" --reaper.interval=1s
if ! e_wait_state p-a streaming 20; then
        h_fail "producer over the socket did not start streaming: $(grep -m1 -i 'connect' "$H_DIR/p-a.log")"
fi
"$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" --users 20 \
        --ops 500 --concurrency 2 --seed 56 >/dev/null ||
        h_fail "workload failed"
h_wait_for "[ \$(h_mysql \"SELECT COUNT(*) FROM idempotent_log WHERE status = 2
        AND created_at < UTC_TIMESTAMP() - INTERVAL 7 DAY\") = 0 ]" 30 ||
        h_fail "the reaper over the socket deleted nothing"
if ! res=$(e_check --wait 60); then
        echo "$res"
        h_fail "Redis did not converge to MySQL"
fi
echo "$res"
e_stop c-a || h_fail "consumer exited $? on SIGTERM"
e_stop p-a || h_fail "producer exited $? on SIGTERM"
h_pass "producer and reaper over the unix socket"
