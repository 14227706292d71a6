#!/bin/bash
# cdc_binlog against a real MariaDB: multi-row transactions, a rollback,
# updates and deletes of follow / idempotent_log, signed values, a table we
# do not watch, DDL mid-stream (with binlog_row_metadata FULL and MINIMAL),
# resuming from a COMMIT's next position (GTID and file:pos), heartbeats,
# and a purged position. Prints the streaming and decode-only rows/s.
set -u
. "$(dirname "$0")/../lib/test.sh" binlog_stream
h_start_mariadb

BIN=$CDC_BUILD_DIR/bin/binlog_stream
export CDC_MYSQL_HOST=127.0.0.1 CDC_MYSQL_PORT=$H_MYSQL_PORT
export CDC_MYSQL_USER=$H_PRODUCER_USER CDC_MYSQL_PASS=$H_PRODUCER_PASS
export CDC_MYSQL_DB=$H_MYSQL_DB CDC_TABLES=follow,idempotent_log,t_signed
export CDC_SOURCE_TZ=UTC
OUT=$H_DIR/out
mkdir -p "$OUT"
PY=/usr/bin/python3

h_mysql "SET GLOBAL time_zone = '+00:00'"
h_mysql "CREATE TABLE t_signed (id INT NOT NULL PRIMARY KEY, v INT,
  s TINYINT, m MEDIUMINT, b BIGINT)"
h_mysql "CREATE TABLE t_other (id INT NOT NULL PRIMARY KEY)"
h_mysql "GRANT SELECT ON \`$H_MYSQL_DB\`.t_signed TO '$H_PRODUCER_USER'@'%'"

# ---- checks ----
"$BIN" check >"$OUT/check" 2>&1 || { cat "$OUT/check"; h_fail "check failed"; }
CDC_TABLES=follow,nosuch "$BIN" check >"$OUT/check2" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q "SELECT ON followcdc.nosuch" "$OUT/check2" ||
        { cat "$OUT/check2"; h_fail "missing table: rc $rc"; }
CDC_MYSQL_USER=root CDC_MYSQL_PASS= CDC_TABLES=follow,t_missing \
        "$BIN" check >"$OUT/check4" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q "t_missing does not exist" "$OUT/check4" ||
        { cat "$OUT/check4"; h_fail "missing table as root: rc $rc"; }
CDC_MYSQL_USER=$H_CONSUMER_USER CDC_MYSQL_PASS=$H_CONSUMER_PASS \
        "$BIN" check >"$OUT/check3" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q "REPLICATION SLAVE" "$OUT/check3" ||
        { cat "$OUT/check3"; h_fail "missing privilege: rc $rc"; }

P0=$("$BIN" pos) || h_fail "pos"
h_log "start position $P0"

# ---- workload (binlog_row_metadata=FULL) ----
h_mysql "BEGIN;
 INSERT INTO follow (follower_id, followee_id, created_at, updated_at) VALUES
   (1, 2, '2026-01-01 00:00:00.100', '2026-01-01 00:00:00.100'),
   (2, 1, '2026-01-01 00:00:00.200', '2026-01-01 00:00:00.200');
 INSERT INTO idempotent_log (request_id, biz_key, status, created_at, updated_at)
   VALUES ('req-1', 'follow:1:2', 2, '2026-01-01 00:00:01.000', '2026-01-01 00:00:01.000');
 COMMIT" || h_fail "trx 1"
h_mysql "BEGIN; INSERT INTO follow (follower_id, followee_id) VALUES (9, 9);
 ROLLBACK" || h_fail "trx rollback"
h_mysql "BEGIN;
 UPDATE follow SET status = 0, version = version + 1 WHERE follower_id = 1;
 DELETE FROM idempotent_log WHERE request_id = 'req-1';
 COMMIT" || h_fail "trx 2"
h_mysql "INSERT INTO t_other VALUES (1)" || h_fail "other table"
h_mysql "INSERT INTO t_signed VALUES (1, -1, -128, -8388608, -9223372036854775808),
 (2, 2147483647, 127, 8388607, 9223372036854775807)" || h_fail "signed"
h_mysql "ALTER TABLE follow ADD COLUMN note VARCHAR(10) NOT NULL DEFAULT 'n'"
h_mysql "INSERT INTO follow (follower_id, followee_id, note) VALUES (3, 4, 'hi')"
h_mysql "ALTER TABLE t_signed RENAME COLUMN v TO v2"
h_mysql "INSERT INTO t_signed VALUES (3, -3, -3, -3, -3)"
h_mysql "ALTER TABLE follow DROP COLUMN note"
h_mysql "DELETE FROM follow WHERE follower_id = 3"

