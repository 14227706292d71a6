#!/usr/bin/env bash
# 0081-sources-shards-2: two MariaDB shards (follow rows on the shard of
# their follower, each shard its own server id, GTID domain, binlog and
# producer with its own source.name and topics) into one consumer group
# and one Redis. While both shards take a concurrent workload that also
# moves users between the shards (copy then delete, and delete then copy),
# each producer and a consumer are SIGKILLed and restarted. The consumers
# reap expired idempotency rows on each shard (reaper.mysql.shards). Then
# one edge is moved explicitly, both ways. Redis must equal the union of
# the shards (check-converged.py --shard) after each step.
# ctest-labels: sources
set -u
. "$(dirname "$0")/../lib/test.sh" e2e
# shellcheck source=../lib/shards.sh
. "$H_LIB_DIR/shards.sh"

s_start_shards 2
h_start_redis
h_start_broker

s_producer 1 a
s_producer 2 a
s_wait_streaming 1 a
s_wait_streaming 2 a
s_consumer_flags
REAP=(--reaper.enable=true "--reaper.mysql.shards=${S_SOCK[1]},${S_SOCK[2]}"
      --reaper.mysql.user="$H_CONSUMER_USER"
      --reaper.mysql.password="$H_CONSUMER_PASS" --reaper.interval=1s)
e_consumer a "${S_CONSUMER_FLAGS[@]}" "${REAP[@]}"
e_consumer b "${S_CONSUMER_FLAGS[@]}" "${REAP[@]}"

e_spawn wl "$H_DIR/workload.out" "$H_DIR/workload.out" "$E_PY" \
        "$H_TEST_DIR/sources_wl.py" --shard "${S_SOCK[1]}" \
        --shard "${S_SOCK[2]}" --model edge --users 40 --concurrency 3 \
        --seed 81 --duration 24 --moves 6 --idem-old 20
sleep 4
h_wait_for "[ -s '$H_DIR/p-s1.ckpt' ]" 30 || h_fail "no checkpoint of shard 1"
e_kill9 p-s1-a
s_producer 1 b
sleep 4
e_kill9 c-a
e_consumer a2 "${S_CONSUMER_FLAGS[@]}" "${REAP[@]}"
sleep 4
e_kill9 p-s2-a
s_producer 2 b
e_workload_wait
h_log "$(cat "$H_DIR/workload.out")"
grep -q 'moved users none' "$H_DIR/workload.out" && h_fail "no user moved"

s_converged "after the workload, moves and SIGKILLs"
# each shard's expired idempotency rows, reaped by that shard's reaper
for k in 1 2; do
        h_wait_for "[ \"\$(s_mysql $k \"SELECT COUNT(*) FROM idempotent_log WHERE request_id LIKE 's$k-old-%'\")\" = 0 ]" 60 ||
                h_fail "shard $k: expired idempotency rows not reaped"
done

# one reaper leader per shard among the live consumers (each shard's lock
# is on that shard; c-a's died with it)
for k in 1 2; do
        m="followcdc_reaper_leader{shard=\"${S_SOCK[$k]}\"}"
        h_wait_for "[ \"\$(e_csum '$m' a2 b)\" = 1 ]" 30 ||
                h_fail "shard $k: $(e_csum "$m" a2 b) reaper leaders, want 1"
done

# One edge moved explicitly: 7 -> 8 lives on shard 1 (follower 7); copy it
# to shard 2, where Redis sees it twice, then delete it from shard 1.
s_mysql 1 "DELETE FROM follow WHERE follower_id = 7 AND followee_id = 8"
s_mysql 2 "DELETE FROM follow WHERE follower_id = 7 AND followee_id = 8"
s_mysql 1 "INSERT INTO follow (follower_id, followee_id, status, updated_at)
           VALUES (7, 8, 1, '2026-01-02 03:04:05.678')"
s_converged "edge 7 -> 8 on shard 1"
s_mysql 2 "INSERT IGNORE INTO follow (follower_id, followee_id, status, version, created_at, updated_at)
           VALUES (7, 8, 1, 1, '2026-01-02 03:04:05.678', '2026-01-02 03:04:05.678')"
s_converged "edge 7 -> 8 copied to shard 2"
s_mysql 1 "DELETE FROM follow WHERE follower_id = 7 AND followee_id = 8"
# the union hides the delete: wait until it is applied (shard 1's register
# of the edge, the untagged one, says "not following"; schemas/redis.md)
h_wait_for "h_redis HGET 'fc:{u:7}:ver' o:8 | grep -Eq '^[0-9]+;[0-9]+@s2=1767323045678\$'" 60 ||
        h_fail "delete on shard 1 not applied: $(h_redis HGET 'fc:{u:7}:ver' o:8)"
s_converged "edge 7 -> 8 moved to shard 2 (copy, then delete)"
[ "$(h_redis ZSCORE 'fc:{u:7}:following' 8)" = 1767323045678 ] ||
        h_fail "edge 7 -> 8 not in Redis after its move"
# and back to shard 1 the other way round: delete first, then copy
s_mysql 2 "DELETE FROM follow WHERE follower_id = 7 AND followee_id = 8"
s_converged "edge 7 -> 8 deleted from shard 2"
s_mysql 1 "INSERT INTO follow (follower_id, followee_id, status, updated_at)
           VALUES (7, 8, 1, '2026-01-02 03:04:05.678')"
h_wait_for "h_redis HGET 'fc:{u:8}:ver' i:7 | grep -Eq '^[0-9]+=1767323045678;[0-9]+@s2\$'" 60 ||
        h_fail "move back not applied: $(h_redis HGET 'fc:{u:8}:ver' i:7)"
s_converged "edge 7 -> 8 moved back to shard 1 (delete, then copy)"
[ "$(h_redis ZSCORE 'fc:{u:8}:followers' 7)" = 1767323045678 ] ||
        h_fail "edge 7 -> 8 not in Redis after its move back"

for c in c-a2 c-b; do
        e_alive "$c" || h_fail "consumer $c died"
        e_stop "$c" || h_fail "consumer $c exited $E_RC on SIGTERM"
done
for p in p-s1-b p-s2-b; do
        e_stop "$p" || h_fail "producer $p exited $E_RC on SIGTERM"
done
edges=$(( $(s_mysql 1 "SELECT COUNT(*) FROM follow WHERE status = 1") +
          $(s_mysql 2 "SELECT COUNT(*) FROM follow WHERE status = 1") ))
h_pass "two shards, moves, SIGKILLs: Redis is the union of the shards ($edges edges)"
