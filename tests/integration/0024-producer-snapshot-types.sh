#!/usr/bin/env bash
# 0024-producer-snapshot-types: the same row gives the same JSON whether it
# comes from a binlog event (op c) or a snapshot read (op r), for every
# common column type and for every type at the ends of its legal range
# (years 0000 and 9999, zero and invalid dates, FLOAT of 9 digits), with
# DATETIME read in a non-UTC source.tz. Also: snapshot chunking (tiny
# chunks) and table.key via source.keys.
# brokers: dev kafka
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" producer
h_start_mariadb
h_start_broker
h_mysql "
CREATE TABLE types_t (
  id INT NOT NULL PRIMARY KEY, ti TINYINT, ui INT UNSIGNED,
  bu BIGINT UNSIGNED, de DECIMAL(10,2), fl FLOAT, dbl DOUBLE,
  dt DATETIME(6), dt0 DATETIME, ts TIMESTAMP(3) NULL DEFAULT NULL, d DATE,
  tm TIME(2), y YEAR, b BIT(10), vc VARCHAR(20), ch CHAR(5),
  vb VARBINARY(8), bl BLOB, tx TEXT, en ENUM('a','b'), st SET('x','y','z'),
  js JSON, nul INT NULL) ENGINE=InnoDB;
GRANT SELECT ON $H_MYSQL_DB.types_t TO '$H_PRODUCER_USER'@'%';" ||
        h_fail "create types_t"
# range_t: every type at the ends of its legal range, zero and invalid
# dates (non-strict SQL mode), years 0000 and 9999 read in +08:00
h_mysql "
CREATE TABLE range_t (
  id INT NOT NULL PRIMARY KEY, i8 TINYINT, u8 TINYINT UNSIGNED,
  i16 SMALLINT, u16 SMALLINT UNSIGNED, i24 MEDIUMINT, u24 MEDIUMINT UNSIGNED,
  i32 INT, u32 INT UNSIGNED, i64 BIGINT, u64 BIGINT UNSIGNED,
  de DECIMAL(65,30), fl FLOAT, fl2 FLOAT(10,2), dbl DOUBLE, b64 BIT(64),
  y YEAR, d DATE, dt DATETIME, dt6 DATETIME(6), ts TIMESTAMP(6) NULL,
  tm TIME, tm6 TIME(6), e ENUM('a','b'), s SET('x','y'), bn BINARY(4),
  vb VARBINARY(4), lat VARCHAR(10) CHARACTER SET latin1) ENGINE=InnoDB;
GRANT SELECT ON $H_MYSQL_DB.range_t TO '$H_PRODUCER_USER'@'%';" ||
        h_fail "create range_t"

keys="types_t:id;range_t:id"
tables="follow,idempotent_log,types_t,range_t"
p_conf stream "source.tables=$tables" "source.keys=$keys" \
        "source.tz=+08:00" "snapshot.mode=never" \
        "checkpoint.store=file" "checkpoint.file=$H_DIR/stream.ckpt" \
        "lock.enabled=false"
p_start stream
p_wait_state stream streaming 60 || h_fail "stream producer did not start"

h_mysql "SET time_zone = '+00:00';
INSERT INTO types_t VALUES
 (1, -5, 4000000000, 18446744073709551615, -12.50, 0.1, 2.5e-300,
  '2026-11-20 10:00:00.123456', '2026-03-29 02:30:00',
  '2026-11-20 10:00:00.500', '2026-11-20', '-838:59:59.99', 2024, b'1000000001',
  'héllo \"q\" \\\\ /', 'ab', 0x00FF10, 0x616263, 'text\nline', 'b', 'x,z',
  '{\"a\": [1, 2]}', NULL),
 (2, 0, 0, 0, 0, 0, 0, '1970-01-01 00:00:00', NULL, NULL, NULL, '00:00:00',
  NULL, b'0', '', '', '', '', '', NULL, '', NULL, 7);
INSERT INTO types_t (id, vc) SELECT seq + 10, CONCAT('row-', seq)
  FROM seq_1_to_25;
SET sql_mode = 'ALLOW_INVALID_DATES';
INSERT INTO range_t VALUES
 (1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
  '-99999999999999999999999999999999999.999999999999999999999999999999',
  -3.4028234e38, -99999999.99, -1.7976931348623157e308, 0, 1901, '0000-01-01',
  '0000-01-01 00:00:00', '0000-01-01 00:00:00.000000',
  '1970-01-01 00:00:01.000000', '-838:59:59', '-838:59:59.000000', 'a', '',
  0x00000000, 0x00, 'é'),
 (2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
  9223372036854775807, 18446744073709551615,
  '99999999999999999999999999999999999.999999999999999999999999999999',
  3.4028234e38, 99999999.99, 1.7976931348623157e308,
  b'1111111111111111111111111111111111111111111111111111111111111111', 2155,
  '9999-12-31', '9999-12-31 23:59:59', '9999-12-31 23:59:59.999999',
  '2038-01-19 03:14:07.999999', '838:59:59', '838:59:59.000000', 'b', 'x,y',
  0xffffffff, 0xffffffff, 'ÿ'),
 (3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 123456.789, 1.23, 5e-324, 0, 0,
  '0000-00-00', '0000-00-00 00:00:00', '2024-02-30 12:00:00',
  '0000-00-00 00:00:00', '-00:00:01', '-00:00:00.000001', 'zz', '', 0x61,
  '', ''),
 (4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.000000000000000000000000000001,
  16777217, -0.5, 2.2250738585072014e-308, 1, 2000, '2024-00-15',
  '2024-02-29 00:00:00', '0000-02-29 12:00:00.5', NULL, '00:00:00',
  '00:00:00.5', NULL, NULL, NULL, NULL, NULL),
 (5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL);
