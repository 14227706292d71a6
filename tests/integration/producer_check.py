#!/usr/bin/python3
"""Independent check of what followcdc-producer wrote to Kafka.

Reads every message of the follow and idempotent_log topics with kcat
(-C -J), the audit log the test triggers wrote (cdc_audit: every committed
change, in commit order per row) and the tables' final state, then checks:

- every value validates against schemas/events/cdc_event.schema.json, its
  topic and key match the row it carries;
- per key (one partition), after dropping exact re-deliveries (same op,
  seq, row), versions (epoch, seq, row) strictly increase: no reordering.
  Only a snapshot read may be followed by older changes: a re-snapshot
  streams again from the position before it (docs/producer.md, the gap
  replay), and a change older than a snapshot read of its key is a no-op
  for consumers, so the check drops it as the consumer does;
- every delete is followed by a tombstone with the same key;
- the changes of each key are exactly the audited committed changes (all
  of them, or, when a snapshot read starts the key's story, those after
  the snapshot) - nothing missing, nothing invented;
- the last event of each key matches the table's final row.

Exit 0 when all hold, 1 with the first problems printed otherwise.
"""
import argparse
import json
import os
import subprocess
import sys

import jsonschema


def kcat(bootstrap, topic):
    cmd = ["kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning",
           "-e", "-J", "-q", "-X", "topic.metadata.refresh.interval.ms=1000"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    msgs = []
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line:
            continue
        msgs.append(json.loads(line))
    return msgs


def mysql(sock, db, sql):
    p = subprocess.run(["mariadb", "--no-defaults", "-S", sock, "-uroot",
                        "-N", "-B", db, "-e", sql],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       check=True)
    rows = []
    for line in p.stdout.decode().splitlines():
        rows.append(line.split("\t"))
    return rows


def ckey(vals):
    return json.dumps(vals, separators=(",", ":"), ensure_ascii=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--prefix", default="followcdc")
    ap.add_argument("--db", default="followcdc")
    ap.add_argument("--sock", required=True)
    ap.add_argument("--schema", required=True)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--stats", action="store_true")
    a = ap.parse_args()

    with open(a.schema) as f:
        schema = json.load(f)
    validator = jsonschema.validators.validator_for(schema)(schema)
    problems = []

    def bad(msg):
        problems.append(msg)

    tables = {"follow": ("follower_id", "followee_id"),
              "idempotent_log": ("request_id",)}
    # ---- committed changes and final state from the server ----
    audit = {}
    for tbl, k1, k2, op, ver, st in mysql(
            a.sock, a.db, "SELECT tbl, k1, k2, op, version, status "
            "FROM cdc_audit ORDER BY id"):
        key = ckey([int(k1), int(k2)]) if tbl == "follow" else ckey([k1])
        audit.setdefault((tbl, key), []).append((op, int(ver), int(st)))
    final = {}
    for f1, f2, st, ver in mysql(a.sock, a.db, "SELECT follower_id, "
                                 "followee_id, status, version FROM follow"):
        final[("follow", ckey([int(f1), int(f2)]))] = (int(ver), int(st))
    for rid, st, ver in mysql(a.sock, a.db, "SELECT request_id, status, "
                              "version FROM idempotent_log"):
        final[("idempotent_log", ckey([rid]))] = (int(ver), int(st))

    # ---- what Kafka holds ----
    per_key = {}
    nmsg = ntomb = ndup = nsuperseded = 0
    for tbl, cols in tables.items():
        topic = "%s.%s.%s" % (a.prefix, a.db, tbl)
        msgs = kcat(a.bootstrap, topic)
        msgs.sort(key=lambda m: (m["partition"], m["offset"]))
        for m in msgs:
            nmsg += 1
            key = m.get("key")
            val = m.get("payload")
            where = "%s[%d]@%d" % (topic, m["partition"], m["offset"])
            if key is None:
                bad("%s: no key" % where)
                continue
            slot = per_key.setdefault((tbl, key), {"parts": set(),
                                                    "raw": []})
            slot["parts"].add(m["partition"])
            if val is None:
                ntomb += 1
                slot["raw"].append(None)
                continue
            try:
                ev = json.loads(val)
            except ValueError as e:
                bad("%s: value is not JSON: %s" % (where, e))
                continue
            errs = list(validator.iter_errors(ev))
            if errs:
                bad("%s: schema: %s: %s" % (where, list(errs[0].path),
                                            errs[0].message))
                continue
            s = ev["source"]
            if s["table"] != tbl or s["db"] != a.db or s["name"] != a.prefix:
                bad("%s: source names %s.%s.%s" % (where, s["name"], s["db"],
                                                   s["table"]))
            row = ev["before"] if ev["op"] == "d" else ev["after"]
            if ckey([row[c] for c in cols]) != key:
                bad("%s: key %s does not match the row %s" % (where, key,
                                                              row))
            slot["raw"].append(ev)

    for (tbl, key), slot in per_key.items():
        if len(slot["parts"]) != 1:
            bad("%s %s: spread over partitions %s" % (tbl, key,
                                                      sorted(slot["parts"])))
        seen = set()
        evs = []
        last_ver = None
        snap_ver = None  # newest snapshot read of the key so far
        pending_tomb = 0
        for ev in slot["raw"]:
            if ev is None:
                pending_tomb = 0
                continue
            s = ev["source"]
            ident = (ev["op"], s["epoch"], s["seq"], s["row"])
            if ident in seen:
                ndup += 1
                continue
            seen.add(ident)
            if pending_tomb:
                bad("%s %s: delete not followed by a tombstone" % (tbl, key))
            ver = (s["epoch"], s["seq"], s["row"])
            if ev["op"] == "r":
                snap_ver = max(snap_ver, ver) if snap_ver else ver
            elif snap_ver is not None and ver[:2] <= snap_ver[:2]:
                # gap replay after a re-snapshot: superseded, a no-op (a
                # snapshot read at seq S is the state after all of
                # transaction S, whatever its row index)
                nsuperseded += 1
                pending_tomb = ev["op"] == "d"
                continue
            if last_ver is not None and ver <= last_ver and ev["op"] != "r":
                bad("%s %s: version %s after %s (reordered)"
                    % (tbl, key, ver, last_ver))
            last_ver = ver
            pending_tomb = ev["op"] == "d"
            evs.append(ev)
        if pending_tomb:
            bad("%s %s: last delete has no tombstone" % (tbl, key))
        slot["evs"] = evs

    # ---- compare with the committed changes ----
    keys = set(k for k in audit) | set(per_key) | set(final)
    for k in sorted(keys):
        tbl, key = k
        L = audit.get(k, [])
        evs = per_key.get(k, {}).get("evs", [])
        # the story starts at the last snapshot read, if any
        start = 0
        for i, ev in enumerate(evs):
            if ev["op"] == "r":
                start = i
        snap = evs[start] if evs and evs[start]["op"] == "r" else None
        stream = evs[start + 1:] if snap else evs
        got = []
        for ev in stream:
            row = ev["before"] if ev["op"] == "d" else ev["after"]
            got.append((ev["op"], int(row["version"]), int(row["status"])))
        i = len(L) - len(got)
        if i < 0 or L[i:] != got:
            bad("%s %s: events %s but committed %s%s" % (
                tbl, key, got, L,
                " (after snapshot %s)" % json.dumps(snap["after"])
                if snap else ""))
            continue
        before = L[:i]
        if snap:
            st = (int(snap["after"]["version"]), int(snap["after"]["status"]))
            if before and (before[-1][0] == "d" or
                           (before[-1][1], before[-1][2]) != st):
                bad("%s %s: snapshot read %s, committed state then %s" % (
                    tbl, key, st, before[-1]))
        elif before and before[-1][0] != "d":
            bad("%s %s: %d committed changes missing at the start: %s" % (
                tbl, key, len(before), before))
        # final state
        last = evs[-1] if evs else None
        if k in final:
            if last is None or last["op"] == "d":
                bad("%s %s: row exists with %s but its last event is %s" % (
                    tbl, key, final[k], last and last["op"]))
            else:
                st = (int(last["after"]["version"]),
                      int(last["after"]["status"]))
                if st != final[k]:
                    bad("%s %s: last event %s, table %s" % (tbl, key, st,
                                                            final[k]))
        elif last is not None and last["op"] != "d":
            bad("%s %s: row is gone but its last event is %s" % (
                tbl, key, last["op"]))

    if a.stats or not a.quiet:
        print("messages=%d tombstones=%d redelivered=%d keys=%d "
              "committed_changes=%d problems=%d superseded=%d" % (
                  nmsg, ntomb, ndup, len(keys),
                  sum(len(v) for v in audit.values()), len(problems),
                  nsuperseded))
    if problems:
        if not a.quiet:
            for p in problems[:20]:
                print("PROBLEM: " + p)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
