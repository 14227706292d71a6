#!/usr/bin/python3
"""Check that compaction removed delete events but kept their tombstones.

Reads `kcat -J` lines (one message per line, from the beginning of a topic)
on stdin. For every key given with --key, the log must hold no delete
event (a value with "op":"d") any more, and its last message must be a
tombstone (null value) whose followcdc.delete header holds a delete
event. Prints "ok <keys>" and exits 0, or prints what is still missing
and exits 1 (the caller waits and tries again).
"""
import argparse
import json
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--key", action="append", default=[])
    a = ap.parse_args()
    want = set(a.key)
    last, deletes = {}, set()
    for line in sys.stdin:
        line = line.strip()
        if not line.startswith("{"):
            continue
        m = json.loads(line)
        k = m.get("key")
        if k not in want:
            continue
        v = m.get("payload")
        if v is not None and json.loads(v).get("op") == "d":
            deletes.add(k)
        last[k] = m
    bad = []
    for k in sorted(want):
        if k in deletes:
            bad.append("%s: delete event still in the log" % k)
            continue
        m = last.get(k)
        if m is None:
            bad.append("%s: no message at all (tombstone gone?)" % k)
            continue
        if m.get("payload") is not None:
            bad.append("%s: last message is not a tombstone" % k)
            continue
        h = m.get("headers") or []
        vals = [h[i + 1] for i in range(0, len(h) - 1, 2)
                if h[i] == "followcdc.delete"]
        if len(vals) != 1 or json.loads(vals[0]).get("op") != "d":
            bad.append("%s: tombstone without a delete header: %r" % (k, h))
    if bad:
        print("; ".join(bad[:5]))
        return 1
    print("ok %d keys" % len(want))
    return 0


if __name__ == "__main__":
    sys.exit(main())