"$BIN" dump --from "$P0" --idle-ms 1500 >"$OUT/full" 2>"$OUT/full.err" ||
        { cat "$OUT/full.err"; h_fail "dump failed"; }

$PY - "$OUT/full" "$P0" <<'EOF' || h_fail "stream content (FULL metadata)"
import json, sys
items = [json.loads(l) for l in open(sys.argv[1])]
p0 = sys.argv[2]
start_seq = int(p0.split(";")[0].split("=")[1].split("-")[2])
def fail(msg):
    print("FAIL:", msg)
    for i in items: print(json.dumps(i))
    sys.exit(1)
# group into transactions: rows (and ddl) up to each commit
trx, cur = [], []
for it in items:
    if it["type"] == "commit":
        trx.append((cur, it)); cur = []
    else:
        cur.append(it)
if cur: fail("items after the last commit")
rows = [[i for i in t if i["type"] == "row"] for t, _ in trx]
ddl = [[i for i in t if i["type"] == "ddl"] for t, _ in trx]
# transactions in order: trx1, trx2, other, signed, alter, ins, rename,
# ins, drop, delete
want_rows = [3, 2, 0, 2, 0, 1, 0, 1, 0, 1]
if [len(r) for r in rows] != want_rows:
    fail("rows per transaction %s, want %s" % ([len(r) for r in rows], want_rows))
if [len(d) for d in ddl] != [0, 0, 0, 0, 1, 0, 1, 0, 1, 0]:
    fail("ddl items %s" % [len(d) for d in ddl])
seqs = []
for t, c in trx:
    rs = [i for i in t if i["type"] == "row"]
    if rs:
        g = {r["gtid"] for r in rs}
        if len(g) != 1: fail("several gtids in one transaction")
        if [r["row"] for r in rs] != list(range(len(rs))): fail("row index")
        d, s, n = rs[0]["gtid"].split("-")
        if int(n) != rs[0]["seq"] or d != "0" or s != "1": fail("gtid/seq")
        if int(n) <= start_seq: fail("seq not after the start")
        seqs.append(int(n))
        if not c["next"].startswith("gtid=0-1-%s;" % n): fail("commit next %s" % c["next"])
        if any(r["db"] != "followcdc" or r["server_id"] != 1 or r["pos"] <= 0 or
               not r["file"].startswith("mysql-bin.") or r["ts_ms"] < 1.7e12 for r in rs):
            fail("source fields")
if seqs != sorted(seqs): fail("seq not increasing")
r = rows[0]
if [(x["op"], x["table"]) for x in r] != [("c", "follow"), ("c", "follow"), ("c", "idempotent_log")]:
    fail("trx1 ops")
a = r[0]["after"]
if (a["follower_id"], a["followee_id"], a["status"], a["version"], a["created_at"]) != \
        (1, 2, 1, 1, "2026-01-01T00:00:00.100000Z"):
    fail("trx1 row0 %s" % a)
if r[2]["after"]["request_id"] != "req-1" or r[2]["after"]["status"] != 2:
    fail("idempotent_log row")
if any(x["after"].get("follower_id") == 9 for x in r): fail("rolled back row")
u, d = rows[1]
if u["op"] != "u" or u["before"]["status"] != 1 or u["after"]["status"] != 0 or \
        u["before"]["version"] != 1 or u["after"]["version"] != 2 or \
        u["before"]["id"] != u["after"]["id"]:
    fail("update before/after %s" % u)
if d["op"] != "d" or d["after"] is not None or d["before"]["request_id"] != "req-1":
    fail("delete")
s = rows[3]
if s[0]["after"] != {"id": 1, "v": -1, "s": -128, "m": -8388608, "b": -9223372036854775808} or \
        s[1]["after"] != {"id": 2, "v": 2147483647, "s": 127, "m": 8388607, "b": 9223372036854775807}:
    fail("signed values %s" % s)
if ddl[4][0]["table"] != "follow" or "ADD COLUMN note" not in ddl[4][0]["statement"]:
    fail("ddl item %s" % ddl[4])
if rows[5][0]["after"].get("note") != "hi": fail("name after ADD COLUMN")
if ddl[6][0]["table"] != "t_signed": fail("rename ddl")
if "v2" not in rows[7][0]["after"] or "v" in rows[7][0]["after"]: fail("name after RENAME COLUMN")
if rows[9][0]["op"] != "d" or "note" in rows[9][0]["before"]: fail("name after DROP COLUMN")
# the resume points for the shell part
with open(sys.argv[1] + ".next", "w") as f:
    f.write(trx[0][1]["next"] + "\n")
    f.write(rows[1][0]["gtid"] + "\n")
