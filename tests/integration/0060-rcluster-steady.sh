#!/usr/bin/env bash
# 0060-rcluster-steady: the whole pipeline into a Redis Cluster (three
# masters with one replica each, Debian's redis-server): two consumers
# with redis.cluster.nodes apply a burst and then paced writes of
# scripts/demo-workload.py; Redis (read master by master) equals MySQL,
# every master holds keys (each script went to the master of its slot),
# and the consumer reports three masters and no redirections in a
# cluster that did not change. The consumers log in as an ACL user that
# every node knows.
# ctest-labels: redis-cluster
set -u
. "$(dirname "$0")/../lib/harness.sh"
h_init
. "$(dirname "$0")/rcluster_lib.sh"
E_SERVER_ID=5060

h_start_mariadb
h_start_redis_cluster user "followcdc on >app-pw ~* &* +@all"
h_start_broker
e_producer a
h_wait_for "grep -q 'streaming from' '$H_DIR/p-a.log'" 30 ||
        h_fail "producer did not start streaming"
# WAIT 1: a failover of its own (a loaded machine) loses nothing either
E_CONSUMER_FLAGS=(--redis.user=followcdc --redis.password=app-pw
                  --redis.wait.replicas=1 --redis.wait.timeout.ms=500
                  --redis.timeout.ms=3000)
epoch=$(h_rcluster_epoch)
hp=$(h_free_port)
e_consumer a --http.listen="127.0.0.1:$hp"
e_consumer b

out=$("$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" \
        --users 60 --ops 2000 --concurrency 4 --seed 60 --odd-ids 0.2) ||
        h_fail "workload failed: $out"
h_log "$out"
h_wait_for "grep -q 'assigned' '$H_DIR/c-a.log' '$H_DIR/c-b.log'" 30 ||
        h_fail "no consumer got partitions"
out=$("$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" \
        --users 60 --duration 5 --rate 150 --concurrency 4 --seed 600 \
        --req-prefix live) || h_fail "workload failed: $out"
h_log "$out"
edges=$(h_mysql "SELECT COUNT(*) FROM follow WHERE status = 1")
[ "$edges" -gt 100 ] || h_fail "workload left only $edges edges"

e_converged "in a Redis Cluster" 90
for m in $(h_rcluster_masters); do
        n=$(h_rcluster_node "$m" DBSIZE)
        [ "$n" -gt 0 ] || h_fail "master $m holds no key"
        h_log "master $m: $n keys"
done
n=$(rc_metric "$hp" followcdc_redis_masters)
[ "$n" = 3 ] || h_fail "followcdc_redis_masters = $n, want 3"
n=$(rc_redirects "$hp")
if [ "$(h_rcluster_epoch)" = "$epoch" ]; then
        [ "$n" = 0 ] || h_fail "$n redirections in a cluster that did not change"
else
        # a machine too loaded for cluster-node-timeout: nodes failed over
        h_log "the cluster failed over by itself (epoch $epoch -> $(h_rcluster_epoch)); $n redirections"
fi
e_stop c-a || h_fail "consumer a exited $E_RC on SIGTERM"
e_stop c-b || h_fail "consumer b exited $E_RC on SIGTERM"
e_stop p-a || h_fail "producer exited $E_RC on SIGTERM"
h_pass "Redis Cluster (3 masters) equals MySQL: $edges edges"
