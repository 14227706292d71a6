#!/usr/bin/python3
"""Compare the Redis state followcdc maintains with the MySQL source tables.

From `follow` (rows with status 1) it computes, for every user, the sets
the consumer must hold (schemas/redis.md):

  <prefix>:{u:<id>}:following   sorted set: followee -> follow time (ms)
  <prefix>:{u:<id>}:followers   sorted set: follower -> follow time (ms)
  <prefix>:{u:<id>}:friends     sorted set: mutual follows, scored by the
                                later of the two follow times

(the follow time is the follow.col.time column, updated_at by default,
read as a DATETIME in --tz), and from `idempotent_log` the idempotency
records that must exist: rows whose created_at + TTL is still in the
future, as <prefix>:idem:{r:<request_id>} hashes (status, biz_key) expiring
at exactly created_at + TTL. Edge version hashes (:ver) and delete
tombstones (:del) are bookkeeping and not compared.

--model pair reads a pair table instead (the consumer's follow.model=pair:
one row per pair, relation bit 1 = a follows b, 2 = b follows a), each
direction scored by --col-time-ab / --col-time-ba (default --col-time).

--shard SOCKET|HOST:PORT (repeatable) adds sources: several MySQL shards
feeding one Redis (same database, user and password as the first). Redis
must then hold their union: an edge is followed iff some shard has a row
saying so, scored by the latest such time; idempotency records are the
union of the shards' rows.

Redis is read with a small built-in RESP client and MySQL with the
`mariadb` command line client: no Python packages needed.

  check-converged.py --socket S --redis-port P            compare once
  check-converged.py ... --wait 60                         poll until equal
  check-converged.py --redis-port P --show 42              one user, as an
                                                           app reads it
  check-converged.py ... --redis-cluster H:P,H:P           a Redis Cluster:
                     every master is scanned, every key read from the
                     master of its slot (CRC16 of the hash tag)
  check-converged.py --socket S1 --shard S2 --shard H:P ...  three shards
  check-converged.py ... --model pair --follow-table friendship
Exit status: 0 converged (or --show done), 1 not converged, 2 usage or
connection error.
"""
import argparse
import copy
import datetime
import os
import socket
import subprocess
import sys
import time

from mysqlcli import add_mysql_args, client_argv

try:
    import zoneinfo
except ImportError:  # pragma: no cover - python < 3.9
    zoneinfo = None


class RespError(Exception):
    pass


class Redis:
    """Just enough RESP2 for SCAN, ZRANGE, HMGET and friends, pipelined."""

    def __init__(self, host, port, db=0, user=None, password=None,
                 timeout=10.0):
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.f = self.s.makefile("rb")
        if password:
            args = ["AUTH", user, password] if user else ["AUTH", password]
            self.call(*args)
        if db:
            self.call("SELECT", str(db))

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if not isinstance(a, bytes):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def read(self):
        line = self.f.readline()
        if not line:
            raise RespError("connection closed by Redis")
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return RespError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)
            return data[:-2].decode("utf-8", "replace")
        if t == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self.read() for _ in range(n)]
        raise RespError("bad reply type %r" % t)

    def pipeline(self, cmds, chunk=500):
        replies = []
        for i in range(0, len(cmds), chunk):
            part = cmds[i:i + chunk]
            self.s.sendall(b"".join(self.encode(c) for c in part))
            replies.extend(self.read() for _ in part)
        return replies

    def call(self, *args):
        r = self.pipeline([list(args)])[0]
        if isinstance(r, RespError):
            raise r
        return r

    def scan(self, pattern):
        keys, cur = [], "0"
        while True:
            cur, batch = self.call("SCAN", cur, "MATCH", pattern,
                                   "COUNT", "1000")
            keys.extend(batch)
            if cur == "0":
                return keys

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


class RetryLater(Exception):
    """The cluster is moving slots or failing over: poll again."""


