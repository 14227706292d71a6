#!/usr/bin/python3
"""Seeded concurrent workload for the tests of sharded sources and pair
tables (label sources).

Writes `follow` (--model edge) or the pair table `friendship` (--model
pair, schemas/mysql/003-pair.sql) and `idempotent_log` on one or more
MariaDB shards (--shard SOCKET, repeated), through --concurrency `mariadb`
client processes per shard, in rounds:

  edge  follows / unfollows (INSERT ... ON DUPLICATE KEY UPDATE status),
        hard deletes, re-follows, small transactions; a follow row lives
        on the shard of its follower; mutual follows issued at the same
        instant (their rows are on the two users' shards).
  pair  bit updates (INSERT ... ON DUPLICATE KEY UPDATE relation =
        relation | bit, per-direction since-times; UPDATE relation =
        relation & ~bit), both users following each other at the same
        instant from two connections, unfollows racing follows of the same
        pair, deletes and re-inserts of pairs; a pair lives on the shard of
        its user_a.
  idem  per-shard request ids (s<K>-...), inserts, status updates, deletes;
        --idem-old N rows per shard created long ago (expired for a 7 day
        TTL, status 2: the reaper's work).

--moves N moves N users to another shard during the run, between rounds,
the way docs/sharding.md describes: route the user's writes to the new
shard, copy the user's rows there (INSERT IGNORE keeps rows already
written there), delete them from the old shard; one move in three deletes
first and copies afterwards. The routing table is printed at the end.

SQL errors (deadlocks) are counted, not fatal: what committed is the truth
that check-converged.py reads back.
"""
import argparse
import importlib.util
import os
import random
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
_spec = importlib.util.spec_from_file_location(
    "demo_workload", os.path.join(HERE, "..", "..", "scripts",
                                  "demo-workload.py"))
demo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(demo)

STOP = False


def on_signal(signum, frame):
    global STOP
    STOP = True


