#!/usr/bin/env bash
# 0064-rcluster-mismatch: a Redis Cluster node configured as a single
# Redis (redis.port), or a single Redis configured as a cluster seed
# (redis.cluster.nodes), is a configuration error: the consumer stops
# with exit status 2 and a message naming the setting, instead of
# retrying forever (issue: "MOVED 16208 ...; retrying with backoff").
# ctest-labels: redis-cluster
set -u
. "$(dirname "$0")/../lib/harness.sh"
h_init
. "$(dirname "$0")/rcluster_lib.sh"

h_start_redis
h_start_redis_cluster --masters 3 --replicas 0
h_start_broker
single=$H_REDIS_PORT
node=${H_RCLUSTER_PORTS%% *}

# a cluster node as redis.host/redis.port
E_RCLUSTER=
H_REDIS_PORT=$node e_consumer one
h_wait_for "! e_alive c-one" 30 || h_fail "consumer on a cluster node kept running"
e_stop c-one
[ "$E_RC" = 2 ] || h_fail "consumer on a cluster node exited $E_RC, want 2"
grep -q 'redis.cluster.nodes' "$H_DIR/c-one.log" ||
        h_fail "the error does not name redis.cluster.nodes"

# a single Redis as redis.cluster.nodes
E_RCLUSTER=1
H_RCLUSTER_NODES=127.0.0.1:$single e_consumer two
h_wait_for "! e_alive c-two" 30 || h_fail "consumer with a single Redis as cluster seed kept running"
e_stop c-two
[ "$E_RC" = 2 ] || h_fail "consumer with a single Redis as seed exited $E_RC, want 2"
grep -q 'redis.cluster.nodes: 127.0.0.1:'"$single"' is not a Redis Cluster node' "$H_DIR/c-two.log" ||
        h_fail "the error does not name the seed and the setting"
h_pass "mode mismatches stop the consumer with exit 2 naming the setting"