EOF
NEXT1=$(sed -n 1p "$OUT/full.next")
GTID2=$(sed -n 2p "$OUT/full.next")
h_log "resume point after trx 1: $NEXT1"

# ---- resume from a COMMIT's next: GTID, then file:pos only ----
"$BIN" dump --from "$NEXT1" --idle-ms 1500 >"$OUT/resume" 2>"$OUT/resume.err" ||
        { cat "$OUT/resume.err"; h_fail "resume dump"; }
tail -n +5 "$OUT/full" | grep -v '"heartbeat"' >"$OUT/full.tail"
# trx1 is 3 rows + 1 commit: everything after it must match exactly
diff "$OUT/full.tail" "$OUT/resume" >/dev/null ||
        h_fail "GTID resume differs: $(diff "$OUT/full.tail" "$OUT/resume" | head -5)"
FILEPOS=${NEXT1#*;}
"$BIN" dump --from "$FILEPOS" --idle-ms 1500 >"$OUT/resume2" 2>"$OUT/resume2.err" ||
        { cat "$OUT/resume2.err"; h_fail "file:pos resume dump"; }
$PY - "$OUT/full.tail" "$OUT/resume2" <<'EOF' || h_fail "file:pos resume differs"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
strip = lambda xs: [{k: v for k, v in x.items() if k != "next"} for x in xs]
if strip(a) != strip(b):
    print("file:pos resume:", len(a), len(b)); sys.exit(1)
# without a GTID_LIST the set is unknown: commits carry file:pos only
if not all(x["next"].startswith("gtid=;file=") for x in b if x["type"] == "commit"):
    print("file:pos resume carried a GTID set"); sys.exit(1)
EOF
[ "$(head -1 "$OUT/resume" | $PY -c 'import json,sys; print(json.load(sys.stdin)["gtid"])')" = "$GTID2" ] ||
        h_fail "resume does not start with the next transaction"

# ---- heartbeats carry the current position ----
LAST_NEXT=$(grep '"commit"' "$OUT/full" | tail -1 |
        $PY -c 'import json,sys; print(json.load(sys.stdin)["next"])')
"$BIN" dump --from "$LAST_NEXT" --idle-ms 1600 --hb-ms 300 >"$OUT/hb" 2>&1 ||
        h_fail "heartbeat dump"
grep -q '"heartbeat"' "$OUT/hb" || h_fail "no heartbeat: $(cat "$OUT/hb")"
grep '"heartbeat"' "$OUT/hb" | head -1 | grep -qF "\"next\":\"$LAST_NEXT\"" ||
        h_fail "heartbeat position: $(grep heartbeat "$OUT/hb" | head -1) vs $LAST_NEXT"

# ---- binlog_row_metadata=MINIMAL: names from information_schema ----
h_mysql "SET GLOBAL binlog_row_metadata = MINIMAL"
P1=$("$BIN" pos) || h_fail "pos"
"$BIN" dump --from "$P1" --idle-ms 20000 --items 8 >"$OUT/min" 2>"$OUT/min.err" &
DPID=$!
wait_lines() { h_wait_for "[ \$(wc -l <'$1') -ge $2 ]" 20 || h_fail "waiting for $2 items in $1: $(cat "$1" "$1.err")"; }
h_mysql "INSERT INTO t_signed VALUES (10, -10, -10, -10, -10)"
wait_lines "$OUT/min" 2
h_mysql "ALTER TABLE t_signed ADD COLUMN extra SMALLINT NOT NULL DEFAULT -7 FIRST"
wait_lines "$OUT/min" 4
h_mysql "INSERT INTO t_signed (id, v2, s, m, b) VALUES (11, -11, -11, -11, -11)"
wait_lines "$OUT/min" 6
h_mysql "ALTER TABLE t_signed RENAME COLUMN v2 TO v3"
wait "$DPID" 2>/dev/null
wait_lines "$OUT/min" 8
h_mysql "SET GLOBAL binlog_row_metadata = FULL"
$PY - "$OUT/min" <<'EOF' || h_fail "MINIMAL metadata stream"
import json, sys
items = [json.loads(l) for l in open(sys.argv[1])]
rows = [i for i in items if i["type"] == "row"]
def fail(m):
    print("FAIL:", m); [print(json.dumps(i)) for i in items]; sys.exit(1)
if len(rows) != 2: fail("rows")
if rows[0]["after"] != {"id": 10, "v2": -10, "s": -10, "m": -10, "b": -10}: fail("before DDL")
if rows[1]["after"] != {"extra": -7, "id": 11, "v2": -11, "s": -11, "m": -11, "b": -11}: fail("after DDL")
if [i["type"] for i in items] != ["row", "commit", "ddl", "commit", "row", "commit", "ddl", "commit"]:
    fail("item types")
EOF

# ---- binlog_row_metadata=NO_LOG: signedness and names from information_schema ----
h_mysql "SET GLOBAL binlog_row_metadata = NO_LOG"
P1=$("$BIN" pos) || h_fail "pos"
"$BIN" dump --from "$P1" --idle-ms 20000 --items 4 >"$OUT/nolog" 2>"$OUT/nolog.err" &
DPID=$!
h_mysql "INSERT INTO t_signed (extra, id, v3, s, m, b) VALUES (-20, 20, -20, -20, -20, -9223372036854775808)"
h_mysql "INSERT INTO follow (follower_id, followee_id, status) VALUES (18446744073709551615, 7, 255)"
wait "$DPID" 2>/dev/null
wait_lines "$OUT/nolog" 4
h_mysql "SET GLOBAL binlog_row_metadata = FULL"
$PY - "$OUT/nolog" <<'EOF' || h_fail "NO_LOG metadata stream"
import json, sys
items = [json.loads(l) for l in open(sys.argv[1])]
rows = [i for i in items if i["type"] == "row"]
def fail(m):
    print("FAIL:", m); [print(json.dumps(i)) for i in items]; sys.exit(1)
if len(rows) != 2: fail("rows")
if rows[0]["after"] != {"extra": -20, "id": 20, "v3": -20, "s": -20, "m": -20, "b": -9223372036854775808}:
    fail("signed values without metadata")
a = rows[1]["after"]
if a["follower_id"] != "18446744073709551615" or a["status"] != 255 or a["followee_id"] != 7:
    fail("unsigned values without metadata")
EOF

# ---- several GTID domains: every domain in next, resume in between ----
PD=$("$BIN" pos) || h_fail "pos"
h_mysql "SET SESSION gtid_domain_id = 5;
 INSERT INTO follow (follower_id, followee_id) VALUES (500, 501)" || h_fail "domain 5"
h_mysql "INSERT INTO follow (follower_id, followee_id) VALUES (502, 503)"
"$BIN" dump --from "$PD" --idle-ms 1500 >"$OUT/dom" 2>"$OUT/dom.err" ||
        { cat "$OUT/dom.err"; h_fail "domain dump"; }
$PY - "$OUT/dom" "$PD" <<'EOF' || h_fail "GTID domains"
import json, sys
items = [json.loads(l) for l in open(sys.argv[1])]
def fail(m):
    print("FAIL:", m); [print(json.dumps(i)) for i in items]; sys.exit(1)
d0 = sys.argv[2].split(";")[0][5:]
if [i["type"] for i in items] != ["row", "commit", "row", "commit"]: fail("items")
# seq: the sum of every domain's sequence number once the transaction is
# applied (schemas/events/README.md), so it keeps growing across domains
n = int(d0.split("-")[2]) + 1
if items[0]["gtid"] != "5-1-1" or items[0]["seq"] != n: fail("domain 5 gtid")
if not items[1]["next"].startswith("gtid=%s,5-1-1;" % d0): fail("next has both domains")
if items[2]["gtid"] != "0-1-%d" % n or items[2]["seq"] != n + 1:
    fail("domain 0 gtid")
if not items[3]["next"].startswith("gtid=0-1-%d,5-1-1;" % n): fail("next after domain 0")
open(sys.argv[1] + ".next", "w").write(items[1]["next"] + "\n")
EOF
"$BIN" dump --from "$(cat "$OUT/dom.next")" --idle-ms 1500 >"$OUT/dom2" 2>&1 ||
        h_fail "domain resume"
[ "$(grep -c '"row"' "$OUT/dom2")" = 1 ] && grep -q '"follower_id":502' "$OUT/dom2" ||
        h_fail "resume with two domains: $(cat "$OUT/dom2")"

# ---- throughput: streaming (network + decode) and decode-only ----
h_mysql "CREATE TABLE seq_src (n INT PRIMARY KEY)" &&
h_mysql "INSERT INTO seq_src SELECT seq FROM seq_1_to_20000" || h_fail "bench data"
P2=$("$BIN" pos)
h_mysql "INSERT INTO follow (follower_id, followee_id) SELECT n + 1000000, n FROM seq_src" ||
        h_fail "bench insert"
"$BIN" bench --from "$P2" --rows 20000 | tee "$OUT/bench" >&2
grep -q "rows=20000" "$OUT/bench" || h_fail "bench did not read 20000 rows"
# single-row transactions, as applications write them: every event after
# the first is fetched into the block the binlog keeps (no malloc per event)
P3=$("$BIN" pos)
h_mysql <<'SQL' || h_fail "single-row transactions"
DELIMITER //
CREATE PROCEDURE one_by_one(n INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  WHILE i < n DO
    INSERT INTO follow (follower_id, followee_id) VALUES (2000000 + i, 1);
    SET i = i + 1;
  END WHILE;
END //
DELIMITER ;
CALL one_by_one(500);
SQL
"$BIN" bench --from "$P3" --rows 500 | tee "$OUT/bench1" >&2
ev=$(sed -n 's/.* events=\([0-9]*\).*/\1/p' "$OUT/bench1")
kept=$(sed -n 's/.* events_kept=\([0-9]*\).*/\1/p' "$OUT/bench1")
[ -n "$ev" ] && [ "$ev" -ge 2000 ] && [ "$kept" -ge $((ev - 8)) ] ||
        h_fail "events fetched without the kept block: $(cat "$OUT/bench1")"
"$BIN" decode-bench --dir "$CDC_SOURCE_DIR/tests/data/binlog/follow" --loops 20000 >&2 ||
        h_fail "decode-bench"

# ---- a purged position: CDC_ERR__NOENT (exit 3), GTID and file:pos ----
h_mysql "FLUSH BINARY LOGS"
h_mysql "FLUSH BINARY LOGS"
LAST=$(h_mysql "SHOW MASTER STATUS" | awk '{print $1}')
# a dump thread of a client that just left may still hold the old file
purged() {
        h_mysql "PURGE BINARY LOGS TO '$LAST'" >/dev/null 2>&1
        [ "$(h_mysql "SHOW BINARY LOGS" | head -1 | cut -f1)" = "$LAST" ]
}
h_wait_for purged 20 || h_fail "purge: $(h_mysql "SHOW BINARY LOGS")"
"$BIN" dump --from "$P0" --idle-ms 500 >/dev/null 2>"$OUT/purged.err"
rc=$?
[ "$rc" = 3 ] || h_fail "GTID purged position: exit $rc $(cat "$OUT/purged.err")"
"$BIN" dump --from "${P0#*;}" --idle-ms 500 >/dev/null 2>"$OUT/purged2.err"
rc=$?
[ "$rc" = 3 ] || h_fail "file:pos purged position: exit $rc $(cat "$OUT/purged2.err")"
grep -q 1236 "$OUT/purged.err" || h_fail "server text missing: $(cat "$OUT/purged.err")"

# ---- a frozen server (no FIN): missing heartbeats give TRANSPORT ----
P3=$("$BIN" pos)
"$BIN" dump --from "$P3" --hb-ms 300 --idle-ms 60000 >/dev/null 2>"$OUT/frozen.err" &
DPID=$!
h_wait_for "grep -q 'streaming from' '$OUT/frozen.err'" 20 || h_fail "stream did not start"
MPID=$(h_pid mariadb)
kill -STOP "$MPID"
h_wait_for "! kill -0 $DPID" 30 || { kill -CONT "$MPID"; h_fail "frozen server not detected"; }
kill -CONT "$MPID"
wait "$DPID"
rc=$?
[ "$rc" = 4 ] && grep -q "heartbeat 300 ms" "$OUT/frozen.err" ||
        h_fail "frozen server: exit $rc $(cat "$OUT/frozen.err")"

# ---- connection loss: CDC_ERR__TRANSPORT (exit 4) ----
P3=$("$BIN" pos)
"$BIN" dump --from "$P3" --idle-ms 60000 >/dev/null 2>"$OUT/lost.err" &
DPID=$!
h_wait_for "grep -q 'streaming from' '$OUT/lost.err'" 20 || h_fail "stream did not start"
h_kill9 mariadb
wait "$DPID"
rc=$?
[ "$rc" = 4 ] || h_fail "connection loss: exit $rc $(cat "$OUT/lost.err")"

h_pass "binlog stream: rows, rollback, DDL (FULL and MINIMAL), resume, heartbeat, purge, connection loss"
