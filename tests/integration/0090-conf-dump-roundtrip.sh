#!/usr/bin/env bash
# 0090-conf-dump-roundtrip: configuration of both binaries, no servers:
# - --dump-config read back (-c, clean environment) gives the same dump, for
#   a configuration with every kind of value: no value, empty, blanks and
#   " #" inside, quotes, control characters, durations, enums, the old
#   spelling of a key, secrets from files, kafka.* (issue 7: an unset
#   mysql.socket came back as an empty socket that dropped mysql.host);
# - unknown FOLLOWCDC_* variables (a Kubernetes service link, the local
#   stack's env.sh) are warnings, not exit 2 (issue 11); unknown keys in a
#   file or a flag still are;
# - inline comments: the README's configuration blocks and the sample
#   files load as they are (issue 11).
set -u
. "$(dirname "$0")/../lib/test.sh" followcdc-producer followcdc-consumer

P_BIN=$CDC_BUILD_DIR/bin/followcdc-producer
C_BIN=$CDC_BUILD_DIR/bin/followcdc-consumer
d=$H_DIR
printf 's3cret\n' >"$d/secret"

# ---- dump -> read back -> same dump ----------------------------------
cat >"$d/p.conf" <<EOF
# producer, with comments after values
mysql.host=db-primary        # the primary
mysql.server.id=4201         # unique among the primary's replicas (required)
mysql.password=file:$d/secret
mysql.read.timeout.ms=45s    # units on a *.ms key
source.name=prod-eu.1
source.keys="edges: src , dst ;reqs:rid"   # quoted, blanks kept
table.idempotent-log.key=request_id        # the old spelling
checkpoint.topic=                          # empty: the default topic
snapshot.mode=When_Needed
lock.retry.ms=2s
kafka.client.id=" id # 1 "
kafka.sasl.password=file:$d/secret
log.format=json
EOF
# a value with a newline and a tab, as only flags and the environment can
# give it
roundtrip() { # roundtrip NAME BIN ARGS...: dump, read back, compare
        local name=$1 bin=$2
        shift 2
        env -i PATH="$PATH" "${ENVV[@]}" "$bin" "$@" --dump-config \
                >"$d/$name.1" 2>"$d/$name.err" ||
                h_fail "$name: --dump-config: $(cat "$d/$name.err")"
        env -i PATH="$PATH" "$bin" -c "$d/$name.1" --dump-config \
                >"$d/$name.2" 2>"$d/$name.err2" ||
                h_fail "$name: the dump does not load: $(cat "$d/$name.err2")"
        diff -u "$d/$name.1" "$d/$name.2" >"$d/$name.diff" ||
                h_fail "$name: the dump read back differs: $(cat "$d/$name.diff")"
}
ENVV=(FOLLOWCDC_SOURCE_TZ=+08:00 FOLLOWCDC_PRODUCER_SERVICE_HOST=10.0.0.7
      "FOLLOWCDC_HTTP_LISTEN=127.0.0.1:0")
roundtrip producer "$P_BIN" -c "$d/p.conf" \
        --source.tables=follow,idempotent_log,edges,reqs \
        "--table.follow.key=$(printf 'follower_id,\tfollowee_id')" \
        --mysql.user="$(printf 'a\nb "c" \\ d')"
p1=$d/producer.1
grep -qx '#mysql.socket=' "$p1" || h_fail "unset mysql.socket not dumped as '#mysql.socket='"
grep -qx 'mysql.host=db-primary' "$p1" || h_fail "mysql.host lost"
grep -qx "mysql.password=file:$d/secret" "$p1" || h_fail "file: secret not kept"
grep -q 's3cret' "$p1" && h_fail "a secret's value is in the dump"
grep -qx '#checkpoint.topic=' "$p1" || h_fail "checkpoint.topic= is not 'no value'"
grep -qx 'snapshot.mode=when_needed' "$p1" || h_fail "enum not normalised"
grep -qx 'table.idempotent_log.key=request_id' "$p1" || h_fail "alias not dumped by name"
grep -qx 'mysql.read.timeout.ms=45000' "$p1" || h_fail "45s is not 45000 ms"
grep -qx 'source.tz=+08:00' "$p1" || h_fail "environment not applied"

