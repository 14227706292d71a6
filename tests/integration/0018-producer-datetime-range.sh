#!/usr/bin/env bash
# 0018-producer-datetime-range: a legal DATETIME is never fatal (issue 8
# #2). '9999-12-31 23:00:00', a common "never expires" value, read with
# source.tz=America/New_York is 10000-01-01T04:00Z; the producer used to
# exit 1 on it at every restart while the snapshot wrote null. Now the
# snapshot read (op r) and the binlog event (op c) of such rows carry the
# same documented value (the ISO 8601 expanded year), and the producer
# keeps streaming the rows after them. Waits on /readyz and the topic,
# never on log text.
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" producer
h_start_mariadb
h_start_broker
h_mysql "
CREATE TABLE expiry_t (id INT NOT NULL PRIMARY KEY, never DATETIME,
  at6 DATETIME(6), d DATE, note VARCHAR(10)) ENGINE=InnoDB;
GRANT SELECT ON $H_MYSQL_DB.expiry_t TO '$H_PRODUCER_USER'@'%';
INSERT INTO expiry_t VALUES
 (1, '9999-12-31 23:00:00', '9999-12-31 23:59:59.999999', '9999-12-31', 'snap'),
 (2, '0000-01-01 00:00:00', '0000-01-01 00:00:00.000000', '0000-01-01', 'snap');" ||
        h_fail "create expiry_t"

port=$(h_free_port)
p_conf ny "source.tables=follow,idempotent_log,expiry_t" \
        "source.keys=expiry_t:id" "source.tz=America/New_York" \
        "checkpoint.store=file" "checkpoint.file=$H_DIR/ny.ckpt" \
        "lock.enabled=false" "http.listen=127.0.0.1:$port"
p_start ny
h_wait_for "curl -fs http://127.0.0.1:$port/readyz >/dev/null" 90 ||
        h_fail "the producer did not reach streaming after its snapshot"

# the same values again, through the binlog, then an ordinary row
h_mysql "
INSERT INTO expiry_t VALUES
 (3, '9999-12-31 23:00:00', '9999-12-31 23:59:59.999999', '9999-12-31', 'binlog'),
 (4, '0000-01-01 00:00:00', '0000-01-01 00:00:00.000000', '0000-01-01', 'binlog');
INSERT INTO expiry_t VALUES (5, '2026-07-01 12:00:00', NULL, NULL, 'after');" ||
        h_fail "insert rows"

check_py=$(cat <<'EOF'
import json, subprocess, sys
boot, topic = sys.argv[1], sys.argv[2]
out = subprocess.run(["kcat", "-C", "-b", boot, "-t", topic, "-o",
                      "beginning", "-e", "-J", "-q"],
                     stdout=subprocess.PIPE, check=True).stdout
ev = {}
for line in out.decode().splitlines():
    m = json.loads(line)
    if m.get("payload") is not None:
        e = json.loads(m["payload"])
        ev[e["after"]["id"]] = e
if sorted(ev) != [1, 2, 3, 4, 5]:
    print("rows so far: %s" % sorted(ev))
    sys.exit(1)
# America/New_York: EST (-5) in December of 9999 (the zone's rule);
# local mean time (-4:56:02) before 1883
want = {"never": "+010000-01-01T04:00:00.000000Z",
        "at6": "+010000-01-01T04:59:59.999999Z", "d": "9999-12-31"}
old = {"never": "0000-01-01T04:56:02.000000Z",
       "at6": "0000-01-01T04:56:02.000000Z", "d": "0000-01-01"}
bad = 0
for i, op, w in ((1, "r", want), (3, "c", want), (2, "r", old),
                 (4, "c", old)):
    if ev[i]["op"] != op:
        print("row %d: op %s, want %s" % (i, ev[i]["op"], op))
        bad += 1
    for col, v in w.items():
        if ev[i]["after"][col] != v:
            print("row %d %s: %r, want %r" % (i, col, ev[i]["after"][col], v))
            bad += 1
if ev[5]["after"]["never"] != "2026-07-01T16:00:00.000000Z":
    print("row 5: %r" % ev[5]["after"]["never"])
    bad += 1
sys.exit(1 if bad else 0)
EOF
)
topic="followcdc.$H_MYSQL_DB.expiry_t"
deadline=$((SECONDS + 60))
until $P_PY -c "$check_py" "$H_KAFKA_BOOTSTRAP" "$topic" \
        >"$H_DIR/check.out" 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ] || ! p_alive ny; then
                cat "$H_DIR/check.out"
                p_alive ny || h_fail "the producer died on a legal DATETIME"
                h_fail "the rows are not on $topic as documented"
        fi
        sleep 1
done
p_alive ny || h_fail "the producer died"
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null ||
        h_fail "/readyz: not streaming any more"
p_stop ny TERM
[ "$P_RC" = 0 ] || h_fail "SIGTERM exit status $P_RC, want 0"
h_pass "DATETIME past year 9999 in New York: same value by snapshot and binlog, producer keeps streaming"
