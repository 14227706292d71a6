#!/usr/bin/python3
"""Count duplicate change events in topics read with `kcat -C -J`.

Reads kcat's JSON lines on stdin (the messages of one or more change
topics, read_committed). A change event is identified by its topic, key,
op and source (seq, row); snapshot reads (op r) and tombstones are not
counted. Prints "events=<n> duplicates=<d> keys_with_duplicates=<k>",
where d counts every copy beyond the first.
"""
import collections
import json
import sys


def main():
    seen = collections.Counter()
    for line in sys.stdin:
        line = line.strip()
        if not line.startswith("{"):
            continue
        m = json.loads(line)
        v = m.get("payload")
        if v is None:
            continue
        ev = json.loads(v)
        if ev.get("op") == "r":
            continue
        s = ev["source"]
        seen[(m["topic"], m.get("key"), ev["op"], s["seq"], s["row"])] += 1
    dups = sum(n - 1 for n in seen.values() if n > 1)
    keys = len({(k[0], k[1]) for k, n in seen.items() if n > 1})
    print("events=%d duplicates=%d keys_with_duplicates=%d"
          % (sum(seen.values()), dups, keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
