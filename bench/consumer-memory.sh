#!/usr/bin/env bash
# followcdc-consumer peak memory with large events: BENCH_EVENTS follow
# events (60) padded to about BENCH_EVENT_BYTES (1,000,000; an update
# carries two row images of half that) over BENCH_COLUMNS extra columns
# (1) are fed through the dev broker (64 partitions: it keeps ~5 MiB per
# partition) to a running consumer; once it has read them all, its peak
# RSS (VmHWM) is reported. Prints figures, never asserts. One line per
# consumer binary:
#   RESULT consumer_memory bin=<path> event_bytes=<n> columns=<n>
#          messages=<n> dead_letters=<n> rss_mb=<n>
# Knobs: BENCH_EVENTS, BENCH_EVENT_BYTES, BENCH_COLUMNS, BENCH_ARGS,
#        BENCH_BINS (consumer binaries, default the build's one),
#        CDC_BUILD_DIR (default <checkout>/build).
set -u
H_NAME=bench-memory
. "$(cd "$(dirname "$0")" && pwd)/../tests/lib/harness.sh"
BIN=$CDC_BUILD_DIR/bin
EVENTS=${BENCH_EVENTS:-60}
BYTES=${BENCH_EVENT_BYTES:-1000000}
COLS=${BENCH_COLUMNS:-1}
BINS=${BENCH_BINS:-$BIN/followcdc-consumer}
PARTS=64
for b in consumer_feed followcdc-devbroker; do
        [ -x "$BIN/$b" ] || { echo "bench: $BIN/$b is not built" >&2; exit 1; }
done

h_init
h_start_redis
h_start_broker
run=0
for cbin in $BINS; do
        run=$((run + 1))
        # fresh topics for each binary
        pre=mem$run
        h_broker_ctl topic-create "$pre.followcdc.follow" "$PARTS" >/dev/null
        h_broker_ctl topic-create "$pre.followcdc.idempotent_log" 1 >/dev/null
        port=$(h_free_port)
        "$cbin" --kafka.bootstrap.servers="$H_KAFKA_BOOTSTRAP" \
                --kafka.session.timeout.ms=6000 --source.name="$pre" \
                --redis.port="$H_REDIS_PORT" --http.listen="127.0.0.1:$port" \
                --log.level=err ${BENCH_ARGS:-} >"$H_DIR/consumer-$run.log" 2>&1 &
        cpid=$!
        metric() {
                curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null |
                        awk -v n="$1" '$1 == n {print $2}'
        }
        for i in $(seq 1 150); do
                [ "$(metric followcdc_consumer_assigned_partitions)" = $((PARTS + 1)) ] && break
                sleep 0.2
        done
        out=$("$BIN/consumer_feed" -b "$H_KAFKA_BOOTSTRAP" -p "$pre" -n "$EVENTS" \
                -u 1000 -s "$run" -W $((BYTES / 2)) -C "$COLS") ||
                { echo "bench: feed failed" >&2; kill "$cpid"; exit 1; }
        total=$(awk -F'[ =]' '{print $2 + $6}' <<<"$out")
        for i in $(seq 1 600); do
                m=$(metric followcdc_consumer_messages_total)
                [ "${m:-0}" -ge "$total" ] && break
                kill -0 "$cpid" 2>/dev/null || break
                sleep 0.2
        done
        dl=$(metric followcdc_consumer_dead_letters_total)
        rss_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$cpid/status" 2>/dev/null)
        kill -TERM "$cpid" 2>/dev/null
        wait "$cpid"
        echo "RESULT consumer_memory bin=$cbin event_bytes=$BYTES columns=$COLS messages=${m:-0}/$total dead_letters=${dl:-0} rss_mb=$(awk -v k="${rss_kb:-0}" 'BEGIN {printf "%.1f", k / 1024}')"
done
