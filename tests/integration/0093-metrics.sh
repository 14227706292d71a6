#!/usr/bin/env bash
# 0093-metrics: both binaries' /metrics pass `promtool check metrics`
# (Prometheus' own linter: types, names, histogram shape), with every kind
# of series present: the consumer's per-partition lag, its end-to-end age
# histogram, the reaper's counters, followcdc_build_info. The lag is the
# consumer's own view: it grows while Redis is down (the batch waits, the
# partitions stay paused) and is 0 again once Redis is back; the age
# histogram counts each applied change once.
set -euo pipefail
. "$(dirname "$0")/../lib/test.sh" e2e
command -v promtool >/dev/null || h_fail "promtool is not installed (Debian package prometheus)"
E_SERVER_ID=5093

h_start_mariadb
h_start_redis --appendonly appendfsync always
h_start_broker

e_producer a
e_wait_state p-a streaming 60 || h_fail "producer not streaming"
e_consumer a --reaper.enable=true --reaper.mysql.host=127.0.0.1 \
        --reaper.mysql.port="$H_MYSQL_PORT" --reaper.mysql.user="$H_CONSUMER_USER" \
        --reaper.mysql.password="$H_CONSUMER_PASS" --reaper.mysql.db="$H_MYSQL_DB" \
        --reaper.interval=1s
h_mysql "INSERT INTO follow (follower_id, followee_id) SELECT seq, seq + 1 FROM seq_1_to_30"
e_converged "first rows"

# lag_sum: the sum of every partition's lag ("" while none is exported)
lag_sum() {
        curl -fs "http://127.0.0.1:${E_CPORT[c-a]}/metrics" |
                awk '$1 ~ /^followcdc_consumer_lag_messages[{]/ {s += $2; n++}
                     END {if (n) print s}'
}
h_wait_for '[ "$(lag_sum)" = 0 ]' 30 || h_fail "lag is '$(lag_sum)', want 0 when converged"

# Redis down: the batch waits, the partitions stay paused, the lag grows
h_stop redis
h_mysql "INSERT INTO follow (follower_id, followee_id) SELECT seq + 100, seq FROM seq_1_to_50"
h_mysql "UPDATE follow SET status = 0, version = version + 1 WHERE follower_id <= 10"
h_wait_for '[ "$(lag_sum)" -gt 0 ] 2>/dev/null' 30 ||
        h_fail "lag stayed '$(lag_sum)' while Redis was down"
h_restart redis
e_converged "after Redis came back" 90
h_wait_for '[ "$(lag_sum)" = 0 ]' 30 || h_fail "lag is '$(lag_sum)' after catching up"

# one age per applied change: 30 + 50 + 10 row changes (the +Inf bucket is
# the count)
age_count=$(e_cmetric a followcdc_consumer_event_age_seconds_count)
inf=$(e_cmetric a 'followcdc_consumer_event_age_seconds_bucket{le="+Inf"}')
[ "${age_count:-0}" -ge 90 ] || h_fail "event age count ${age_count:-none}, want >= 90"
[ "$inf" = "$age_count" ] || h_fail "+Inf bucket $inf != count $age_count"
h_wait_for '[ "$(e_cmetric a followcdc_reaper_leader)" = 1 ]' 30 || h_fail "reaper not leader"

# promtool on both, live
pport=$(e_http_port p-a) || h_fail "producer /metrics port"
for who in "producer:$pport" "consumer:${E_CPORT[c-a]}"; do
        curl -fs "http://127.0.0.1:${who#*:}/metrics" >"$H_DIR/${who%%:*}.prom" ||
                h_fail "${who%%:*}: /metrics"
        grep -q '^followcdc_build_info{' "$H_DIR/${who%%:*}.prom" ||
                h_fail "${who%%:*}: no followcdc_build_info"
        if ! out=$(promtool check metrics <"$H_DIR/${who%%:*}.prom" 2>&1); then
                h_fail "${who%%:*}: promtool check metrics: $out"
        fi
        h_log "${who%%:*}: promtool clean ($(grep -vc '^#' "$H_DIR/${who%%:*}.prom") samples)"
done
for m in followcdc_consumer_lag_messages followcdc_consumer_event_age_seconds_bucket \
        followcdc_reaper_errors_total; do
        grep -q "^$m" "$H_DIR/consumer.prom" || h_fail "consumer: no $m"
done
h_pass "promtool clean; lag grows while Redis is down and returns to 0; ages counted"
