#!/usr/bin/python3
"""Seeded random write workload on the followcdc source tables.

Runs the kinds of writes an application makes on `follow` and
`idempotent_log` through one or more `mariadb` client processes (one per
connection, statements piped to its stdin), so it needs nothing but the
MariaDB/MySQL command line client:

  follow          follows and unfollows, both as
                  INSERT ... ON DUPLICATE KEY UPDATE status = VALUES(status),
                  version = version + 1   (status 1 = following, 0 = soft
                  delete); hard DELETEs; re-follows of edges that were
                  unfollowed or deleted; mutual follows issued at the same
                  moment from two connections; multi-row statements and
                  multi-statement transactions; rolled back transactions.
  idempotent_log  inserts in status 1/2/3, some created long ago (already
                  past a 7 day TTL), status updates 1 -> 2 and 1 -> 3,
                  deletes.

The work is generated from --seed; the operations are handed out in rounds
to --concurrency connections that run them in parallel. Deadlocks and lock
wait timeouts between connections are expected (the client runs with
--force): whatever committed is the truth that followcdc must reproduce in
Redis, and scripts/check-converged.py reads it back from MySQL.

Examples:
  demo-workload.py --socket /run/mysqld/mysqld.sock --users 50 --ops 2000
  demo-workload.py --host 127.0.0.1 --port 3306 --user app --duration 60
Password: --password, or the MYSQL_PWD environment variable.

Exit status: 0 done (SQL errors such as deadlocks are counted, not fatal),
1 a client could not connect or died, 2 bad arguments.
"""
import argparse
import random
import signal
import subprocess
import sys
import threading
import time

from mysqlcli import add_mysql_args, client_argv

STOP = False


def on_signal(signum, frame):
    global STOP
    STOP = True


def upsert(rows):
    vals = ", ".join("(%d, %d, %d)" % r for r in rows)
    return ("INSERT INTO follow (follower_id, followee_id, status) VALUES %s "
            "ON DUPLICATE KEY UPDATE status = VALUES(status), "
            "version = version + 1;" % vals)


# request id / biz_key suffixes that are hard on every layer: SQL quoting,
# JSON escaping, Redis hash tags and key parsing, the client's batch output
ODD = ("{x}", "}", "{", "a b", "it's", 'q"q', "back\\slash", "tab\there",
       "new\nline", "\u00e9t\u00e9", "\u6f22\u5b57", "\U0001f600", "%s", "")


def sql_str(text):
    """A MySQL string literal (sql_mode without NO_BACKSLASH_ESCAPES)."""
    return "'%s'" % (text.replace("\\", "\\\\").replace("'", "\\'")
                     .replace("\n", "\\n").replace("\t", "\\t"))


def hard_delete(a, b):
    return ("DELETE FROM follow WHERE follower_id = %d AND followee_id = %d;"
            % (a, b))


