#!/usr/bin/env bash
# 0063-rcluster-reaper: the TTL reaper's idempotency keys in a Redis
# Cluster that is resharded and loses a master. The consumers run with a
# 20 s idempotency TTL and the reaper on: a workload writes idempotency
# rows, Redis keeps each key until created_at + 20 s, the reaper deletes
# the succeeded rows older than that from MySQL and the deletes flow back
# through the binlog (tombstones, or nothing for keys already expired).
# Meanwhile 2000 slots move and a master is SIGKILLed (its replica takes
# over, redis.wait.replicas=1). At the end the reaper has deleted every
# expired succeeded row and Redis equals MySQL, key by key.
# ctest-labels: redis-cluster
set -u
. "$(dirname "$0")/../lib/harness.sh"
h_init
. "$(dirname "$0")/rcluster_lib.sh"
E_SERVER_ID=5063
TTL=20s
E_CONSUMER_FLAGS=(--idem.ttl="$TTL" --redis.wait.replicas=1
                  --redis.wait.timeout.ms=500 --redis.timeout.ms=3000
                  --reaper.enable=true --reaper.mysql.host=127.0.0.1
                  --reaper.mysql.user="$H_CONSUMER_USER"
                  --reaper.mysql.password="$H_CONSUMER_PASS"
                  --reaper.interval=1s --reaper.batch.size=50
                  --reaper.pause.ms=20)
expired2() {
        h_mysql "SELECT COUNT(*) FROM idempotent_log WHERE status = 2
                 AND created_at < UTC_TIMESTAMP(3) - INTERVAL 20 SECOND"
}

rc_pipeline
E_CONSUMER_FLAGS+=(--reaper.mysql.port="$H_MYSQL_PORT")
hp=$(h_free_port)
e_consumer a --http.listen="127.0.0.1:$hp"
e_consumer b
e_workload 63 30 200 --users 100
rc_wait_flowing "$hp"

mapfile -t m < <(h_rcluster_masters)
h_rcluster_reshard "${m[1]}" "${m[0]}" 2000 || h_fail "reshard failed"
victim=${m[0]}
replica=$(h_rcluster_replica_of "$victim")
h_rcluster_kill9 "$victim"
h_rcluster_wait_master "$replica" 60 || h_fail "replica $replica was not promoted"
h_rcluster_restart "$victim"
h_rcluster_wait_ok 60 || h_fail "cluster not ok after the failover"
e_workload_wait

live=$(h_mysql "SELECT COUNT(*) FROM idempotent_log")
h_wait_for "[ \$(expired2) = 0 ]" 90 ||
        h_fail "$(expired2) expired succeeded rows left in MySQL"
reaped=$(cat "$H_DIR"/c-a.log "$H_DIR"/c-b.log |
         sed -n 's/.*reaped \([0-9]*\) row.*/\1/p' |
         awk '{ s += $1 } END { print s + 0 }')
[ "$reaped" -gt 0 ] || h_fail "the reaper deleted nothing"
if ! res=$(e_check --wait 90 --ttl "$TTL" --expiry-slack 1000); then
        echo "$res"
        h_fail "Redis did not converge to MySQL"
fi
h_log "$(sed -n 1,3p <<<"$res")"
e_stop c-a || h_fail "consumer a exited $E_RC on SIGTERM"
e_stop c-b || h_fail "consumer b exited $E_RC on SIGTERM"
e_stop p-a || h_fail "producer exited $E_RC on SIGTERM"
h_pass "reaper under resharding and failover: $reaped rows reaped of $live, Redis equals MySQL"
