#!/usr/bin/env bash
# followcdc-verify benchmark: BENCH_EDGES follow rows (default 200,000)
# among BENCH_USERS users (default 20,000) and BENCH_IDEM idempotency rows
# (default 20,000) are loaded into MariaDB, streamed to Redis by the
# producer and the consumer, then one `followcdc-verify --full` run is
# timed, against a plain read of the same data: every row of both tables
# with the mariadb client, and every user's three sets and `ver` hash plus
# every idempotency key from Redis, pipelined (1000 commands per round
# trip), without any comparison.
#
# Prints figures, never asserts a time. Last line:
#   RESULT verify users_per_s=<n> edges_per_s=<n> plain_scan_edges_per_s=<n>
#          rss_mb=<n>
# (edges = checked_edges of the summary: expected members of the three
# sets plus live idempotency records; the plain scan's rate is over the
# same number.)
#
# Knobs: BENCH_EDGES BENCH_USERS BENCH_IDEM BENCH_CHUNK (verify.chunk.rows)
#        CDC_BUILD_DIR (default <checkout>/build)
set -u
H_NAME=bench-verify
. "$(cd "$(dirname "$0")" && pwd)/../tests/lib/harness.sh"
EDGES=${BENCH_EDGES:-200000}
USERS=${BENCH_USERS:-20000}
IDEM=${BENCH_IDEM:-20000}
CHUNK=${BENCH_CHUNK:-5000}
BIN=$CDC_BUILD_DIR/bin
for b in followcdc-producer followcdc-consumer followcdc-verify; do
        [ -x "$BIN/$b" ] || { echo "bench: $BIN/$b is not built" >&2; exit 1; }
done
h_init
. "$H_LIB_DIR/e2e.sh"
E_SERVER_ID=5199

h_start_mariadb
h_start_redis
h_start_broker
h_log "loading $EDGES edges among $USERS users, $IDEM idempotency rows"
h_mysql "INSERT IGNORE INTO follow (follower_id, followee_id, status)
  SELECT seq % $USERS + 1, (seq * 7919 + seq DIV $USERS) % $USERS + 1, 1
  FROM seq_1_to_$EDGES;
  INSERT INTO idempotent_log (request_id, biz_key, status)
  SELECT CONCAT('bench-', seq), CONCAT('order-', seq), 2 FROM seq_1_to_$IDEM;"
e_producer a
e_consumer a --batch.size=5000

cat >"$H_DIR/verify.conf" <<CONF
mysql.socket=$H_MYSQL_SOCK
mysql.user=$H_PRODUCER_USER
mysql.password=$H_PRODUCER_PASS
mysql.db=$H_MYSQL_DB
redis.port=$H_REDIS_PORT
kafka.bootstrap.servers=$H_KAFKA_BOOTSTRAP
checkpoint.store=file
checkpoint.file=$H_DIR/producer.ckpt
verify.chunk.rows=$CHUNK
verify.settle.timeout=600s
CONF
# the pipeline catches up: verify itself waits for it (a first run)
h_wait_for "[ -s '$H_DIR/producer.ckpt' ]" 120 || h_fail "no checkpoint"
"$BIN/followcdc-verify" -c "$H_DIR/verify.conf" --full >"$H_DIR/warm.out" 2>&1 ||
        h_wait_for "'$BIN/followcdc-verify' -c '$H_DIR/verify.conf' --full >'$H_DIR/warm.out' 2>&1" 600 ||
        { tail "$H_DIR/warm.out"; h_fail "Redis did not converge"; }

t0=$(date +%s%N)
/usr/bin/time -f '%M' -o "$H_DIR/rss" "$BIN/followcdc-verify" \
        -c "$H_DIR/verify.conf" --full >"$H_DIR/run.out" 2>"$H_DIR/run.err" ||
        { tail "$H_DIR/run.out" "$H_DIR/run.err"; h_fail "verify run failed"; }
t1=$(date +%s%N)
summary=$(tail -n 1 "$H_DIR/run.out")
echo "$summary"
users=$(sed -n 's/.* users=\([0-9]*\) .*/\1/p' <<<"$summary")
edges=$(sed -n 's/.* checked_edges=\([0-9]*\) .*/\1/p' <<<"$summary")
rss_kb=$(tail -n 1 "$H_DIR/rss")

# the plain read of the same rows and keys
t2=$(date +%s%N)
mariadb --no-defaults -S "$H_MYSQL_SOCK" -uroot "$H_MYSQL_DB" -e \
        "SELECT * FROM follow; SELECT * FROM idempotent_log" >/dev/null
/usr/bin/python3 - "$H_REDIS_PORT" "$USERS" "$IDEM" <<'PY'
import socket, sys
port, users, idem = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
def enc(*a):
    out = [b"*%d\r\n" % len(a)]
    for x in a:
        x = x.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(x), x))
    return b"".join(out)
def read():
    line = f.readline()
    t = line[:1]
    if t in (b"+", b"-", b":"):
        return
    n = int(line[1:-2])
    if t == b"$":
        if n >= 0:
            f.read(n + 2)
        return
    for _ in range(max(n, 0)):
        read()
cmds = []
for u in range(1, users + 1):
    for k in ("following", "followers", "friends"):
        cmds.append(enc("ZRANGE", "fc:{u:%d}:%s" % (u, k), "0", "-1", "WITHSCORES"))
    cmds.append(enc("HGETALL", "fc:{u:%d}:ver" % u))
for i in range(1, idem + 1):
    cmds.append(enc("HGETALL", "fc:idem:{r:bench-%d}" % i))
    cmds.append(enc("PTTL", "fc:idem:{r:bench-%d}" % i))
    cmds.append(enc("GET", "fc:idem:{r:bench-%d}:del" % i))
for i in range(0, len(cmds), 1000):
    part = cmds[i:i + 1000]
    s.sendall(b"".join(part))
    for _ in part:
        read()
PY
t3=$(date +%s%N)

vms=$(((t1 - t0) / 1000000))
pms=$(((t3 - t2) / 1000000))
[ "$vms" -gt 0 ] || vms=1
[ "$pms" -gt 0 ] || pms=1
h_log "verify --full: ${vms} ms, plain read: ${pms} ms"
echo "RESULT verify users_per_s=$((users * 1000 / vms)) edges_per_s=$((edges * 1000 / vms)) plain_scan_edges_per_s=$((edges * 1000 / pms)) rss_mb=$(((rss_kb + 512) / 1024))"