def crc16(data):
    """CRC16-XMODEM, as Redis Cluster hashes keys."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xffff
    return crc


def key_slot(key):
    k = key.encode("utf-8", "surrogateescape") if isinstance(key, str) \
        else key
    o = k.find(b"{")
    if o >= 0:
        c = k.find(b"}", o + 1)
        if c > o + 1:
            k = k[o + 1:c]
    return crc16(k) % 16384


class ClusterRedis:
    """The same interface as Redis over every master of a Redis Cluster:
    SCAN on each master, commands routed by the slot of their key (the
    second argument). A redirection or a cluster error raises RetryLater;
    refresh() reads the slot map again."""

    def __init__(self, nodes, user=None, password=None, timeout=10.0):
        self.seeds = []
        for n in nodes.split(","):
            n = n.strip()
            if n:
                host, _, port = n.rpartition(":")
                self.seeds.append((host.strip("[]"), int(port)))
        if not self.seeds:
            raise RespError("--redis-cluster: no host:port")
        self.user, self.password, self.timeout = user, password, timeout
        self.conns = {}
        self.owner = [None] * 16384
        self.refresh()

    def conn(self, addr):
        c = self.conns.get(addr)
        if c is None:
            c = Redis(addr[0], addr[1], 0, self.user, self.password,
                      self.timeout)
            self.conns[addr] = c
        return c

    def drop(self, addr):
        c = self.conns.pop(addr, None)
        if c is not None:
            c.close()

    def refresh(self):
        last = None
        for addr in list(self.conns) + self.seeds:
            try:
                slots = self.conn(addr).call("CLUSTER", "SLOTS")
            except (OSError, RespError) as e:
                self.drop(addr)
                last = e
                continue
            owner = [None] * 16384
            for ent in slots:
                host = ent[2][0] or addr[0]
                for s in range(ent[0], ent[1] + 1):
                    owner[s] = (host, int(ent[2][1]))
            self.owner = owner
            return
        raise RespError("no cluster node answered CLUSTER SLOTS: %s" % last)

    def masters(self):
        m = set(a for a in self.owner if a is not None)
        if len(m) == 0 or None in self.owner:
            raise RetryLater("some slots have no master")
        return sorted(m)

    def scan(self, pattern):
        keys = []
        for addr in self.masters():
            try:
                keys.extend(k for k in self.conn(addr).scan(pattern)
                            if self.owner[key_slot(k)] == addr)
            except OSError as e:
                self.drop(addr)
                raise RetryLater("%s:%d: %s" % (addr[0], addr[1], e))
        return keys

    def pipeline(self, cmds, chunk=500):
        groups = {}
        for i, c in enumerate(cmds):
            addr = self.owner[key_slot(c[1])]
            if addr is None:
                raise RetryLater("slot without a master")
            groups.setdefault(addr, []).append(i)
        replies = [None] * len(cmds)
        for addr, idx in groups.items():
            try:
                got = self.conn(addr).pipeline([cmds[i] for i in idx], chunk)
            except OSError as e:
                self.drop(addr)
                raise RetryLater("%s:%d: %s" % (addr[0], addr[1], e))
            for i, r in zip(idx, got):
                if isinstance(r, RespError) and str(r).split(" ")[0] in (
                        "MOVED", "ASK", "TRYAGAIN", "CLUSTERDOWN", "LOADING"):
                    raise RetryLater(str(r))
                replies[i] = r
        return replies

    def call(self, *args):
        r = self.pipeline([list(args)])[0]
        if isinstance(r, RespError):
            raise r
        return r

    def close(self):
        for c in self.conns.values():
            c.close()
        self.conns = {}


def parse_ttl(text):
    units = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000}
    for u in ("ms", "s", "m", "h", "d"):
        if text.endswith(u) and text[:-len(u)].isdigit():
            return int(text[:-len(u)]) * units[u]
    if text.isdigit():
        return int(text)
    raise argparse.ArgumentTypeError("bad duration %r (e.g. 7d, 3600s)"
                                     % text)


def parse_tz(text):
    if text.upper() in ("UTC", "Z", "+00:00", "SYSTEM_UTC"):
        return datetime.timezone.utc
    if text[:1] in "+-" and len(text) == 6 and text[3] == ":":
        sign = -1 if text[0] == "-" else 1
        off = datetime.timedelta(hours=int(text[1:3]), minutes=int(text[4:6]))
        return datetime.timezone(sign * off)
    if zoneinfo is None:
        raise argparse.ArgumentTypeError("time zone names need python 3.9+")
    try:
        return zoneinfo.ZoneInfo(text)
    except Exception:
        raise argparse.ArgumentTypeError("unknown time zone %r" % text)


def dt_ms(text, tz):
    """'YYYY-MM-DD HH:MM:SS[.ffffff]' in tz -> ms since the epoch."""
    d = datetime.datetime.strptime(
        text if "." in text else text + ".0", "%Y-%m-%d %H:%M:%S.%f")
    d = d.replace(tzinfo=tz)
    delta = d - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 1000 + \
        delta.microseconds // 1000


def ms_text(ms):
    d = datetime.datetime.fromtimestamp(ms / 1000.0, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def unescape(field):
    """Undo the mariadb client's batch-mode escaping (\\t \\n \\\\ \\0)."""
    if "\\" not in field:
        return field
    out, i = [], 0
    m = {"t": "\t", "n": "\n", "\\": "\\", "0": "\0"}
    while i < len(field):
        c = field[i]
        if c == "\\" and i + 1 < len(field) and field[i + 1] in m:
            out.append(m[field[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def ident(name):
    return "`%s`" % name.replace("`", "``")


def mysql_query(args, sql):
    argv = client_argv(args) + ["-e", sql]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, encoding="utf-8", errors="replace")
    if p.returncode != 0:
        raise RuntimeError("mysql: %s" % p.stderr.strip())
    rows = []
    for line in p.stdout.split("\n"):
        if line:
            rows.append([unescape(f) for f in line.split("\t")])
    return rows


class Expected:
    def __init__(self):
        self.following = {}     # uid -> {other: score}
        self.followers = {}
        self.friends = {}
        self.idem = {}          # request_id -> (status, biz_key, expire_ms)
        self.idem_expired = 0
        self.idem_border = set()
        self.idem_alt = {}      # request_id -> more rows (several shards)
        self.sources = 1
        self.edges = 0
        self.friend_pairs = 0


def shard_args(args):
    """Connection settings of every source: the first (--socket/--host)
    and each --shard."""
    out = [args]
    for spec in args.shard:
        a = copy.copy(args)
        if spec.startswith("/"):
            a.socket = spec
        else:
            host, _, port = spec.rpartition(":")
            if not host or not port.isdigit():
                raise RuntimeError("--shard %r: neither /socket nor "
                                   "host:port" % spec)
            a.socket, a.host, a.port = None, host.strip("[]"), int(port)
        out.append(a)
    return out


def later(a, b):
    """The later of two follow times; None (unknown) only if both are."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def load_edges(args, a, out):
    """Followed edges of one source into out: (follower, followee) ->
    follow time (ms, None if the time column is NULL), keeping the latest
    when several sources hold the edge."""
    t = ident(args.follow_table)
    if args.model == "pair":
        rows = mysql_query(a, "SELECT %s, %s, %s, %s, %s FROM %s" % (
            ident(args.col_a), ident(args.col_b), ident(args.col_relation),
            ident(args.col_time_ab or args.col_time),
            ident(args.col_time_ba or args.col_time), t))
        for ua, ub, rel, tab, tba in rows:
            rel = int(rel) if rel.lstrip("-").isdigit() else 0
            for bit, key, ts in ((1, (ua, ub), tab), (2, (ub, ua), tba)):
                if rel >= 0 and rel & bit:
                    ms = None if ts == "NULL" else dt_ms(ts, args.tz)
                    out[key] = later(out[key], ms) if key in out else ms
        return
    rows = mysql_query(a, "SELECT %s, %s, %s FROM %s WHERE %s = 1" % (
        ident(args.col_follower), ident(args.col_followee),
        ident(args.col_time), t, ident(args.col_status)))
    for fr, fe, ts in rows:
        ms = None if ts == "NULL" else dt_ms(ts, args.tz)
        out[(fr, fe)] = later(out[(fr, fe)], ms) if (fr, fe) in out else ms


def load_mysql(args, now_ms):
    ex = Expected()
    out = {}
    sources = shard_args(args)
    for a in sources:
        load_edges(args, a, out)
    ex.sources = len(sources)
    for (fr, fe), score in out.items():
        ex.following.setdefault(fr, {})[fe] = score
        ex.followers.setdefault(fe, {})[fr] = score
        if (fe, fr) in out:
            ex.friends.setdefault(fr, {})[fe] = later(score, out[(fe, fr)])
    ex.edges = len(out)
    ex.friend_pairs = sum(len(v) for v in ex.friends.values()) // 2
    for a in sources:
        rows = mysql_query(a, "SELECT %s, %s, %s, %s FROM %s" % (
            ident(args.col_request), ident(args.col_bizkey),
            ident(args.col_istatus), ident(args.col_created),
            ident(args.idem_table)))
        for rid, biz, st, created in rows:
            exp = dt_ms(created, args.tz) + args.ttl
            if abs(exp - now_ms) <= args.slack_ms:
                ex.idem_border.add(rid)     # may or may not be there yet
            elif exp > now_ms:
                if rid in ex.idem:
                    # the same request id on two shards: the consumer
                    # keeps one of them (schemas/redis.md)
                    ex.idem_alt.setdefault(rid, []).append((st, biz, exp))
                else:
                    ex.idem[rid] = (st, biz, exp)
            else:
                ex.idem_expired += 1
    return ex


class Actual:
    def __init__(self):
        self.sets = {"following": {}, "followers": {}, "friends": {}}
        self.idem = {}          # rid -> (status, biz_key, expire_ms|None)
        self.other_keys = 0


def load_redis(args, r):
    ac = Actual()
    p = args.prefix
    upre = p + ":{u:"
    zkeys = []
    for k in r.scan(p + ":{u:*"):
        if not k.startswith(upre):
            continue
        close = k.find("}:", len(upre))
        if close < 0:
            ac.other_keys += 1
            continue
        uid, kind = k[len(upre):close], k[close + 2:]
        if kind in ac.sets:
            zkeys.append((uid, kind, k))
        elif kind != "ver":
            ac.other_keys += 1
    replies = r.pipeline([["ZRANGE", k, "0", "-1", "WITHSCORES"]
                          for _, _, k in zkeys])
    for (uid, kind, k), rep in zip(zkeys, replies):
        if isinstance(rep, RespError):
            raise RuntimeError("ZRANGE %s: %s" % (k, rep))
        ac.sets[kind][uid] = {rep[i]: int(float(rep[i + 1]))
                              for i in range(0, len(rep), 2)}
    ipre = p + ":idem:{r:"
    ikeys = []
    for k in r.scan(p + ":idem:{r:*"):
        if k.endswith("}:del"):
            continue
        if not k.endswith("}") or not k.startswith(ipre):
            ac.other_keys += 1
            continue
        ikeys.append((k[len(ipre):-1], k))
    cmds = []
    for _, k in ikeys:
        cmds.append(["HMGET", k, "status", "biz_key"])
        cmds.append(["PEXPIRETIME", k])
    replies = r.pipeline(cmds)
    for i, (rid, k) in enumerate(ikeys):
        h, exp = replies[2 * i], replies[2 * i + 1]
        if isinstance(h, RespError):
            raise RuntimeError("HMGET %s: %s" % (k, h))
        if h[0] is None and h[1] is None:
            continue                     # expired between SCAN and HMGET
        if isinstance(exp, RespError):  # Redis < 7: no PEXPIRETIME
            exp = None
        ac.idem[rid] = (h[0], h[1], exp)
    return ac


def compare(args, ex, ac):
    """List of (category, text) mismatches."""
    bad = []
    exp_sets = {"following": ex.following, "followers": ex.followers,
                "friends": ex.friends}
    for kind in ("following", "followers", "friends"):
        want_all, got_all = exp_sets[kind], ac.sets[kind]
        for uid in sorted(set(want_all) | set(got_all), key=sort_key):
            want, got = want_all.get(uid, {}), got_all.get(uid, {})
            for o in sorted(set(want) - set(got), key=sort_key):
                bad.append((kind + " missing",
                            "user %s %s %s (score %s) not in Redis"
                            % (uid, kind, o, want[o])))
            for o in sorted(set(got) - set(want), key=sort_key):
                bad.append((kind + " extra",
                            "user %s %s %s in Redis (score %d), not in MySQL"
                            % (uid, kind, o, got[o])))
            for o in sorted(set(got) & set(want), key=sort_key):
                # None: the time column is NULL, the consumer used the
                # commit time, which MySQL does not keep
                if want[o] is not None and got[o] != want[o]:
                    bad.append((kind + " score",
                                "user %s %s %s: Redis score %d, MySQL %d"
                                % (uid, kind, o, got[o], want[o])))
    for rid in sorted(set(ex.idem) - set(ac.idem)):
        st, biz, exp = ex.idem[rid]
        bad.append(("idem missing", "request %s (status %s, expires %s) not "
                    "in Redis" % (rid, st, ms_text(exp))))
    for rid in sorted(set(ac.idem) - set(ex.idem) - ex.idem_border):
        st, biz, exp = ac.idem[rid]
        bad.append(("idem extra", "request %s (status %s) in Redis, not live "
                    "in MySQL" % (rid, st)))
    for rid in sorted(set(ac.idem) & set(ex.idem)):
        w, g = ex.idem[rid], ac.idem[rid]
        for alt in ex.idem_alt.get(rid, []):
            if (g[0], g[1]) == (alt[0], alt[1]):
                w = alt
        if (g[0], g[1]) != (w[0], w[1]):
            bad.append(("idem value", "request %s: Redis status=%s biz_key=%r"
                        ", MySQL status=%s biz_key=%r"
                        % (rid, g[0], g[1], w[0], w[1])))
        elif g[2] is not None and abs(g[2] - w[2]) > args.expiry_slack:
            bad.append(("idem expiry", "request %s: Redis expires %s (%s), "
                        "MySQL created_at + TTL = %s"
                        % (rid, ms_text(g[2]) if g[2] > 0 else "never",
                           g[2], ms_text(w[2]))))
    return bad


def sort_key(s):
    return (0, int(s), "") if s.isdigit() else (1, 0, s)


def summary(ex, ac, bad, args):
    users = set(ex.following) | set(ex.followers)
    lines = [
        "MySQL%s: %d users with edges, %d follow edges, %d friend pairs, "
        "%d live idempotency keys (%d expired rows, %d at the TTL edge)"
        % (" (union of %d sources)" % ex.sources if ex.sources > 1 else "",
           len(users), ex.edges, ex.friend_pairs, len(ex.idem),
           ex.idem_expired, len(ex.idem_border)),
        "Redis: %d following / %d followers / %d friends sets, "
        "%d / %d / %d members, %d idempotency keys"
        % (len(ac.sets["following"]), len(ac.sets["followers"]),
           len(ac.sets["friends"]),
           sum(len(v) for v in ac.sets["following"].values()),
           sum(len(v) for v in ac.sets["followers"].values()),
           sum(len(v) for v in ac.sets["friends"].values()), len(ac.idem)),
    ]
    if not bad:
        lines.append("CONVERGED: Redis equals MySQL")
        return "\n".join(lines)
    cats = {}
    for c, t in bad:
        cats.setdefault(c, []).append(t)
    lines.append("NOT CONVERGED: %d mismatches" % len(bad))
    for c in sorted(cats):
        lines.append("  %-18s %d" % (c, len(cats[c])))
        for t in cats[c][:args.examples]:
            lines.append("      e.g. %s" % t)
    return "\n".join(lines)


def show_user(args, r, uid):
    p = args.prefix
    print("user %s" % uid)
    for kind in ("following", "followers", "friends"):
        k = "%s:{u:%s}:%s" % (p, uid, kind)
        n = r.call("ZCARD", k)
        rep = r.call("ZREVRANGE", k, "0", str(args.limit - 1), "WITHSCORES")
        print("  %-9s %d%s" % (kind, n, " (newest first)" if n else ""))
        for i in range(0, len(rep), 2):
            print("    %-12s since %s" % (rep[i],
                                          ms_text(int(float(rep[i + 1])))))
        if n > args.limit:
            print("    ... %d more" % (n - args.limit))
    return 0


def parse_args():
    ap = argparse.ArgumentParser(
        description="Compare followcdc's Redis state with the MySQL source "
                    "tables (exit 0 equal, 1 different).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    g = ap.add_argument_group("MySQL / MariaDB")
    add_mysql_args(g)
    g.add_argument("--shard", action="append", default=[],
                   metavar="SOCKET|HOST:PORT",
                   help="another source (shard) feeding the same Redis; "
                        "repeat for each; Redis must hold the union")
    g = ap.add_argument_group("Redis")
    g.add_argument("--redis-host", default="127.0.0.1")
    g.add_argument("--redis-port", type=int, default=6379)
    g.add_argument("--redis-db", type=int, default=0)
    g.add_argument("--redis-user", default=None)
    g.add_argument("--redis-password", default=os.environ.get(
        "REDISCLI_AUTH"), help="default: $REDISCLI_AUTH")
    g.add_argument("--redis-cluster", metavar="HOST:PORT,...", default=None,
                   help="Redis Cluster seed nodes (redis.cluster.nodes): "
                        "read every master instead of one Redis")
    g.add_argument("--prefix", default="fc", help="redis.key.prefix")
    g = ap.add_argument_group("mapping (the consumer's settings)")
    g.add_argument("--ttl", type=parse_ttl, default=parse_ttl("7d"),
                   help="idem.ttl (ms or with ms/s/m/h/d)")
    g.add_argument("--tz", type=parse_tz, default=parse_tz("UTC"),
                   help="source.tz: zone of the DATETIME columns")
    g.add_argument("--follow-table", default="follow")
    g.add_argument("--model", choices=("edge", "pair"), default="edge",
                   help="follow.model: one row per direction, or one row "
                        "per pair with relation bits")
    g.add_argument("--col-follower", default="follower_id")
    g.add_argument("--col-followee", default="followee_id")
    g.add_argument("--col-status", default="status")
    g.add_argument("--col-time", default="updated_at")
    g.add_argument("--col-a", default="user_a", help="pair: follow.col.a")
    g.add_argument("--col-b", default="user_b", help="pair: follow.col.b")
    g.add_argument("--col-relation", default="relation",
                   help="pair: follow.col.relation")
    g.add_argument("--col-time-ab", default=None,
                   help="pair: follow.col.time.ab (default --col-time)")
    g.add_argument("--col-time-ba", default=None,
                   help="pair: follow.col.time.ba (default --col-time)")
    g.add_argument("--idem-table", default="idempotent_log")
    g.add_argument("--col-request", default="request_id")
    g.add_argument("--col-bizkey", default="biz_key")
    g.add_argument("--col-istatus", default="status")
    g.add_argument("--col-created", default="created_at")
    g = ap.add_argument_group("checking")
    g.add_argument("--wait", type=float, default=0,
                   help="poll up to this many seconds until equal")
    g.add_argument("--interval", type=float, default=1.0,
                   help="seconds between two polls")
    g.add_argument("--slack", type=float, default=5.0,
                   help="idempotency rows this close (s) to their expiry "
                        "are not compared")
    g.add_argument("--expiry-slack", type=int, default=0, metavar="MS",
                   help="accept idempotency keys expiring this many ms "
                        "off created_at + TTL (a Redis Cluster reshard "
                        "moves keys with MIGRATE, which carries the "
                        "remaining TTL, not the absolute expiry)")
    g.add_argument("--examples", type=int, default=5,
                   help="examples shown per kind of mismatch")
    g.add_argument("--quiet", action="store_true",
                   help="print only the final verdict line")
    g = ap.add_argument_group("one user")
    g.add_argument("--show", metavar="USER",
                   help="print USER's following/followers/friends from "
                        "Redis as an app reads them, and exit")
    g.add_argument("--limit", type=int, default=20,
                   help="--show: members listed per set")
    args = ap.parse_args()
    args.slack_ms = int(args.slack * 1000)
    return args


def main():
    args = parse_args()
    try:
        if args.redis_cluster:
            r = ClusterRedis(args.redis_cluster, args.redis_user,
                             args.redis_password)
        else:
            r = Redis(args.redis_host, args.redis_port, args.redis_db,
                      args.redis_user, args.redis_password)
    except (OSError, RespError) as e:
        print("check-converged: Redis %s: %s"
              % (args.redis_cluster or "%s:%d" % (args.redis_host,
                                                  args.redis_port), e),
              file=sys.stderr)
        return 2
    try:
        if args.show is not None:
            return show_user(args, r, args.show)
        deadline = time.monotonic() + args.wait
        polls = 0
        while True:
            polls += 1
            now_ms = int(time.time() * 1000)
            try:
                ex = load_mysql(args, now_ms)
            except RuntimeError as e:
                print("check-converged: %s" % e, file=sys.stderr)
                return 2
            try:
                ac = load_redis(args, r)
            except RetryLater as e:
                # slots moving or a failover: not an answer yet
                if time.monotonic() >= deadline:
                    print("check-converged: cluster not stable: %s" % e,
                          file=sys.stderr)
                    return 2
                time.sleep(args.interval)
                try:
                    r.refresh()
                except (OSError, RespError):
                    pass
                continue
            bad = compare(args, ex, ac)
            if not bad or time.monotonic() >= deadline:
                break
            time.sleep(args.interval)
            if args.redis_cluster:
                r.refresh()
        text = summary(ex, ac, bad, args)
        if args.quiet:
            text = text.splitlines()[2]
        print(text)
        if args.wait > 0 and not args.quiet:
            print("(%d poll%s)" % (polls, "" if polls == 1 else "s"))
        return 1 if bad else 0
    except (OSError, RespError, RuntimeError) as e:
        print("check-converged: %s" % e, file=sys.stderr)
        return 2
    finally:
        r.close()


if __name__ == "__main__":
    sys.exit(main())
