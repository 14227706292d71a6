#!/usr/bin/env bash
# 0001-mariadb-rpl: the private MariaDB of the harness gives what the
# producer needs: ROW binlog with FULL metadata (column names in the
# TABLE_MAP), GTID events, and the producer account may read the binlog
# (SHOW MASTER STATUS, COM_BINLOG_DUMP) through Connector/C's mariadb_rpl_*.
# Also checks the accounts of schemas/mysql/002-grants.sql and that a
# kill -9 and restart keeps data, binlog and port.
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" mariadb_rpl_read
PROG=$CDC_BUILD_DIR/bin/mariadb_rpl_read

h_start_mariadb

# server settings the producer checks at start
settings=$(h_mysql "SELECT @@log_bin, @@binlog_format, @@binlog_row_image,
                           @@binlog_row_metadata, @@gtid_strict_mode")
[ "$settings" = "$(printf '1\tROW\tFULL\tFULL\t1')" ] ||
        h_fail "server settings: $settings"

# least-privilege accounts: the producer reads, the consumer may not write
# follow, and reaps idempotent_log
my_as() {
        local user=$1 pass=$2
        shift 2
        MYSQL_PWD=$pass mariadb --no-defaults -h "$H_MYSQL_HOST" \
                -P "$H_MYSQL_PORT" -u "$user" -N -B "$H_MYSQL_DB" "$@"
}
my_as "$H_PRODUCER_USER" "$H_PRODUCER_PASS" -e "SELECT COUNT(*) FROM follow" \
        >/dev/null || h_fail "producer cannot SELECT follow"
if my_as "$H_PRODUCER_USER" "$H_PRODUCER_PASS" \
        -e "INSERT INTO follow (follower_id, followee_id) VALUES (1, 1)" \
        2>/dev/null; then
        h_fail "producer account can INSERT"
fi
my_as "$H_CONSUMER_USER" "$H_CONSUMER_PASS" \
        -e "DELETE FROM idempotent_log WHERE status = 2 AND created_at < '2000-01-01' ORDER BY created_at LIMIT 1" ||
        h_fail "consumer cannot DELETE from idempotent_log as the reaper does"
# the reaper reads status and created_at only: no other column
if my_as "$H_CONSUMER_USER" "$H_CONSUMER_PASS" \
        -e "SELECT request_id FROM idempotent_log LIMIT 1" 2>/dev/null; then
        h_fail "consumer account can read request_id"
fi
if my_as "$H_CONSUMER_USER" "$H_CONSUMER_PASS" \
        -e "SELECT COUNT(*) FROM follow" 2>/dev/null; then
        h_fail "consumer account can read follow"
fi

"$PROG" || h_fail "mariadb_rpl_read failed"

# crash and restart on the same data directory and port
port=$H_MYSQL_PORT
before=$(h_mysql "SELECT COUNT(*) FROM follow")
[ "$before" -ge 2 ] || h_fail "rows missing: $before"
h_kill9 mariadb
h_restart mariadb
[ "$H_MYSQL_PORT" = "$port" ] || h_fail "port changed: $port -> $H_MYSQL_PORT"
[ "$(h_mysql "SELECT COUNT(*) FROM follow")" = "$before" ] ||
        h_fail "rows lost across kill -9"
# the binlog still works after recovery: the program inserts and reads again
h_mysql "DELETE FROM follow"
"$PROG" || h_fail "mariadb_rpl_read failed after restart"

h_pass "binlog stream, metadata, accounts and restart"
