#!/usr/bin/env bash
# 0061-rcluster-reshard: slots move between the masters of a Redis Cluster
# (redis-cli --cluster reshard, keys migrated with MIGRATE) while a
# workload runs and two consumers apply it: the consumers follow MOVED and
# ASK (and wait out TRYAGAIN) with offsets held, scripts half-routed
# before a move are sent again, and Redis ends equal to MySQL (the expiry
# of a migrated idempotency key may be off by the migration's latency:
# Redis' MIGRATE carries relative TTLs). 9000 of the 16384 slots move,
# three times around the masters.
# ctest-labels: redis-cluster
set -u
. "$(dirname "$0")/../lib/harness.sh"
h_init
. "$(dirname "$0")/rcluster_lib.sh"
E_SERVER_ID=5061
# WAIT 1: a failover of its own (a loaded machine) loses nothing either
E_CONSUMER_FLAGS=(--redis.wait.replicas=1 --redis.wait.timeout.ms=500
                  --redis.timeout.ms=3000)

rc_pipeline
hp=$(h_free_port)
e_consumer a --http.listen="127.0.0.1:$hp"
e_consumer b
e_workload 61 30 200 --users 200 --odd-ids 0.1
rc_wait_flowing "$hp"

mapfile -t m < <(h_rcluster_masters)
[ "${#m[@]}" = 3 ] || h_fail "masters: ${m[*]}"
h_rcluster_reshard "${m[0]}" "${m[1]}" 3000 || h_fail "reshard 1 failed"
h_rcluster_reshard "${m[1]}" "${m[2]}" 3000 || h_fail "reshard 2 failed"
h_rcluster_reshard "${m[2]}" "${m[0]}" 3000 || h_fail "reshard 3 failed"
h_rcluster_wait_ok 60 || h_fail "cluster not ok after resharding"
e_alive wl || h_log "the workload ended before the resharding did"
e_workload_wait

# MIGRATE moves a key with its remaining TTL: the absolute expiry of a
# migrated idempotency key shifts by the migration's latency
if ! res=$(e_check --wait 120 --expiry-slack 1000); then
        echo "$res"
        h_fail "Redis did not converge to MySQL after live resharding"
fi
h_log "after live resharding: $(sed -n 3p <<<"$res")"
r=$(rc_redirects "$hp")
[ "$r" -gt 0 ] || h_fail "consumer a followed no redirection: did slots move under it?"
h_log "consumer a: $r redirections, $(rc_metric "$hp" followcdc_redis_tryagain_total) TRYAGAIN, $(rc_metric "$hp" followcdc_redis_topology_refreshes_total) topology refreshes"
e_stop c-a || h_fail "consumer a exited $E_RC on SIGTERM"
e_stop c-b || h_fail "consumer b exited $E_RC on SIGTERM"
e_stop p-a || h_fail "producer exited $E_RC on SIGTERM"
h_pass "converged through live resharding ($r redirections followed by one consumer)"
