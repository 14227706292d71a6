#!/usr/bin/env bash
# 0102-verify-rcluster: followcdc-verify against a Redis Cluster (three
# masters, one replica each), through the consumer's routing: after a
# workload converged, --full is clean; a member deleted and a score changed
# on keys of users spread over the masters are found exactly, each read
# from the master of its slot; users only Redis knows, on two masters,
# are found by --full's scan of every master.
# ctest-labels: redis-cluster
set -euo pipefail
. "$(dirname "$0")/../lib/test.sh" followcdc-verify
. "$(dirname "$0")/rcluster_lib.sh"
VBIN=$CDC_BUILD_DIR/bin/followcdc-verify
E_SERVER_ID=5102

h_start_mariadb
h_start_redis_cluster
h_start_broker
e_producer a
e_wait_state p-a streaming 30 || h_fail "producer did not start streaming"
e_consumer a
out=$("$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" \
        --users 60 --ops 1500 --concurrency 3 --seed 102) ||
        h_fail "workload failed: $out"
e_converged "after the workload" 120

cat >"$H_DIR/verify.conf" <<CONF
mysql.socket=$H_MYSQL_SOCK
mysql.user=$H_PRODUCER_USER
mysql.password=$H_PRODUCER_PASS
mysql.db=$H_MYSQL_DB
redis.cluster.nodes=$H_RCLUSTER_NODES
kafka.bootstrap.servers=$H_KAFKA_BOOTSTRAP
checkpoint.store=file
checkpoint.file=$H_DIR/producer.ckpt
verify.chunk.rows=50
CONF
"$VBIN" -c "$H_DIR/verify.conf" --full >"$H_DIR/v0.out" 2>"$H_DIR/v0.err" ||
        { tail "$H_DIR/v0.out" "$H_DIR/v0.err"; h_fail "verify of a converged cluster exited $?"; }
tail -n 1 "$H_DIR/v0.out"

# two users whose keys live on different masters
pick() { # print "user member" of a following edge of a user on master $1
        local u
        for u in $(seq 1 60); do
                m=$(h_mysql "SELECT followee_id FROM follow WHERE follower_id=$u AND status=1 LIMIT 1")
                [ -n "$m" ] || continue
                slot=$(h_rcluster_cli CLUSTER KEYSLOT "fc:{u:$u}:following")
                echo "$slot $u $m"
        done
}
mapfile -t cands < <(pick | sort -n)
[ "${#cands[@]}" -ge 2 ] || h_fail "too few users with follows"
read -r s1 u1 m1 <<<"${cands[0]}"
read -r s2 u2 m2 <<<"${cands[${#cands[@]}-1]}"
[ "$s1" -lt 5461 ] && [ "$s2" -ge 10923 ] ||
        h_log "slots $s1 and $s2 (not on the first and last master)"
h_rcluster_cli ZREM "fc:{u:$u1}:following" "$m1" >/dev/null
h_rcluster_cli ZADD "fc:{u:$u2}:following" XX 42 "$m2" >/dev/null

rc=0
"$VBIN" -c "$H_DIR/verify.conf" --users="$u1,$u2" --json >"$H_DIR/v1.out" 2>"$H_DIR/v1.err" || rc=$?
tail -n 1 "$H_DIR/v1.out"
[ "$rc" = 1 ] || { cat "$H_DIR/v1.err"; h_fail "verify exited $rc, want 1"; }
got=$(/usr/bin/python3 -c '
import json, sys
for l in open(sys.argv[1]):
    if l.startswith("{"):
        d = json.loads(l)
        if d["type"] == "diff" and d["kind"] != "wrong_count" and d["set"] == "following":
            print(d["kind"], d["user"], d["member"])
' "$H_DIR/v1.out" | sort)
want=$(printf '%s\n' "missing_member $u1 $m1" "wrong_score $u2 $m2" | sort)
[ "$got" = "$want" ] || h_fail "reported: $got; want: $want"

# users only Redis knows, on the first and the last master: --full finds
# them by scanning every master
o1= o2=
for u in $(seq 990001 990200); do
        slot=$(h_rcluster_cli CLUSTER KEYSLOT "fc:{u:$u}:following")
        [ -z "$o1" ] && [ "$slot" -lt 5461 ] && o1=$u
        [ -z "$o2" ] && [ "$slot" -ge 10923 ] && o2=$u
        [ -n "$o1" ] && [ -n "$o2" ] && break
done
h_rcluster_cli ZADD "fc:{u:$o1}:following" 1700000000000 7 >/dev/null
h_rcluster_cli ZADD "fc:{u:$o2}:followers" 1700000000000 8 >/dev/null
rc=0
"$VBIN" -c "$H_DIR/verify.conf" --full >"$H_DIR/v2.out" 2>"$H_DIR/v2.err" || rc=$?
tail -n 1 "$H_DIR/v2.out"
[ "$rc" = 1 ] || { cat "$H_DIR/v2.err"; h_fail "verify --full exited $rc, want 1"; }
grep -q "^DIFF user=$o1 set=following kind=extra_member member=7 " "$H_DIR/v2.out" &&
        grep -q "^DIFF user=$o2 set=followers kind=extra_member member=8 " "$H_DIR/v2.out" ||
        { cat "$H_DIR/v2.out"; h_fail "Redis-only users $o1 $o2 not reported"; }
grep -q '^VERIFY .* redis_only_users=2 redis_only_records=0$' "$H_DIR/v2.out" ||
        h_fail "summary: $(tail -n 1 "$H_DIR/v2.out")"
h_pass "Redis Cluster: clean when converged, the corruptions found exactly, Redis-only users on two masters found"