class Gen:
    def __init__(self, args):
        self.r = random.Random(args.seed)
        self.args = args
        self.n = len(args.shard)
        self.route = {}          # moved users: user -> shard index
        self.req = 0
        self.requests = [[] for _ in range(self.n)]
        self.stats = dict(follow=0, unfollow=0, delete=0, mutual=0, race=0,
                          txn=0, idem=0, moves=0, moved_rows=0)

    def shard_of(self, u):
        return self.route.get(u, (u - 1) % self.n)

    def users(self):
        a = self.r.randint(1, self.args.users)
        b = self.r.randint(1, self.args.users - 1)
        return a, b + 1 if b >= a else b

    # ---- follow table: (sql, owner) with owner = follower ----

    def edge_follow(self, a, b, status):
        return ("INSERT INTO follow (follower_id, followee_id, status) VALUES "
                "(%d, %d, %d) ON DUPLICATE KEY UPDATE status = "
                "VALUES(status), version = version + 1;" % (a, b, status))

    def edge_unit(self):
        r = self.r
        a, b = self.users()
        x = r.random()
        if x < 0.5:
            self.stats["follow"] += 1
            return [(self.edge_follow(a, b, 1), a)]
        if x < 0.65:
            self.stats["unfollow"] += 1
            return [(self.edge_follow(a, b, 0), a)]
        if x < 0.75:
            self.stats["delete"] += 1
            return [("DELETE FROM follow WHERE follower_id = %d AND "
                     "followee_id = %d;" % (a, b), a)]
        if x < 0.87:
            self.stats["mutual"] += 1
            return [(self.edge_follow(a, b, 1), a),
                    (self.edge_follow(b, a, 1), b)]
        self.stats["txn"] += 1
        others = [self.users()[1] for _ in range(r.randint(2, 3))]
        body = " ".join(self.edge_follow(a, o, r.choice((0, 1, 1)))
                        for o in others if o != a)
        return [("BEGIN; %s COMMIT;" % body, a)]

    # ---- pair table: owner = user_a ----

    @staticmethod
    def pair_follow(a, b, x):
        bit, col = (1, "a_since") if x == a else (2, "b_since")
        return ("INSERT INTO friendship (user_a, user_b, relation, %s) "
                "VALUES (%d, %d, %d, NOW(3)) ON DUPLICATE KEY UPDATE "
                "%s = IF(relation & %d, %s, NOW(3)), relation = relation | "
                "%d, version = version + 1;"
                % (col, a, b, bit, col, bit, col, bit))

    @staticmethod
    def pair_unfollow(a, b, x):
        bit, col = (1, "a_since") if x == a else (2, "b_since")
        return ("UPDATE friendship SET relation = relation & ~%d, %s = NULL, "
                "version = version + 1 WHERE user_a = %d AND user_b = %d;"
                % (bit, col, a, b))

    def pair_unit(self):
        r = self.r
        a, b = sorted(self.users())
        x = r.choice((a, b))
        y = r.random()
        if y < 0.45:
            self.stats["follow"] += 1
            return [(self.pair_follow(a, b, x), a)]
        if y < 0.6:
            self.stats["unfollow"] += 1
            return [(self.pair_unfollow(a, b, x), a)]
        if y < 0.68:
            self.stats["delete"] += 1
            return [("DELETE FROM friendship WHERE user_a = %d AND "
                     "user_b = %d;" % (a, b), a)]
        if y < 0.84:
            # both follow each other at the same instant
            self.stats["mutual"] += 1
            return [(self.pair_follow(a, b, a), a),
                    (self.pair_follow(a, b, b), a)]
        # an unfollow racing a follow of the same direction
        self.stats["race"] += 1
        return [(self.pair_follow(a, b, x), a),
                (self.pair_unfollow(a, b, x), a)]

    # ---- idempotency rows of shard k ----

    def idem_unit(self, k):
        r = self.r
        self.stats["idem"] += 1
        if r.random() < 0.6 or not self.requests[k]:
            self.req += 1
            rid = "s%d-%d-%d" % (k + 1, self.args.seed, self.req)
            self.requests[k].append(rid)
            return ("INSERT INTO idempotent_log (request_id, biz_key, status) "
                    "VALUES ('%s', 'b%d', %d);"
                    % (rid, r.randint(1, 99), r.choice((1, 2, 3))))
        rid = r.choice(self.requests[k])
        if r.random() < 0.8:
            return ("UPDATE idempotent_log SET status = %d, version = "
                    "version + 1 WHERE request_id = '%s';"
                    % (r.choice((2, 3)), rid))
        return "DELETE FROM idempotent_log WHERE request_id = '%s';" % rid

    def round(self, conc, nops):
        """Per shard, per connection: statements. The parts of a race go
        first, on different connections."""
        heads = [[[] for _ in range(conc)] for _ in range(self.n)]
        tails = [[[] for _ in range(conc)] for _ in range(self.n)]
        k = 0
        for _ in range(nops):
            if self.r.random() < 0.15:
                s = self.r.randrange(self.n)
                tails[s][k % conc].append(self.idem_unit(s))
                k += 1
                continue
            unit = (self.pair_unit() if self.args.model == "pair"
                    else self.edge_unit())
            if len(unit) == 1:
                sql, owner = unit[0]
                tails[self.shard_of(owner)][k % conc].append(sql)
            else:
                for i, (sql, owner) in enumerate(unit):
                    heads[self.shard_of(owner)][(k + i) % conc].append(sql)
            k += 1
        return [[h + t for h, t in zip(hs, ts)] for hs, ts in zip(heads, tails)]


