#!/usr/bin/python3
"""Random SQL workload for the producer tests.

Usage: producer_wl.py [--seed N] [--count N] [--keys N] [--prefix P]

Prints SQL for one `mariadb --force` connection: single-row and multi-row
upserts (INSERT ... ON DUPLICATE KEY UPDATE status = VALUES(status),
version = version + 1), soft deletes, hard deletes, multi-statement
transactions and rolled back transactions on `follow` and
`idempotent_log`. Errors such as deadlocks are fine: the audit triggers
(producer_lib.sh) record exactly what committed.
"""
import argparse
import random
import sys


def follow_stmt(r, keys):
    a, b = r.randint(1, keys), r.randint(1, keys)
    x = r.random()
    if x < 0.55:
        return ("INSERT INTO follow (follower_id, followee_id, status) "
                "VALUES (%d, %d, %d) ON DUPLICATE KEY UPDATE "
                "status = VALUES(status), version = version + 1;"
                % (a, b, r.choice((1, 1, 1, 0))))
    if x < 0.70:
        rows = ", ".join("(%d, %d, 1)" % (r.randint(1, keys),
                                          r.randint(1, keys))
                         for _ in range(r.randint(2, 4)))
        return ("INSERT INTO follow (follower_id, followee_id, status) "
                "VALUES %s ON DUPLICATE KEY UPDATE "
                "status = VALUES(status), version = version + 1;" % rows)
    if x < 0.85:
        return ("UPDATE follow SET status = 0, version = version + 1 "
                "WHERE follower_id = %d AND followee_id = %d;" % (a, b))
    return ("DELETE FROM follow WHERE follower_id = %d AND "
            "followee_id = %d;" % (a, b))


def idem_stmt(r, keys, prefix):
    rid = "%s-%d" % (prefix, r.randint(1, keys * 2))
    x = r.random()
    if x < 0.5:
        return ("INSERT INTO idempotent_log (request_id, biz_key, status) "
                "VALUES ('%s', 'biz-%d', 1) ON DUPLICATE KEY UPDATE "
                "status = VALUES(status), version = version + 1;"
                % (rid, r.randint(1, 99)))
    if x < 0.85:
        return ("UPDATE idempotent_log SET status = %d, version = version + 1"
                " WHERE request_id = '%s';" % (r.choice((2, 3)), rid))
    return "DELETE FROM idempotent_log WHERE request_id = '%s';" % rid


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--keys", type=int, default=12)
    ap.add_argument("--prefix", default="req")
    ap.add_argument("--no-deletes", action="store_true",
                    help="no hard deletes (a re-snapshot can't see them)")
    ap.add_argument("--sleep-every", type=int, default=0,
                    help="insert SELECT SLEEP(0.01) every N statements")
    a = ap.parse_args()
    r = random.Random(a.seed)
    out = []
    n = 0
    while n < a.count:
        x = r.random()
        one = (lambda: follow_stmt(r, a.keys)) if r.random() < 0.7 else \
            (lambda: idem_stmt(r, a.keys, a.prefix))
        if x < 0.70:
            out.append(one())
            n += 1
        else:
            k = r.randint(2, 5)
            out.append("BEGIN;")
            for _ in range(k):
                if r.random() < 0.7:
                    out.append(follow_stmt(r, a.keys))
                else:
                    out.append(idem_stmt(r, a.keys, a.prefix))
            out.append("ROLLBACK;" if x < 0.78 else "COMMIT;")
            n += k
        if a.sleep_every and n % a.sleep_every == 0:
            out.append("DO SLEEP(0.01);")
    if a.no_deletes:
        out = [x for x in out if not x.startswith("DELETE")]
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