SET sql_mode = DEFAULT;
INSERT INTO follow (follower_id, followee_id) VALUES (1, 2), (3, 4);
INSERT INTO idempotent_log (request_id, biz_key) VALUES ('r-1', 'k');" ||
        h_fail "insert rows"

# snapshot of the same rows by a second source (own topics, own file)
p_conf snap "source.name=snap" "mysql.server.id=102" \
        "source.tables=$tables" "source.keys=$keys" \
        "source.tz=+08:00" "snapshot.chunk.rows=4" \
        "checkpoint.store=file" "checkpoint.file=$H_DIR/snap.ckpt" \
        "lock.enabled=false"
p_start snap
p_wait_state snap streaming 60 || h_fail "snapshot producer did not stream"
[ "$(p_metric snap 'followcdc_producer_rows_total{table="types_t",op="r"}')" = 27 ] ||
        h_fail "snapshot did not read the 27 rows of types_t"
[ "$(p_metric snap 'followcdc_producer_rows_total{table="range_t",op="r"}')" = 5 ] ||
        h_fail "snapshot did not read the 5 rows of range_t"

cmp_py=$(cat <<'EOF'
import json, subprocess, sys
boot, db = sys.argv[1], sys.argv[2]
def read(topic):
    out = subprocess.run(["kcat", "-C", "-b", boot, "-t", topic, "-o",
                          "beginning", "-e", "-J", "-q"],
                         stdout=subprocess.PIPE, check=True).stdout
    evs = {}
    for line in out.decode().splitlines():
        m = json.loads(line)
        if m.get("payload") is None:
            continue
        ev = json.loads(m["payload"])
        evs[m["key"]] = ev
    return evs
bad = 0
for t in ("types_t", "range_t", "follow", "idempotent_log"):
    a = read("followcdc.%s.%s" % (db, t))
    b = read("snap.%s.%s" % (db, t))
    if not a or set(a) != set(b):
        print("%s: keys differ: stream %s snapshot %s" % (t, sorted(a), sorted(b)))
        bad += 1
        continue
    for k in a:
        if a[k]["op"] != "c" or b[k]["op"] != "r" or not b[k]["source"]["snapshot"]:
            print("%s %s: ops %s/%s" % (t, k, a[k]["op"], b[k]["op"]))
            bad += 1
        # byte-level: the row objects serialize identically
        ja = json.dumps(a[k]["after"], ensure_ascii=False)
        jb = json.dumps(b[k]["after"], ensure_ascii=False)
        if ja != jb:
            print("%s %s:\n  binlog   %s\n  snapshot %s" % (t, k, ja, jb))
            bad += 1
# the documented representation, not just agreement (both null would agree)
r = {json.loads(k)[0]: v["after"]
     for k, v in read("followcdc.%s.range_t" % db).items()}
want = {(1, "dt"): "-000001-12-31T16:00:00.000000Z",
        (1, "d"): "0000-01-01", (1, "y"): 1901,
        (2, "dt6"): "9999-12-31T15:59:59.999999Z",
        (2, "u64"): "18446744073709551615", (2, "b64"): "18446744073709551615",
        (3, "d"): None, (3, "dt"): None, (3, "dt6"): None, (3, "ts"): None,
        (3, "y"): 0, (3, "fl"): 123456.79, (3, "e"): "",
        (4, "d"): None, (4, "dt"): "2024-02-28T16:00:00.000000Z",
        (4, "dt6"): "0000-02-29T04:00:00.500000Z", (4, "fl"): 16777216.0,
        (2, "ts"): "2038-01-19T03:14:07.999999Z"}
for (i, col), w in sorted(want.items()):
    g = r.get(i, {}).get(col, "(missing)")
    if g != w:
        print("range_t %d %s: %r, want %r" % (i, col, g, w))
        bad += 1
print("compared %d tables, %d problems" % (4, bad))
sys.exit(1 if bad else 0)
EOF
)
# both producers publish asynchronously: compare until they agree, for at
# most 60 s of wall-clock time (one comparison reads eight topics)
deadline=$((SECONDS + 60))
until $P_PY -c "$cmp_py" "$H_KAFKA_BOOTSTRAP" "$H_MYSQL_DB" \
        >"$H_DIR/compare.out" 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
                cat "$H_DIR/compare.out"
                h_fail "snapshot JSON differs from binlog JSON"
        fi
        sleep 1
done
cat "$H_DIR/compare.out"
p_stop stream TERM
p_stop snap TERM
h_pass "snapshot rows == binlog rows for every column type"
