# shellcheck shell=bash
# Helpers of the Redis Cluster tests (0060-0064). Source after
# tests/lib/harness.sh and h_init: the pipeline of tests/lib/e2e.sh into
# the Redis Cluster of h_start_redis_cluster (E_RCLUSTER=1).

# shellcheck source=../lib/e2e.sh
. "$H_LIB_DIR/e2e.sh"
e_require "$E_PBIN" "$E_CBIN"
E_RCLUSTER=1

# rc_metric PORT NAME: a metric of the consumer serving /metrics on PORT
# (0 when absent, so sums work)
rc_metric() {
        curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null |
                awk -v n="$2" '$1 == n {v = $2} END {print v + 0}'
}

# rc_redirects PORT: MOVED + ASK redirections the consumer followed
rc_redirects() {
        echo $(($(rc_metric "$1" 'followcdc_redis_redirects_total{kind="moved"}') +
                $(rc_metric "$1" 'followcdc_redis_redirects_total{kind="ask"}')))
}

# rc_pipeline: MariaDB, a Redis Cluster, the dev broker and a streaming
# producer
rc_pipeline() {
        h_start_mariadb
        h_start_redis_cluster
        h_start_broker
        e_producer a
        h_wait_for "grep -q 'streaming from' '$H_DIR/p-a.log'" 30 ||
                h_fail "producer did not start streaming"
}

# rc_wait_flowing PORT: until consumer PORT has had scripts acknowledged
rc_wait_flowing() {
        h_wait_for "[ \$(rc_metric $1 followcdc_apply_scripts_total) -gt 0 ]" 60 ||
                h_fail "the consumer applies nothing"
}
