#!/usr/bin/env bash
# 0068-rcluster-loss: FLUSHALL on one master of a Redis Cluster (its
# replica follows) while a workload runs and two consumers apply it. The
# master's marker is gone: the consumer that checks first logs the loss,
# counts it (followcdc_consumer_redis_data_loss_total) and creates the
# marker again; both consumers replay their partitions from the beginning
# (followcdc_consumer_redis_loss_replays_total) and the cluster converges
# to MySQL with no manual step. The other masters keep their markers.
# ctest-labels: redis-cluster
set -u
. "$(dirname "$0")/../lib/harness.sh"
h_init
. "$(dirname "$0")/rcluster_lib.sh"
E_SERVER_ID=5068

rc_pipeline
ha=$(h_free_port)
hb=$(h_free_port)
e_consumer a --http.listen="127.0.0.1:$ha"
e_consumer b --http.listen="127.0.0.1:$hb"
e_workload 68 20 120 --users 120
rc_wait_flowing "$ha"
h_wait_for "[ \$(rc_metric $ha followcdc_consumer_redis_loss_checks_total) -gt 0 ] &&
            [ \$(rc_metric $hb followcdc_consumer_redis_loss_checks_total) -gt 0 ]" 30 ||
        h_fail "the consumers never checked the markers"
sleep 6 # offsets committed past applied data

mapfile -t m < <(h_rcluster_masters)
[ "${#m[@]}" = 3 ] || h_fail "masters: ${m[*]}"
lost=$(($(rc_metric "$ha" followcdc_consumer_redis_data_loss_total) +
        $(rc_metric "$hb" followcdc_consumer_redis_data_loss_total)))
ra=$(rc_metric "$ha" followcdc_consumer_redis_loss_replays_total)
rb=$(rc_metric "$hb" followcdc_consumer_redis_loss_replays_total)
keys=$(h_rcluster_node "${m[1]}" DBSIZE)
h_rcluster_node "${m[1]}" FLUSHALL >/dev/null || h_fail "FLUSHALL failed"
h_log "FLUSHALL on master ${m[1]} ($keys keys)"
h_wait_for "[ \$((\$(rc_metric $ha followcdc_consumer_redis_data_loss_total) +
                 \$(rc_metric $hb followcdc_consumer_redis_data_loss_total))) -gt $lost ]" 30 ||
        h_fail "no consumer detected the loss"
h_wait_for "[ \$(rc_metric $ha followcdc_consumer_redis_loss_replays_total) -gt $ra ] &&
            [ \$(rc_metric $hb followcdc_consumer_redis_loss_replays_total) -gt $rb ]" 30 ||
        h_fail "not both consumers replayed their partitions"
grep -h "RLOSS" "$H_DIR/c-a.log" "$H_DIR/c-b.log" | grep -q "${m[1]}" ||
        h_fail "the loss was not logged with the node"
e_workload_wait
e_converged "after a FLUSHALL of one master" 120
h_log "consumers: $(($(rc_metric "$ha" followcdc_consumer_redis_data_loss_total) +
        $(rc_metric "$hb" followcdc_consumer_redis_data_loss_total))) loss(es) counted"
e_stop c-a || h_fail "consumer a exited $E_RC on SIGTERM"
e_stop c-b || h_fail "consumer b exited $E_RC on SIGTERM"
e_stop p-a || h_fail "producer exited $E_RC on SIGTERM"
h_pass "Redis Cluster rebuilt one master after a FLUSHALL"
