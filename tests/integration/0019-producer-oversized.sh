#!/usr/bin/env bash
# 0019-producer-oversized: a row whose event exceeds kafka.message.max.bytes
# (a big TEXT or BLOB value) is neither fatal nor dropped: the event is
# published with its largest values outside the key replaced by the
# documented marker and named, with their sizes, in "oversized"
# (schemas/events/README.md); it is counted; the rows after it flow. Both
# from the binlog and from a snapshot. Every event is checked against the
# JSON Schema.
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" producer
h_start_mariadb
h_start_broker
h_mysql "
CREATE TABLE docs (id INT NOT NULL PRIMARY KEY, title VARCHAR(100),
  body LONGTEXT, bin LONGBLOB) ENGINE=InnoDB;
GRANT SELECT ON $H_MYSQL_DB.docs TO '$H_PRODUCER_USER'@'%';" ||
        h_fail "create docs"

MAX=200000
common=("source.tables=docs" "source.keys=docs:id" "lock.enabled=false"
        "kafka.message.max.bytes=$MAX")
p_conf p1 "${common[@]}" "snapshot.mode=never" \
        "checkpoint.store=file" "checkpoint.file=$H_DIR/p1.ckpt"
p_start p1
p_wait_state p1 streaming 60 || h_fail "producer did not start streaming"

h_mysql "
INSERT INTO docs VALUES (1, 'small', 'x', NULL);
INSERT INTO docs VALUES (2, 'big text', REPEAT('a', 500000), NULL);
INSERT INTO docs VALUES (3, 'big blob', 'y', REPEAT(0x41, 300000));
UPDATE docs SET title = 'big text 2' WHERE id = 2;
INSERT INTO docs VALUES (4, 'after', 'z', NULL);" || h_fail "writes"
p_wait_metric p1 followcdc_producer_events_acked_total -ge 5 60 ||
        h_fail "the rows after the big ones did not flow"
p_alive p1 || h_fail "the producer exited on an oversized row"
[ "$(p_metric p1 followcdc_producer_events_oversized_total)" = 3 ] ||
        h_fail "oversized events not counted"
[ "$(p_metric p1 followcdc_producer_events_skipped_total)" = 0 ] ||
        h_fail "an event was skipped"

# the same rows read by a snapshot
p_conf snap "${common[@]}" "source.name=snap" "mysql.server.id=102" \
        "checkpoint.store=file" "checkpoint.file=$H_DIR/snap.ckpt"
p_start snap
p_wait_state snap streaming 60 || h_fail "snapshot producer did not stream"
[ "$(p_metric snap followcdc_producer_events_oversized_total)" = 2 ] ||
        h_fail "oversized snapshot events not counted"

check_py=$(cat <<'EOF'
import json, subprocess, sys
boot, db, limit, schema = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
M = "__followcdc_oversized__"
def read(topic):
    out = subprocess.run(["kcat", "-C", "-b", boot, "-t", topic, "-o",
                          "beginning", "-e", "-J", "-q"],
                         stdout=subprocess.PIPE, check=True).stdout
    evs = []
    for line in out.decode().splitlines():
        m = json.loads(line)
        assert m["payload"] is not None
        assert len(m["payload"].encode()) <= limit, "%d bytes" % len(m["payload"])
        evs.append((m["key"], json.loads(m["payload"])))
    return evs
bad = []
def expect(cond, what):
    if not cond:
        bad.append(what)
s = read("followcdc.%s.docs" % db)
by = {}
for k, ev in s:  # partitions interleave: one key's events keep their order
    by.setdefault(k, []).append(ev)
expect(sorted(by) == ["[1]", "[2]", "[3]", "[4]"] and len(by["[2]"]) == 2,
       "stream keys %s" % [k for k, _ in s])
e1, (e2, e4), e3, e5 = by["[1]"][0], by["[2]"], by["[3]"][0], by["[4]"][0]
expect(e1["after"]["body"] == "x" and "oversized" not in e1, "row 1")
expect(e2["after"]["body"] == M and e2["after"]["title"] == "big text"
       and e2["after"]["id"] == 2
       and e2["oversized"] == {"after": {"body": 500000}}, "row 2: %s" %
       e2.get("oversized"))
expect(e3["after"]["bin"] == M and e3["after"]["body"] == "y"
       and e3["oversized"] == {"after": {"bin": 400000}}, "row 3 (base64)")
expect(e4["op"] == "u" and e4["before"]["body"] == M
       and e4["after"]["body"] == M and e4["after"]["title"] == "big text 2"
       and e4["oversized"] == {"before": {"body": 500000},
                               "after": {"body": 500000}}, "the update")
expect(e5["after"]["body"] == "z" and "oversized" not in e5, "row 4")
r = dict(read("snap.%s.docs" % db))
expect(sorted(r) == ["[1]", "[2]", "[3]", "[4]"], "snapshot keys")
expect(r["[2]"]["op"] == "r" and r["[2]"]["after"]["body"] == M
       and r["[2]"]["after"]["title"] == "big text 2", "snapshot row 2")
expect(r["[3]"]["after"]["bin"] == M, "snapshot row 3")
with open(sys.argv[5], "w") as f:
    for _, ev in s + list(r.items()):
        f.write(json.dumps(ev) + "\n")
print("\n".join(bad) if bad else "ok")
sys.exit(1 if bad else 0)
EOF
)
res=$("$P_PY" -c "$check_py" "$H_KAFKA_BOOTSTRAP" "$H_MYSQL_DB" "$MAX" \
        "$CDC_SOURCE_DIR/schemas/events/cdc_event.schema.json" \
        "$H_DIR/events.jsonl") || h_fail "events: $res"
"$P_PY" "$CDC_SOURCE_DIR/schemas/events/validate.py" --lines \
        <"$H_DIR/events.jsonl" >/dev/null ||
        h_fail "an event does not validate against the schema"

for n in p1 snap; do
        p_stop "$n" TERM
        [ "$P_RC" = 0 ] || h_fail "$n: SIGTERM exit status $P_RC"
done
h_pass "oversized values replaced by the marker, counted, never fatal"
