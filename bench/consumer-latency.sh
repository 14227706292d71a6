#!/usr/bin/env bash
# followcdc-consumer latency at a low rate: one follow event at a time is
# produced into the dev broker, and the time until Redis shows it is
# measured (bench/consumer_latency.c), BENCH_N events (200) BENCH_GAP_MS
# (20) apart. The producer side adds nothing (linger.ms=0) and the
# consumer runs with kafka.fetch.wait.max.ms=5: the dev broker never
# answers a long-poll fetch early, so librdkafka's default (500 ms) would
# dominate. What is left is the consumer's own batching and the Redis
# round trip. Prints figures, never asserts a time. One line per binary:
#   RESULT consumer_latency bin=<name> n=<n> p50_ms=<x> p90_ms=<x> p99_ms=<x> max_ms=<x>
# Knobs: BENCH_N, BENCH_GAP_MS, BENCH_ARGS (extra consumer flags),
#        BENCH_BINS (consumer binaries to compare, default the build's one),
#        CDC_BUILD_DIR (default <checkout>/build).
set -u
H_NAME=bench-latency
. "$(cd "$(dirname "$0")" && pwd)/../tests/lib/harness.sh"
BIN=$CDC_BUILD_DIR/bin
N=${BENCH_N:-200}
GAP=${BENCH_GAP_MS:-20}
BINS=${BENCH_BINS:-$BIN/followcdc-consumer}
for b in consumer_latency followcdc-devbroker; do
        [ -x "$BIN/$b" ] || { echo "bench: $BIN/$b is not built" >&2; exit 1; }
done

h_init
h_start_redis
h_start_broker
h_broker_ctl topic-create followcdc.followcdc.follow 4 >/dev/null
h_broker_ctl topic-create followcdc.followcdc.idempotent_log 1 >/dev/null

run=0
for cbin in $BINS; do
        run=$((run + 1))
        port=$(h_free_port)
        "$cbin" --kafka.bootstrap.servers="$H_KAFKA_BOOTSTRAP" \
                --kafka.session.timeout.ms=6000 --kafka.fetch.wait.max.ms=5 \
                --kafka.group.id="bench-latency-$run" \
                --kafka.auto.offset.reset=latest \
                --redis.port="$H_REDIS_PORT" --http.listen="127.0.0.1:$port" \
                --log.level=warning ${BENCH_ARGS:-} >"$H_DIR/consumer-$run.log" 2>&1 &
        cpid=$!
        for i in $(seq 1 150); do
                a=$(curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null |
                        awk '$1 == "followcdc_consumer_assigned_partitions" {print $2}')
                [ "${a:-0}" = 5 ] && break
                sleep 0.2
        done
        out=$("$BIN/consumer_latency" -b "$H_KAFKA_BOOTSTRAP" -R "$H_REDIS_PORT" \
                -n "$N" -g "$GAP") || { echo "bench: probe failed" >&2; kill "$cpid"; exit 1; }
        kill -TERM "$cpid"
        wait "$cpid"
        echo "RESULT consumer_latency bin=$cbin ${out#latency }"
done