class Generator:
    """Turns the seed into SQL units (a statement or a transaction)."""

    def __init__(self, args):
        self.r = random.Random(args.seed)
        self.users = args.users
        self.req_prefix = args.req_prefix or ("demo-s%d" % args.seed)
        self.old_days = args.old_days
        self.odd = args.odd_ids
        self.req_next = 0
        self.requests = []          # request ids issued so far
        self.gone = []              # edges unfollowed or deleted (re-follow)
        self.stats = dict(follow=0, unfollow=0, delete=0, refollow=0,
                          mutual=0, txn=0, rollback=0, idem_insert=0,
                          idem_old=0, idem_update=0, idem_delete=0)

    def pair(self):
        a = self.r.randint(1, self.users)
        b = self.r.randint(1, self.users - 1)
        if b >= a:
            b += 1
        return a, b

    def follow_stmt(self):
        """One random single- or multi-row follow/unfollow/delete."""
        r = self.r
        a, b = self.pair()
        x = r.random()
        if x < 0.55:
            self.stats["follow"] += 1
            return upsert([(a, b, 1)])
        if x < 0.70:
            self.stats["follow"] += 1
            return upsert([self.pair() + (1,) for _ in range(r.randint(2, 4))])
        if x < 0.88:
            self.stats["unfollow"] += 1
            self.remember_gone(a, b)
            return upsert([(a, b, 0)])
        self.stats["delete"] += 1
        self.remember_gone(a, b)
        return hard_delete(a, b)

    def remember_gone(self, a, b):
        self.gone.append((a, b))
        if len(self.gone) > 1000:
            del self.gone[:500]

    def idem_stmt(self):
        r = self.r
        x = r.random()
        if x < 0.55 or not self.requests:
            self.req_next += 1
            rid = "%s-%d" % (self.req_prefix, self.req_next)
            biz = "order-%d" % r.randint(1, 10 * self.users)
            if self.odd > 0 and r.random() < self.odd:
                rid += r.choice(ODD)
                biz += r.choice(ODD)
            self.requests.append(rid)
            status = r.choice((1, 1, 2, 2, 3))
            if r.random() < 0.15:
                # created long ago: already expired for a TTL of 7 days
                self.stats["idem_old"] += 1
                created = ("NOW(3) - INTERVAL %d DAY - INTERVAL %d SECOND"
                           % (self.old_days + r.randint(0, 30),
                              r.randint(0, 86399)))
            else:
                created = "NOW(3)"
            self.stats["idem_insert"] += 1
            return ("INSERT INTO idempotent_log (request_id, biz_key, status, "
                    "created_at) VALUES (%s, %s, %d, %s) ON DUPLICATE KEY "
                    "UPDATE status = VALUES(status), version = version + 1;"
                    % (sql_str(rid), sql_str(biz), status, created))
        rid = r.choice(self.requests)
        if x < 0.92:
            self.stats["idem_update"] += 1
            return ("UPDATE idempotent_log SET status = %d, "
                    "version = version + 1 WHERE request_id = %s "
                    "AND status = 1;" % (r.choice((2, 2, 2, 3)), sql_str(rid)))
        self.stats["idem_delete"] += 1
        return ("DELETE FROM idempotent_log WHERE request_id = %s;"
                % sql_str(rid))

    def unit(self):
        """(sql, mutual_other_half_or_None)."""
        r = self.r
        x = r.random()
        if x < 0.55:
            return self.follow_stmt(), None
        if x < 0.63 and self.gone:
            a, b = self.gone.pop(r.randrange(len(self.gone)))
            self.stats["refollow"] += 1
            return upsert([(a, b, 1)]), None
        if x < 0.70:
            a, b = self.pair()
            self.stats["mutual"] += 1
            return upsert([(a, b, 1)]), upsert([(b, a, 1)])
        if x < 0.78:
            self.stats["txn"] += 1
            body = [self.follow_stmt() if r.random() < 0.7 else
                    self.idem_stmt() for _ in range(r.randint(2, 5))]
            return "BEGIN; %s COMMIT;" % " ".join(body), None
        if x < 0.80:
            self.stats["rollback"] += 1
            body = [self.follow_stmt() if r.random() < 0.7 else
                    self.idem_stmt() for _ in range(r.randint(1, 4))]
            return "BEGIN; %s ROLLBACK;" % " ".join(body), None
        return self.idem_stmt(), None

    def round(self, nconn, nops):
        """nops units spread over nconn connections; the two halves of a
        mutual follow go first on two different connections."""
        heads = [[] for _ in range(nconn)]
        tails = [[] for _ in range(nconn)]
        k = 0
        for _ in range(nops):
            sql, other = self.unit()
            if other is None:
                tails[k % nconn].append(sql)
            elif nconn == 1:
                tails[0].append("BEGIN; %s %s COMMIT;" % (sql, other))
            else:
                heads[k % nconn].append(sql)
                heads[(k + 1) % nconn].append(other)
            k += 1
        return [h + t for h, t in zip(heads, tails)]


class Conn:
    """One `mariadb` client process; batches go to stdin, a marker query
    tells when a batch has run."""

    def __init__(self, idx, argv):
        self.idx = idx
        self.errors = 0
        self.first_errors = []
        self.marker = 0
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True,
                                  encoding="utf-8", errors="replace",
                                  bufsize=1)
        self.t = threading.Thread(target=self.drain_stderr, daemon=True)
        self.t.start()

    def drain_stderr(self):
        for line in self.p.stderr:
            line = line.rstrip("\n")
            if not line.startswith("ERROR"):
                continue        # the client echoes the failed statement
            self.errors += 1
            if len(self.first_errors) < 3:
                self.first_errors.append(line)

    def run(self, stmts):
        """Send the statements, wait until the client has run them."""
        self.marker += 1
        tag = "sync-%d-%d" % (self.idx, self.marker)
        try:
            self.p.stdin.write("\n".join(stmts) + "\nSELECT '%s';\n" % tag)
            self.p.stdin.flush()
            for line in self.p.stdout:
                if line.strip() == tag:
                    return True
        except (BrokenPipeError, OSError):
            pass
        return False

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.t.join(timeout=5)
        return self.p.returncode


