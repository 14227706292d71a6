#!/usr/bin/python3
"""Commit -> Redis visibility latency of followcdc, per change (bench/latency.sh).

Writes new follow rows at a steady rate (each with its own follower id, so
each row makes exactly one new key fc:{u:<follower>}:following in Redis)
through one mariadb client, in transactions of --txn rows, for --secs
seconds. Meanwhile it listens to Redis keyspace notifications for those
keys (Redis must run with notify-keyspace-events containing K and z) and
stamps each with the time it arrived. The latency of a row is that time
minus the row's created_at (set by the server when the INSERT ran, in the
transaction that commits right after). Prints the distribution and one line

  RESULT latency broker=<name> rate=<rows/s> p50_ms=<n> p99_ms=<n> max_ms=<n>

Rows not visible --grace seconds after the last write count as lost and
make the exit status 1 (they would make the percentiles meaningless).
"""
import argparse
import os
import socket
import subprocess
import sys
import threading
import time

BASE = 10_000_000  # follower ids of this run: BASE + i


def resp_read(f):
    """One RESP value from a buffered socket file."""
    line = f.readline()
    if not line:
        raise EOFError("redis closed the connection")
    t, rest = line[:1], line[1:-2]
    if t in (b"+", b"-"):
        return rest
    if t == b":":
        return int(rest)
    if t == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2]
    if t == b"*":
        return [resp_read(f) for _ in range(int(rest))]
    raise ValueError("bad RESP type %r" % t)


class Watcher(threading.Thread):
    """Stamps the first notification of each fc:{u:N}:following key."""

    def __init__(self, port, prefix):
        super().__init__(daemon=True)
        self.seen = {}
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.f = self.sock.makefile("rb")
        pat = ("__keyspace@0__:%s:{u:*}:following" % prefix).encode()
        self.sock.sendall(b"*2\r\n$10\r\nPSUBSCRIBE\r\n$%d\r\n%s\r\n"
                          % (len(pat), pat))
        resp_read(self.f)  # psubscribe confirmation
        self.stop = False

    def run(self):
        while not self.stop:
            try:
                msg = resp_read(self.f)
            except (EOFError, OSError, ValueError):
                return
            now = time.time()
            if not isinstance(msg, list) or len(msg) != 4:
                continue
            chan = msg[2].decode("utf-8", "replace")
            i = chan.find("{u:")
            j = chan.find("}", i)
            if i < 0 or j < 0:
                continue
            uid = int(chan[i + 3:j])
            if uid >= BASE and uid not in self.seen:
                self.seen[uid] = now


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True, help="MariaDB unix socket")
    ap.add_argument("--db", default="followcdc")
    ap.add_argument("--redis-port", type=int, required=True)
    ap.add_argument("--prefix", default="fc", help="Redis key prefix")
    ap.add_argument("--rate", type=int, default=1000, help="rows per second")
    ap.add_argument("--secs", type=int, default=30)
    ap.add_argument("--txn", type=int, default=5, help="rows per transaction")
    ap.add_argument("--grace", type=int, default=60)
    ap.add_argument("--broker", default="?")
    a = ap.parse_args()

    w = Watcher(a.redis_port, a.prefix)
    w.start()
    cli = subprocess.Popen(
        ["mariadb", "--no-defaults", "-S", a.socket, "-uroot", a.db],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    total = a.rate * a.secs
    per_tick = a.txn
    interval = per_tick / float(a.rate)
    t0 = time.time()
    n = 0
    while n < total:
        rows = ",".join("(%d,%d,1)" % (BASE + n + k, 1 + (n + k) % 1000)
                        for k in range(min(per_tick, total - n)))
        cli.stdin.write(("START TRANSACTION;INSERT INTO follow (follower_id,"
                         " followee_id, status) VALUES %s;COMMIT;\n"
                         % rows).encode())
        cli.stdin.flush()
        n += min(per_tick, total - n)
        # steady pace: sleep until this batch's slot
        delay = t0 + (n / per_tick) * interval - time.time()
        if delay > 0:
            time.sleep(delay)
    cli.stdin.close()
    if cli.wait() != 0:
        print("latency: mariadb client failed", file=sys.stderr)
        return 2
    t1 = time.time()
    deadline = t1 + a.grace
    while len(w.seen) < total and time.time() < deadline:
        time.sleep(0.1)
    w.stop = True

    out = subprocess.run(
        ["mariadb", "--no-defaults", "-S", a.socket, "-uroot", "-N", "-B",
         a.db, "-e", "SELECT follower_id, UNIX_TIMESTAMP(created_at) FROM "
         "follow WHERE follower_id >= %d" % BASE],
        stdout=subprocess.PIPE, check=True, universal_newlines=True).stdout
    lat = []
    missing = 0
    for line in out.splitlines():
        uid, ts = line.split("\t")
        t = w.seen.get(int(uid))
        if t is None:
            missing += 1
            continue
        lat.append((t - float(ts)) * 1000.0)
    lat.sort()
    if not lat:
        print("latency: no row became visible", file=sys.stderr)
        return 1

    def pct(p):
        return lat[min(len(lat) - 1, int(round(p / 100.0 * (len(lat) - 1))))]

    print("latency broker=%s: %d rows in %.1f s (%.0f rows/s written), "
          "%d visible, %d not visible after %d s" %
          (a.broker, total, t1 - t0, total / (t1 - t0), len(lat), missing,
           a.grace))
    print("latency broker=%s: min %.1f p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f "
          "max %.1f ms" % (a.broker, lat[0], pct(50), pct(90), pct(99),
                           pct(99.9), lat[-1]))
    # rate is the target; written_per_s what the writer reached (a busy
    # machine may not reach the target: then the figures are not at it)
    print("RESULT latency broker=%s rate=%d p50_ms=%.1f p99_ms=%.1f "
          "max_ms=%.1f written_per_s=%.0f" % (a.broker, a.rate, pct(50),
                                              pct(99), lat[-1],
                                              total / (t1 - t0)))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
