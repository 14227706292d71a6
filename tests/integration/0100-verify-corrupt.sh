#!/usr/bin/env bash
# 0100-verify-corrupt: followcdc-verify finds exactly the corruption made
# to Redis, during a live workload. Static users (1001-1006, untouched by
# the workload, ids 1..40) and idempotency rows are corrupted in known
# ways: a member deleted, a bogus member added, a score changed, every key
# of one user deleted, an idempotency record deleted, one's status and one's
# expiry altered, a user and a record MySQL has no row for added. A
# --full --json run while the workload writes must report
# those differences and nothing else (the workload's users are live and
# must not show up), with MySQL's row and the Redis key of each; --users
# on untouched users is clean meanwhile.
# brokers: dev
set -euo pipefail
. "$(dirname "$0")/../lib/test.sh" e2e followcdc-verify
VBIN=$CDC_BUILD_DIR/bin/followcdc-verify
E_SERVER_ID=5100

h_start_mariadb
h_start_redis
h_start_broker

h_mysql "INSERT INTO follow (follower_id, followee_id, status) VALUES
  (1001,1002,1),(1002,1001,1),(1003,1004,1),(1005,1004,1),(1006,1001,1),
  (1006,1003,0);
  INSERT INTO idempotent_log (request_id, biz_key, status) VALUES
  ('vs-1','b1',2),('vs-2','b2',1),('vs-3','b3',3),('vs-4','b4',2);"

e_producer a
e_wait_state p-a streaming 30 || h_fail "producer did not start streaming"
e_consumer a
e_converged "before the workload"

e_verify_conf "$H_DIR/verify.conf" verify.chunk.rows=7 verify.settle.timeout=90s

# clean before any corruption
"$VBIN" -c "$H_DIR/verify.conf" --full >"$H_DIR/v0.out" 2>"$H_DIR/v0.err" ||
        { cat "$H_DIR/v0.out" "$H_DIR/v0.err"; h_fail "verify of a converged pipeline exited $?"; }
tail -n 1 "$H_DIR/v0.out"
grep -q '^VERIFY users=[1-9].* divergent_users=0 ' "$H_DIR/v0.out" ||
        h_fail "unexpected summary: $(tail -n 1 "$H_DIR/v0.out")"

e_workload 100 40 60

R() { h_redis "$@" >/dev/null; }
sleep 2
R ZREM 'fc:{u:1003}:following' 1004
R ZADD 'fc:{u:1005}:following' 1700000000000 999999
R ZADD 'fc:{u:1004}:followers' XX 1234 1005
R DEL 'fc:{u:1002}:following' 'fc:{u:1002}:followers' 'fc:{u:1002}:friends' 'fc:{u:1002}:ver'
R DEL 'fc:idem:{r:vs-1}'
R HSET 'fc:idem:{r:vs-2}' status 9
R PEXPIREAT 'fc:idem:{r:vs-3}' 4102444800000
# a user and a record only Redis knows (MySQL has no row for them)
R ZADD 'fc:{u:990001}:followers' 1700000000000 1001
R HSET 'fc:idem:{r:ghost-1}' status 2 biz_key g
R PEXPIREAT 'fc:idem:{r:ghost-1}' 4102444800000

rc=0
"$VBIN" -c "$H_DIR/verify.conf" --full --json >"$H_DIR/v1.out" 2>"$H_DIR/v1.err" || rc=$?
tail -n 1 "$H_DIR/v1.out"
[ "$rc" = 1 ] || { cat "$H_DIR/v1.err"; h_fail "verify exited $rc, want 1"; }

/usr/bin/python3 - "$H_DIR/v1.out" <<'PY' || h_fail "the report differs from the corruption"
import json, sys
got = set()
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue
    d = json.loads(line)
    if d["type"] != "diff":
        continue
    if "user" in d:
        got.add((d["kind"], d["user"], d["set"], d.get("member")))
    else:
        got.add((d["kind"], d["request_id"]))
want = {
    ("missing_member", "1003", "following", "1004"),
    ("wrong_count", "1003", "following", None),
    ("extra_member", "1005", "following", "999999"),
    ("wrong_count", "1005", "following", None),
    ("wrong_score", "1004", "followers", "1005"),
    ("missing_member", "1002", "following", "1001"),
    ("missing_member", "1002", "followers", "1001"),
    ("missing_member", "1002", "friends", "1001"),
    ("wrong_count", "1002", "following", None),
    ("wrong_count", "1002", "followers", None),
    ("wrong_count", "1002", "friends", None),
    ("missing_idem", "vs-1"),
    ("wrong_idem", "vs-2"),
    ("wrong_idem", "vs-3"),
    ("extra_member", "990001", "followers", "1001"),
    ("wrong_count", "990001", "followers", None),
    ("extra_idem", "ghost-1"),
}
if got != want:
    print("missing from the report:", sorted(want - got, key=str))
    print("not corrupted but reported:", sorted(got - want, key=str))
    sys.exit(1)
# the report carries what a repair needs: MySQL's row of a missing member
for line in open(sys.argv[1]):
    if line.startswith("{") and '"missing_member"' in line and '"1003"' in line:
        d = json.loads(line)
        assert d["mysql"]["row"]["followee_id"] == 1004, d
        assert d["key"] == "fc:{u:1003}:following", d
print("report matches the corruption:", len(want), "differences")
PY
grep -q '^VERIFY .* divergent_users=5 missing=4 extra=2 wrong_score=1 idem_divergent=4 .* redis_only_users=1 redis_only_records=1$' "$H_DIR/v1.out" ||
        h_fail "summary: $(tail -n 1 "$H_DIR/v1.out")"

# untouched users are clean, also while the workload runs
"$VBIN" -c "$H_DIR/verify.conf" --users=1001,1006 >"$H_DIR/v2.out" 2>"$H_DIR/v2.err" ||
        { cat "$H_DIR/v2.out" "$H_DIR/v2.err"; h_fail "verify --users on clean users exited $?"; }
e_workload_wait
h_pass "verify reported exactly the 17 differences made (a user and a record only Redis knows among them), nothing of the live workload"