def workload_argv(args):
    # --force: deadlocks between the connections are counted, not fatal
    return client_argv(args, "--unbuffered", "--force",
                       "--init-command=SET time_zone = '+00:00'")


def parse_args():
    ap = argparse.ArgumentParser(
        description="Seeded random workload on the follow and "
                    "idempotent_log tables (needs the mariadb client).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_mysql_args(ap)
    ap.add_argument("--users", type=int, default=50,
                    help="user ids 1..N")
    ap.add_argument("--ops", type=int, default=1000,
                    help="operations (a statement or a transaction); "
                         "ignored with --duration")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--concurrency", type=int, default=4,
                    help="parallel connections")
    ap.add_argument("--round", type=int, default=8,
                    help="operations per connection per round")
    ap.add_argument("--duration", type=float, default=0,
                    help="continuous mode: run this many seconds "
                         "(0: run --ops and stop); SIGINT/SIGTERM stop it")
    ap.add_argument("--rate", type=float, default=0,
                    help="max operations per second (0: as fast as the "
                         "server goes)")
    ap.add_argument("--old-days", type=int, default=30,
                    help="age in days of the idempotency rows created "
                         "'long ago'")
    ap.add_argument("--odd-ids", type=float, default=0,
                    help="fraction of new request ids and biz keys given a "
                         "hard suffix (braces, quotes, backslash, tab, "
                         "newline, non-ASCII, empty)")
    ap.add_argument("--req-prefix", default=None,
                    help="request id prefix (default demo-s<seed>; use a "
                         "new one to run the same seed again)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    if args.users < 2 or args.concurrency < 1 or args.round < 1 or \
            args.ops < 0 or args.duration < 0 or args.rate < 0:
        ap.error("--users >= 2, --concurrency >= 1, --round >= 1, "
                 "others >= 0")
    return args


def main():
    args = parse_args()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    gen = Generator(args)
    argv = workload_argv(args)
    try:
        conns = [Conn(i, argv) for i in range(args.concurrency)]
    except OSError as e:
        print("demo-workload: cannot run %s: %s" % (args.mariadb, e),
              file=sys.stderr)
        return 1
    # every connection must answer before the work starts
    ok = all(c.run([]) for c in conns)
    if not ok:
        for c in conns:
            c.close()
            for e in c.first_errors:
                print("demo-workload: %s" % e, file=sys.stderr)
        print("demo-workload: could not connect", file=sys.stderr)
        return 1
    for c in conns:
        c.errors = 0
        c.first_errors = []
    start = time.monotonic()
    done = 0
    failed = False
    per_round = args.concurrency * args.round
    while not STOP and not failed:
        if args.duration > 0:
            if time.monotonic() - start >= args.duration:
                break
            n = per_round
        else:
            n = min(per_round, args.ops - done)
            if n <= 0:
                break
        batches = gen.round(args.concurrency, n)
        results = [False] * len(conns)

        def work(i):
            results[i] = conns[i].run(batches[i]) if batches[i] else True

        threads = [threading.Thread(target=work, args=(i,))
                   for i in range(len(conns))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if not all(results):
            failed = True
        done += n
        if args.rate > 0:
            ahead = done / args.rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
    elapsed = time.monotonic() - start
    rcs = [c.close() for c in conns]
    errors = sum(c.errors for c in conns)
    s = gen.stats
    if not args.quiet or failed:
        print("demo-workload: %d ops in %.1f s (%.0f ops/s) on %d "
              "connections, %d users, seed %d; SQL errors %d"
              % (done, elapsed, done / elapsed if elapsed > 0 else 0,
                 args.concurrency, args.users, args.seed, errors))
        print("  follow %d unfollow %d delete %d refollow %d mutual %d "
              "txn %d rollback %d idem: insert %d (old %d) update %d "
              "delete %d" % (s["follow"], s["unfollow"], s["delete"],
                             s["refollow"], s["mutual"], s["txn"],
                             s["rollback"], s["idem_insert"], s["idem_old"],
                             s["idem_update"], s["idem_delete"]))
        shown = 0
        for c in conns:
            for e in c.first_errors:
                if shown < 5:
                    print("  e.g. %s" % e)
                    shown += 1
    if failed or any(rc not in (0, None) and errors == 0 for rc in rcs):
        print("demo-workload: a client connection failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
