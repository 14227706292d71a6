#!/bin/bash
# Regenerates the raw binlog events under tests/data/binlog/<case>/ from a
# private MariaDB (tests/lib/harness.sh). The expected.json files next to
# them are written by hand from the SQL below, never from the decoder.
#
#   CDC_BUILD_DIR=build bash tests/data/binlog/capture.sh
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../lib/harness.sh"
h_init
h_start_mariadb
BIN=$CDC_BUILD_DIR/bin/binlog_stream
export CDC_MYSQL_PORT=$H_MYSQL_PORT CDC_MYSQL_SOCK=$H_MYSQL_SOCK CDC_MYSQL_USER=root CDC_MYSQL_PASS=

h_mysql "SET GLOBAL time_zone = '+00:00'"

# capture CASE TABLE SQL: run SQL, save the events of TABLE it produced
capture() {
        local case=$1 table=$2 sql=$3 start
        start=$(h_mysql "SHOW MASTER STATUS" | awk '{print $1 ":" $2}')
        h_mysql "$sql"
        rm -f "${HERE:?}/$case"/*.bin "$HERE/$case/crc"
        mkdir -p "$HERE/$case"
        "$BIN" capture --from "$start" --table "$table" --dir "$HERE/$case"
}

h_mysql "CREATE TABLE t_ints (id INT NOT NULL PRIMARY KEY,
  ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED,
  mi MEDIUMINT, mu MEDIUMINT UNSIGNED, ii INT, iu INT UNSIGNED,
  bi BIGINT, bu BIGINT UNSIGNED)"
INTS="INSERT INTO t_ints VALUES
 (1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0),
 (2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
  9223372036854775807, 18446744073709551615),
 (3, -1, 1, -1, 1, -1, 1, -1, 1, -1, 9223372036854775808),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
capture ints t_ints "$INTS"

h_mysql "CREATE TABLE t_num (id INT NOT NULL PRIMARY KEY,
  d1 DECIMAL(10,4), d2 DECIMAL(65,30), d3 DECIMAL(5,0),
  d4 DECIMAL(18,9) UNSIGNED, f FLOAT, d DOUBLE,
  b1 BIT(1), b64 BIT(64), b10 BIT(10), y YEAR)"
capture numeric t_num "INSERT INTO t_num VALUES
 (1, -12.34, '12345678901234567890123456789012345.123456789012345678901234567890',
  -99999, 0.000000001, 1.1, -2.5e-300, 1, b'1111111111111111111111111111111111111111111111111111111111111111',
  b'1000000001', 2024),
 (2, 0, -0.000000000000000000000000000001, 0, 123456789.123456789, -0.5,
  1.7976931348623157e308, 0, 0, 0, 1901),
 (3, 999999.9999, -1, 12345, 0, 3.25, 0.1, NULL, 9223372036854775807, 1023, 2155),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"

h_mysql "CREATE TABLE t_str (id INT NOT NULL PRIMARY KEY,
  c CHAR(10), c255 CHAR(255), vc VARCHAR(20), vcl VARCHAR(1000), tx TEXT,
  bn BINARY(4), vb VARBINARY(10), bb BLOB, e ENUM('a','b','c d'),
  s SET('x','y','z'), j JSON, lt LONGTEXT,
  l1 VARCHAR(10) CHARACTER SET latin1) DEFAULT CHARSET=utf8mb4"
capture strings t_str "SET NAMES utf8mb4; INSERT INTO t_str VALUES
 (1, 'abc', 'héllo', '', REPEAT('x', 300), 'text 😀', 'ab', 0xff00, 0xdeadbeef,
  'c d', 'x,z', '{\"a\": [1, 2]}', 'long', 'café'),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (3, 'q\"\\\\', REPEAT('z', 255), 'tab\there', '', '', 0x00000000, '', '', 'a', '', '[]', '', '')"

h_mysql "CREATE TABLE t_time (id INT NOT NULL PRIMARY KEY,
  d DATE, dt DATETIME, dt3 DATETIME(3), dt6 DATETIME(6),
  ts TIMESTAMP NULL, ts6 TIMESTAMP(6) NULL,
  t TIME, t1 TIME(1), t3 TIME(3), t6 TIME(6))"
capture temporal t_time "SET time_zone = '+00:00';
 INSERT INTO t_time VALUES
 (1, '2024-02-29', '2024-01-01 08:00:00', '1999-12-31 23:59:59.123',
  '2038-01-19 03:14:08.999999', '2024-06-01 12:00:00', '1970-01-01 00:00:01.000001',
  '838:59:59', '00:00:00.5', '-12:34:56.789', '-00:00:00.000001'),
 (2, '0000-00-00', '0000-00-00 00:00:00', '1000-01-01 00:00:00.000',
  '9999-12-31 23:59:59.999999', '0000-00-00 00:00:00', '2038-01-19 03:14:07.999999',
  '-838:59:59', '-00:00:00.5', '00:00:00', '838:59:59.000000'),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"

capture follow follow "
 INSERT INTO follow (id, follower_id, followee_id, status, version, created_at, updated_at)
   VALUES (10, 1, 2, 1, 1, '2026-01-02 03:04:05.678', '2026-01-02 03:04:05.678'),
          (11, 18446744073709551615, 3, 1, 1, '2026-01-02 03:04:05.000', '2026-01-02 03:04:05.000');
 UPDATE follow SET status = 0, version = version + 1, updated_at = '2026-01-03 00:00:00.001' WHERE id = 10;
 DELETE FROM follow WHERE id IN (10, 11)"

# binlog_row_metadata=MINIMAL: no column names in the TABLE_MAP
h_mysql "SET GLOBAL binlog_row_metadata = MINIMAL"
capture ints_minimal t_ints "DELETE FROM t_ints WHERE id IN (1, 3)"
h_mysql "SET GLOBAL binlog_row_metadata = FULL"

# every event of a stream: transactions, a rollback, an unwatched table,
# DDL, a binlog rotation and an XA transaction (tests/unit/test_stream.c)
h_mysql "CREATE TABLE t_other (id INT NOT NULL PRIMARY KEY)"
start=$(h_mysql "SELECT @@gtid_binlog_pos")
file=$(h_mysql "SHOW MASTER STATUS" | awk '{print $1 ":" $2}')
h_mysql "BEGIN;
 INSERT INTO follow (id, follower_id, followee_id, created_at, updated_at) VALUES
   (1, 1, 2, '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000'),
   (2, 2, 1, '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000');
 INSERT INTO t_other VALUES (1);
 INSERT INTO idempotent_log (id, request_id, biz_key, status) VALUES (1, 'r-1', 'k', 2);
 COMMIT;
 BEGIN; INSERT INTO follow (id, follower_id, followee_id) VALUES (3, 3, 3); ROLLBACK;
 UPDATE follow SET status = 0 WHERE id = 1;
 ALTER TABLE follow ADD COLUMN note VARCHAR(5) NOT NULL DEFAULT 'n';
 INSERT INTO follow (id, follower_id, followee_id, note) VALUES (4, 7, 8, 'x');
 INSERT INTO t_other VALUES (2);
 FLUSH BINARY LOGS;
 DELETE FROM follow WHERE id = 2;
 XA START 'x1'; INSERT INTO follow (id, follower_id, followee_id, note) VALUES (5, 9, 9, 'xa');
 XA END 'x1'; XA PREPARE 'x1'; XA COMMIT 'x1'"
rm -rf "${HERE:?}/stream"
mkdir -p "$HERE/stream"
"$BIN" capture --from "$file" --table '*' --dir "$HERE/stream"
printf 'gtid=%s;file=%s;pos=%s\n' "$start" "${file%%:*}" "${file##*:}" >"$HERE/stream/start"

h_pass "captured into $HERE"
