#!/usr/bin/env bash
# 0024-producer-snapshot-types: the same row gives the same JSON whether it
# comes from a binlog event (op c) or a snapshot read (op r), for every
# common column type, with DATETIME read in a non-UTC source.tz. Also:
# snapshot chunking (tiny chunks) and table.key via source.keys.
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

keys="types_t:id"
tables="follow,idempotent_log,types_t"
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
for t in ("types_t", "follow", "idempotent_log"):
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
print("compared %d tables, %d problems" % (3, bad))
sys.exit(1 if bad else 0)
EOF
)
h_wait_for "$P_PY -c '$(printf "%s" "$cmp_py" | sed "s/'/'\\\\''/g")' $H_KAFKA_BOOTSTRAP $H_MYSQL_DB >/dev/null" 30 ||
        { $P_PY -c "$cmp_py" "$H_KAFKA_BOOTSTRAP" "$H_MYSQL_DB" || true;
          h_fail "snapshot JSON differs from binlog JSON"; }
$P_PY -c "$cmp_py" "$H_KAFKA_BOOTSTRAP" "$H_MYSQL_DB"
p_stop stream TERM
p_stop snap TERM
h_pass "snapshot rows == binlog rows for every column type"