cat >"$d/c.conf" <<EOF
source.name=followcdc
kafka.group.id=followcdc-redis   # consumer group
redis.password=file:$d/secret
redis.timeout.ms=2s
batch.ms=250ms
idem.ttl=36h
replay=earliest
reaper.mysql.socket=
reaper.statuses=2, 3
EOF
ENVV=(FOLLOWCDC_MYSQL_HOST=127.0.0.1 FOLLOWCDC_MYSQL_DATABASE=followcdc
      FOLLOWCDC_REDIS_PORT=tcp://10.0.0.8:6379 FOLLOWCDC_KAFKA_BOOTSTRAP=x:1)
roundtrip consumer "$C_BIN" -c "$d/c.conf" --replay-from= --redis.user=app
c1=$d/consumer.1
grep -qx '#reaper.mysql.socket=' "$c1" || h_fail "reaper.mysql.socket= not 'no value'"
grep -qx 'redis.timeout.ms=2000' "$c1" || h_fail "2s is not 2000 ms"
grep -qx 'idem.ttl=1d12h' "$c1" || h_fail "36h not dumped as 1d12h"
grep -qx 'redis.port=6379' "$c1" || h_fail "a service link was taken for redis.port"
grep -q 'FOLLOWCDC_MYSQL_DATABASE' "$d/consumer.err" ||
        h_fail "no warning for an unknown variable"

# ---- unknown keys in a file or a flag stay fatal ---------------------
printf 'mysql.server.id=1\nmysql.hots=x\n' >"$d/bad.conf"
env -i "$P_BIN" -c "$d/bad.conf" --dump-config >/dev/null 2>"$d/bad.err" &&
        h_fail "unknown key in a file accepted"
grep -q "bad.conf:2: unknown property \"mysql.hots\"" "$d/bad.err" ||
        h_fail "unknown key: $(cat "$d/bad.err")"
env -i "$C_BIN" --no.such=1 --dump-config >/dev/null 2>&1 &&
        h_fail "unknown flag accepted"
rc=0
env -i "$C_BIN" --idem.ttl=10000000d --dump-config >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || h_fail "idem.ttl=10000000d: exit $rc, want 2"

# ---- the local stack's env.sh and a Kubernetes Service ---------------
cat >"$d/env.sh" <<'EOF'
export FOLLOWCDC_MYSQL_HOST=127.0.0.1
export FOLLOWCDC_MYSQL_PORT=13306
export FOLLOWCDC_MYSQL_DATABASE=followcdc
export FOLLOWCDC_PRODUCER_USER=followcdc_producer
export FOLLOWCDC_PRODUCER_PASSWORD=x
export FOLLOWCDC_CONSUMER_USER=followcdc_consumer
export FOLLOWCDC_REDIS_PORT=16379
export FOLLOWCDC_KAFKA_BOOTSTRAP=127.0.0.1:19092
export FOLLOWCDC_BROKER_CONTROL=/tmp/x
export FOLLOWCDC_PRODUCER_SERVICE_HOST=10.0.0.7
export FOLLOWCDC_PRODUCER_PORT=tcp://10.0.0.7:9187
export FOLLOWCDC_PRODUCER_PORT_9187_TCP_PORT=9187
EOF
for b in "$P_BIN --mysql.server.id=9" "$C_BIN"; do
        # shellcheck disable=SC2086
        (. "$d/env.sh" && $b --dump-config) >/dev/null 2>"$d/env.err" ||
                h_fail "with env.sh: $b: $(cat "$d/env.err")"
done

# ---- documented configurations load as they are ----------------------
# README blocks (file: secrets pointed at a real file) and the samples.
/usr/bin/python3 - "$CDC_SOURCE_DIR/README.md" "$d" <<'EOF' ||
import re, sys
readme, out = sys.argv[1], sys.argv[2]
blocks = re.findall(r'```ini\n(.*?)```', open(readme).read(), re.S)
n = 0
for b in blocks:
    if '[mysqld]' in b:
        continue
    kind = 'producer' if 'mysql.server.id' in b else 'consumer'
    b = re.sub(r'file:/\S+', 'file:' + out + '/secret', b)
    n += 1
    open('%s/readme-%d.%s' % (out, n, kind), 'w').write(b)
sys.exit(0 if n >= 2 else 1)
EOF
        h_fail "README has no producer and consumer blocks"
for f in "$d"/readme-*.producer "$CDC_SOURCE_DIR/deploy/producer.conf.sample"; do
        env -i "$P_BIN" -c "$f" --dump-config >/dev/null 2>"$d/doc.err" ||
                h_fail "$(basename "$f"): $(cat "$d/doc.err")"
done
for f in "$d"/readme-*.consumer "$CDC_SOURCE_DIR/deploy/consumer.conf.sample"; do
        env -i "$C_BIN" -c "$f" --dump-config >/dev/null 2>"$d/doc.err" ||
                h_fail "$(basename "$f"): $(cat "$d/doc.err")"
done

h_pass "dumps read back; unknown environment variables warn; documented configurations load"
