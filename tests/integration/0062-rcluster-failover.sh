#!/usr/bin/env bash
# 0062-rcluster-failover: a master of the Redis Cluster is killed with
# SIGKILL while a workload runs; its replica is promoted by the cluster
# (cluster-node-timeout 5 s); the killed node is started again, empty,
# and rejoins as the new master's replica. The consumers run with
# redis.wait.replicas=1: every write whose offset was stored had reached
# the replica that took over, so nothing acknowledged is lost; writes in
# flight are held (offsets too) and sent again to the new master. Redis
# ends equal to MySQL, and the consumer counted the lost node and the
# WAITs that found no replica while the new master had none.
# ctest-labels: redis-cluster
set -u
. "$(dirname "$0")/../lib/harness.sh"
h_init
. "$(dirname "$0")/rcluster_lib.sh"
E_SERVER_ID=5062
E_CONSUMER_FLAGS=(--redis.wait.replicas=1 --redis.wait.timeout.ms=500
                  --redis.timeout.ms=3000)

rc_pipeline
hp=$(h_free_port)
e_consumer a --http.listen="127.0.0.1:$hp"
e_consumer b
e_workload 62 25 200 --users 200 --odd-ids 0.1
rc_wait_flowing "$hp"
sleep 2

mapfile -t m < <(h_rcluster_masters)
victim=${m[0]}
replica=$(h_rcluster_replica_of "$victim")
[ -n "$replica" ] || h_fail "no replica of $victim"
h_rcluster_kill9 "$victim"
h_rcluster_wait_master "$replica" 60 || h_fail "replica $replica was not promoted"
h_log "replica $replica promoted"
# the new master has no replica: WAIT 1 cannot succeed until the old
# node is back
h_wait_for "[ \$(rc_metric $hp followcdc_apply_wait_short_total) -gt 0 ]" 30 ||
        h_log "no short WAIT seen (no write reached the new master alone)"
h_rcluster_restart "$victim"
h_rcluster_wait_ok 60 || h_fail "cluster not ok after the old master rejoined"
e_alive wl || h_log "the workload ended before the failover was over"
e_workload_wait

e_converged "after a master failover" 120
n=$(rc_metric "$hp" followcdc_redis_node_errors_total)
[ "$n" -gt 0 ] || h_fail "consumer a saw no node error: was its master killed under it?"
h_log "consumer a: $n node errors, $(rc_metric "$hp" followcdc_apply_wait_short_total) short WAITs, $(rc_redirects "$hp") redirections, $(rc_metric "$hp" followcdc_redis_cluster_down_total) CLUSTERDOWN/READONLY"
e_stop c-a || h_fail "consumer a exited $E_RC on SIGTERM"
e_stop c-b || h_fail "consumer b exited $E_RC on SIGTERM"
e_stop p-a || h_fail "producer exited $E_RC on SIGTERM"
h_pass "converged through a master SIGKILL and replica promotion (WAIT 1)"