def query(args, sock, sql):
    p = subprocess.run([args.mariadb, "--no-defaults", "-N", "-B",
                        "--socket=" + sock, "-uroot", args.db, "-e", sql],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode != 0:
        raise RuntimeError("mysql: %s" % p.stderr.strip())
    return [line.split("\t") for line in p.stdout.splitlines() if line]


def lit(v):
    return "NULL" if v == "NULL" else "'%s'" % v


def move(args, gen, admin):
    """Move one user's rows to another shard (docs/sharding.md)."""
    r = gen.r
    u = r.randint(1, args.users)
    old = gen.shard_of(u)
    new = (old + r.randint(1, gen.n - 1)) % gen.n
    if args.model == "pair":
        table, owner = "friendship", "user_a"
        cols = ("user_a", "user_b", "relation", "version", "a_since",
                "b_since", "created_at", "updated_at")
    else:
        table, owner = "follow", "follower_id"
        cols = ("follower_id", "followee_id", "status", "version",
                "created_at", "updated_at")
    # 1. new writes of u go to the new shard (between rounds: none now)
    gen.route[u] = new
    rows = query(args, args.shard[old], "SELECT %s FROM %s WHERE %s = %d"
                 % (", ".join(cols), table, owner, u))
    copy = ("INSERT IGNORE INTO %s (%s) VALUES %s;"
            % (table, ", ".join(cols),
               ", ".join("(%s)" % ", ".join(lit(v) for v in row)
                         for row in rows))) if rows else None
    delete = "DELETE FROM %s WHERE %s = %d;" % (table, owner, u)
    steps = [(new, copy), (old, delete)]
    if r.random() < 1 / 3.0:
        steps.reverse()          # delete first, then copy
    for k, sql in steps:
        if sql and not admin[k].run([sql]):
            raise RuntimeError("move: shard %d connection failed" % (k + 1))
    gen.stats["moves"] += 1
    gen.stats["moved_rows"] += len(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shard", action="append", required=True,
                    metavar="SOCKET", help="a shard's unix socket (repeat)")
    ap.add_argument("--db", default="followcdc")
    ap.add_argument("--mariadb", default="mariadb")
    ap.add_argument("--model", choices=("edge", "pair"), default="edge")
    ap.add_argument("--users", type=int, default=40)
    ap.add_argument("--concurrency", type=int, default=3,
                    help="connections per shard")
    ap.add_argument("--round", type=int, default=6,
                    help="operations per connection per round")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--rate", type=float, default=0,
                    help="max operations per second (0: no limit)")
    ap.add_argument("--moves", type=int, default=0)
    ap.add_argument("--idem-old", type=int, default=0)
    args = ap.parse_args()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    gen = Gen(args)
    if args.moves and gen.n < 2:
        ap.error("--moves needs two shards or more")

    def argv(sock):
        return [args.mariadb, "--no-defaults", "-N", "-B", "--unbuffered",
                "--force", "--init-command=SET time_zone = '+00:00'",
                "--default-character-set=utf8mb4", "--socket=" + sock,
                "-uroot", args.db]
    conns = [[demo.Conn(k * 100 + i, argv(sock))
              for i in range(args.concurrency)]
             for k, sock in enumerate(args.shard)]
    admin = [demo.Conn(10000 + k, argv(sock))
             for k, sock in enumerate(args.shard)]
    every = [c for cs in conns for c in cs] + admin
    if not all(c.run([]) for c in every):
        print("sources_wl: could not connect", file=sys.stderr)
        return 1
    for k in range(gen.n):
        if args.idem_old:
            rows = ", ".join(
                "('s%d-old-%d-%d', 'old', 2, NOW(3) - INTERVAL %d DAY)"
                % (k + 1, args.seed, i, 8 + gen.r.randint(0, 20))
                for i in range(args.idem_old))
            admin[k].run(["INSERT INTO idempotent_log (request_id, biz_key, "
                          "status, created_at) VALUES %s;" % rows])
    start = time.monotonic()
    done = rounds = 0
    failed = False
    per_round = gen.n * args.concurrency * args.round
    # the moves are spread over the run
    move_at = sorted(gen.r.uniform(0.1, 0.9) * args.duration
                     for _ in range(args.moves))
    while not STOP and not failed and \
            time.monotonic() - start < args.duration:
        batches = gen.round(args.concurrency, per_round)
        results = {}

        def work(k, i):
            results[(k, i)] = conns[k][i].run(batches[k][i]) \
                if batches[k][i] else True
        threads = [threading.Thread(target=work, args=(k, i))
                   for k in range(gen.n) for i in range(args.concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        failed = not all(results.values())
        done += per_round
        rounds += 1
        while move_at and time.monotonic() - start >= move_at[0] and \
                not failed:
            move_at.pop(0)
            move(args, gen, admin)
        if args.rate > 0:
            ahead = done / args.rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
    while move_at and not failed:       # a short run still moves
        move_at.pop(0)
        move(args, gen, admin)
    elapsed = time.monotonic() - start
    for c in every:
        c.close()
    errors = sum(c.errors for c in every)
    print("sources_wl %s: %d ops in %.1f s on %d shard(s) x %d connections, "
          "%d users, seed %d; SQL errors %d; %s; moved users %s"
          % (args.model, done, elapsed, gen.n, args.concurrency, args.users,
             args.seed, errors,
             " ".join("%s=%d" % kv for kv in sorted(gen.stats.items())),
             " ".join("%d->s%d" % (u, k + 1)
                      for u, k in sorted(gen.route.items())) or "none"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
