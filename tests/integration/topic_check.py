#!/usr/bin/python3
"""Compare the change-event topics with the binlog: no acknowledged change
may be missing.

Reads every row event of the captured tables from the server's binlog
(mariadb-binlog --read-from-remote-server --verbose, all binlog files from
the first on the server to the end) and every message of the topics
(kcat -J, from the beginning to the end), and matches them by transaction
GTID and row index (source.gtid, source.row: the row's 0-based index among
the captured rows of its transaction). Snapshot reads (op r) are not binlog
events and are ignored, as are tombstones; binlog rows up to the first
snapshot's position are covered by that snapshot and not checked.

Prints one line:
  topic-check binlog_rows=N topic_events=M missing=K duplicates=D extra=E
and, for a few missing rows, which. Exits 1 when a binlog row has no event
(or, with --no-extra, when the topics hold an event the binlog lacks), 2 on
a usage or tool error. Duplicates (the same GTID and row more than once: a
producer restart re-sent it) are counted, never an error.

  topic_check.py --socket SOCK --bootstrap HOST:PORT [--db followcdc]
                 [--prefix followcdc] [--tables follow,idempotent_log]
                 [--kcat-conf FILE] [--since-gtid D-S-N]
"""
import argparse
import collections
import json
import re
import subprocess
import sys


def binlog_rows(args, tables):
    """{gtid: number of captured rows} from the binlog, and the order."""
    logs = subprocess.run(
        ["mariadb", "--no-defaults", "-S", args.socket, "-uroot", "-N", "-B",
         "-e", "SHOW BINARY LOGS"],
        stdout=subprocess.PIPE, check=True, universal_newlines=True).stdout
    names = [l.split("\t")[0] for l in logs.splitlines() if l.strip()]
    if not names:
        raise SystemExit("topic-check: no binary logs")
    out = subprocess.run(
        ["mariadb-binlog", "--no-defaults", "--read-from-remote-server",
         "--socket=" + args.socket, "-uroot", "--verbose",
         "--base64-output=decode-rows", "--to-last-log", names[0]],
        stdout=subprocess.PIPE, check=True).stdout.decode("utf-8", "replace")
    rows = collections.OrderedDict()
    gtid = None
    ev_re = re.compile(r"^### (INSERT INTO|UPDATE|DELETE FROM) `([^`]*)`\.`([^`]*)`")
    gtid_re = re.compile(r"\bGTID (\d+-\d+-\d+)\b")
    for line in out.splitlines():
        if line.startswith("#") and not line.startswith("###"):
            m = gtid_re.search(line)
            if m:
                gtid = m.group(1)
            continue
        m = ev_re.match(line)
        if not m or m.group(2) != args.db or m.group(3) not in tables:
            continue
        if gtid is None:
            raise SystemExit("topic-check: row event outside a GTID transaction")
        rows[gtid] = rows.get(gtid, 0) + 1
    return rows


def topic_events(args, tables):
    """Counter of (gtid, row, op) over every change event of the topics,
    and the GTIDs of the snapshots found (their source position)."""
    seen = collections.Counter()
    snaps = set()
    for t in tables:
        topic = "%s.%s.%s" % (args.prefix, args.db, t)
        cmd = ["kcat", "-C", "-b", args.bootstrap, "-t", topic, "-o",
               "beginning", "-e", "-J", "-q"]
        if args.kcat_conf:
            cmd[1:1] = ["-F", args.kcat_conf]
        out = subprocess.run(cmd, stdout=subprocess.PIPE, check=True).stdout
        for line in out.decode("utf-8", "replace").splitlines():
            m = json.loads(line)
            if m.get("payload") is None:
                continue
            ev = json.loads(m["payload"])
            src = ev.get("source") or {}
            if ev.get("op") == "r" or src.get("snapshot"):
                if src.get("gtid"):
                    snaps.add(src["gtid"])
                continue
            # a key change is a delete and a create of one binlog row:
            # count per op, so it is not a duplicate
            seen[(src.get("gtid"), src.get("row"), ev.get("op"))] += 1
    return seen, snaps


def seqno(gtid):
    return int(gtid.split("-")[2])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--db", default="followcdc")
    ap.add_argument("--prefix", default="followcdc")
    ap.add_argument("--tables", default="follow,idempotent_log")
    ap.add_argument("--kcat-conf")
    ap.add_argument("--since-gtid", help="ignore transactions before this one")
    ap.add_argument("--no-extra", action="store_true")
    args = ap.parse_args()
    tables = args.tables.split(",")
    try:
        rows = binlog_rows(args, tables)
        seen, snaps = topic_events(args, tables)
    except (subprocess.CalledProcessError, OSError, ValueError) as e:
        print("topic-check: %s" % e, file=sys.stderr)
        return 2
    since = seqno(args.since_gtid) if args.since_gtid else 0
    # rows committed before the first snapshot reach the topics as that
    # snapshot's reads (op r), not as binlog events
    if snaps:
        since = max(since, min(seqno(g) for g in snaps) + 1)
    got = collections.Counter()
    for (g, r, _op), c in seen.items():
        got[(g, r)] += c
    missing = []
    want = set()
    for gtid, n in rows.items():
        if seqno(gtid) < since:
            continue
        for r in range(n):
            want.add((gtid, r))
            if got[(gtid, r)] == 0:
                missing.append((gtid, r))
    dups = sum(c - 1 for k, c in seen.items() if c > 1 and k[:2] in want)
    extra = [k for k in got if k not in want and
             (k[0] is None or seqno(k[0]) >= since)]
    print("topic-check binlog_rows=%d topic_events=%d missing=%d "
          "duplicates=%d extra=%d" % (len(want), sum(got.values()),
                                      len(missing), dups, len(extra)))
    for g, r in missing[:10]:
        print("  missing: gtid %s row %d" % (g, r))
    for k in extra[:5]:
        print("  extra: gtid %s row %s" % k)
    if missing or (args.no_extra and extra):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
