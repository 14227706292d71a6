#!/usr/bin/env bash
# followcdc-consumer benchmark: applies a follow workload of BENCH_EVENTS
# change events (default 1,000,000) from the dev broker to Redis and
# compares the rate with redis-benchmark running the same edge script,
# pipelined, against the same Redis (the Redis-side limit).
#
# The dev broker keeps only ~5 MiB per partition, so events are produced in
# chunks that fit (BENCH_CHUNK over BENCH_PARTITIONS partitions). The
# consumer is stopped (SIGSTOP) while a chunk is produced and continued
# when it is complete; the clock runs from then until the consumer has read
# it all, so each chunk's time is the consumer's alone, the whole chunk
# (before, the consumer applied part of a chunk while it was produced, an
# overlap that varied with scheduling and made the figure swing by 30 %).
# A warm-up chunk (BENCH_WARMUP events, 20,000) is applied first and not
# counted (connections, script loading, the allocator's first growth).
# The whole measurement runs BENCH_RUNS times (3), each on fresh topics, a
# fresh consumer and an emptied Redis (FLUSHALL), with the same events;
# the median is reported, the runs and their spread above RESULT; rss_mb is
# the median peak RSS. redis-benchmark runs after every chunk, while the
# consumer is idle (its figure moves with the machine as much as the
# consumer's): a run's limit is the rate of its redis-benchmark samples, the
# median over runs is the limit, and the per-run ratios (consumer scripts/s
# over the limit sampled in the same minutes) are printed with their spread. Then bench/instr.sh prints the instruction counts
# (BENCH_INSTR=0 skips them).
#
# Prints figures, never asserts a time. Last lines:
#   RESULT instr producer_per_row=<n> consumer_per_row=<n>
#   RESULT consumer events_per_s=<n> redis_limit_scripts_per_s=<n>
#          scripts_per_event=<n> rss_mb=<n> redis_bytes_per_edge=<n>
#          broker=<dev|kafka>
#
# Options: --broker=dev|kafka reads from the dev broker (default) or from
# Apache Kafka (tests/lib/kafka.sh, one node, full JIT; the same chunks).
#
# bench/consumer.sh --cluster: the same events, first into one Redis, then
# (with a fresh broker) into a Redis Cluster of three masters without
# replicas (redis.cluster.nodes), in one run. Last line:
#   RESULT consumer_cluster events_per_s=<n> nodes=3
#          single_node_events_per_s=<n>
#
# Knobs: BENCH_EVENTS BENCH_CHUNK BENCH_PARTITIONS BENCH_USERS BENCH_BATCH
#        BENCH_WARMUP BENCH_RUNS BENCH_INSTR BENCH_LIMIT_N
#        BENCH_ARGS (extra consumer flags, e.g. "--batch.ms=5")
#        CDC_BUILD_DIR (default <checkout>/build)
#
# On the dev broker the consumer runs with kafka.fetch.wait.max.ms=5, as in
# the local stack and bench/latency.sh: the mock answers a fetch that found
# nothing only when fetch.wait.max.ms (500 ms by default) has passed, where
# Apache Kafka answers as soon as a message arrives. With the default the
# consumer waited for such fetches 7 s of a 37 s run (0.73 of the limit,
# against 0.88 with 10 ms in one run, 0.87 with 5 ms in three); on Apache
# Kafka with every default it applied 0.83 of the limit with no such wait
# (--broker=kafka shows it).
set -u
CLUSTER=0
BROKER=dev
for arg in "$@"; do
        case "$arg" in
        --cluster) CLUSTER=1 ;;
        --broker=dev | --broker=kafka) BROKER=${arg#*=} ;;
        *) echo "bench/consumer.sh: unknown argument '$arg' (--cluster, --broker=dev|kafka)" >&2; exit 2 ;;
        esac
done
if [ "$CLUSTER" = 1 ] && [ "$BROKER" = kafka ]; then
        echo "bench/consumer.sh: --cluster runs on the dev broker only" >&2
        exit 2
fi
export CDC_BROKER=$BROKER
devwait=
[ "$BROKER" = dev ] && devwait=--kafka.fetch.wait.max.ms=5
echo "consumer flags beyond the defaults: --batch.size=${BENCH_BATCH:-1000} ${devwait:-} ${BENCH_ARGS:-}"
H_NAME=bench-consumer
. "$(cd "$(dirname "$0")" && pwd)/../tests/lib/harness.sh"
# shellcheck source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
RUNS=$(b_runs)
WARMUP=${BENCH_WARMUP:-20000}
EVENTS=${BENCH_EVENTS:-1000000}
CHUNK=${BENCH_CHUNK:-100000}
PARTS=${BENCH_PARTITIONS:-16}
USERS=${BENCH_USERS:-200000}
BATCH=${BENCH_BATCH:-1000}
BIN=$CDC_BUILD_DIR/bin
LUA=$CDC_SOURCE_DIR/consumer/lua/cdc_edge.lua
for b in followcdc-consumer consumer_feed followcdc-devbroker; do
        [ -x "$BIN/$b" ] || { echo "bench: $BIN/$b is not built" >&2; exit 1; }
done
command -v redis-benchmark >/dev/null || { echo "bench: redis-benchmark missing" >&2; exit 1; }

h_init

metric() {
        curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null |
                awk -v n="$1" '$1 == n {print $2}'
}
now_ms() { date +%s%3N; }
# CPU time (ms) used so far by a process
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# Redis-side limit: the same edge script, EVALSHA pipelined, random users,
# random (fixed-width) versions, in database 1 of the same Redis (the
# consumer writes database 0). It runs after every chunk, BENCH_LIMIT_N
# scripts at a time (2 x BENCH_CHUNK: a follow event needs about two), while
# the consumer is idle:
# - the host's speed drifts within a minute, so the limit is sampled
#   beside each chunk, and a run's ratio compares the consumer with the
#   limit of the same minutes (the consumer's spread and redis-benchmark's
#   alone are printed beside the per-run ratios);
# - its keys grow from sample to sample as the consumer's grow from chunk
#   to chunk, at the same pace (a script on a small database runs faster
#   than on a large one); database 1 is emptied after each run.
# redis_limit N prints scripts/s.
LIMIT_N=${BENCH_LIMIT_N:-$((2 * CHUNK))}
limit_port=
redis_limit() {
        local rb
        rb=$(redis-benchmark -p "$limit_port" --dbnum 1 -c 4 -P 64 -n "$1" -r "$USERS" --csv \
                EVALSHA "$sha" 4 'bench:{u:__rand_int__}:following' \
                'bench:{u:__rand_int__}:followers' 'bench:{u:__rand_int__}:friends' \
                'bench:{u:__rand_int__}:ver' __rand_int__ \
                "__rand_int__0000000000" '' o 1 1795000000000 2>/dev/null |
                tail -n 1 | cut -d, -f2 | tr -d '"')
        echo "${rb%.*}"
}

# bench_run REDISFLAG RPIDS...: start the consumer (REDISFLAG says where
# Redis is), feed EVENTS in chunks, measure; sets events scripts rtt
# rss_kb busy_ms cpu_c cpu_r cpu_b eps and crc. RPIDS: Redis processes.
bench_run() {
        local rflag=$1 i p t0 t1 c0 r0 b0 n m out tomb pre
        shift
        local rpids=("$@")
        run_no=$((${run_no:-0} + 1))
        # fresh topics and group for each run: the same events again. The
        # group matters on the dev broker: a join to a group whose last
        # member left is held there until that member's session would have
        # expired (45 s here), which the warm-up of every run after the
        # first used to wait out (11-12 s of it, after 30 s of waiting for
        # the assignment below)
        pre=bench$run_no
        topic=$pre.followcdc.follow
        h_topic_create "$topic" "$PARTS"
        h_topic_create "$pre.followcdc.idempotent_log" 1
        port=$(h_free_port)
        # a long session: the consumer is stopped while a chunk is fed
        "$BIN/followcdc-consumer" --kafka.bootstrap.servers="$H_KAFKA_BOOTSTRAP" \
                --kafka.session.timeout.ms=45000 --kafka.group.id="$pre" \
                --source.name="$pre" "$rflag" \
                --batch.size="$BATCH" --http.listen="127.0.0.1:$port" \
                --log.level=warning $devwait ${BENCH_ARGS:-} >>"$H_DIR/consumer.log" 2>&1 &
        cpid=$!
        trap 'kill -CONT $cpid 2>/dev/null; kill -KILL $cpid 2>/dev/null; h__cleanup' EXIT
        # wait for the group join (the dev broker holds joins ~5 s)
        for i in $(seq 1 150); do
                [ "$(metric followcdc_consumer_assigned_partitions)" = $((PARTS + 1)) ] && break
                sleep 0.2
        done
        bpid=$(h_pid broker || h_pid kafka1)
        cpu_c=0 cpu_r=0 cpu_b=0
        done_events=0
        seq=0
        total_msgs=0
        busy_ms=0
        chunk=0
        # feed_chunk N: produce N events while the consumer is stopped,
        # continue it, wait until it has read them all; sets t0 t1
        feed_chunk() {
                kill -STOP "$cpid"
                out=$("$BIN/consumer_feed" -b "$H_KAFKA_BOOTSTRAP" -p "$pre" -n "$1" \
                        -u "$USERS" -s $((chunk + 1)) -q "$seq") ||
                        { kill -CONT "$cpid"; echo "bench: feed failed" >&2; exit 1; }
                seq=$(sed -n 's/.*seq=\([0-9]*\).*/\1/p' <<<"$out")
                tomb=$(sed -n 's/.*tombstones=\([0-9]*\).*/\1/p' <<<"$out")
                total_msgs=$((total_msgs + $1 + tomb))
                c0=$(cpu_ms "$cpid") b0=$(cpu_ms "$bpid") r0=0
                for p in "${rpids[@]}"; do r0=$((r0 + $(cpu_ms "$p"))); done
                t0=$(now_ms)
                kill -CONT "$cpid"
                while :; do
                        m=$(metric followcdc_consumer_messages_total)
                        [ "${m:-0}" -ge "$total_msgs" ] && break
                        kill -0 "$cpid" 2>/dev/null || { echo "bench: consumer died" >&2; tail "$H_DIR/consumer.log" >&2; exit 1; }
                        sleep 0.05
                done
                t1=$(now_ms)
                chunk=$((chunk + 1))
        }
        if [ "$WARMUP" -gt 0 ]; then
                feed_chunk "$WARMUP"
                printf 'warm-up: %d events applied in %d ms (not counted)\n' "$WARMUP" $((t1 - t0))
        fi
        ev0=$(metric followcdc_consumer_events_total)
        limit_us=0 chunk_cnt=$(((EVENTS + CHUNK - 1) / CHUNK))
        while [ "$done_events" -lt "$EVENTS" ]; do
                n=$CHUNK
                [ $((EVENTS - done_events)) -lt "$n" ] && n=$((EVENTS - done_events))
                feed_chunk "$n"
                cpu_c=$((cpu_c + $(cpu_ms "$cpid") - c0))
                for p in "${rpids[@]}"; do r0=$((r0 - $(cpu_ms "$p"))); done
                cpu_r=$((cpu_r - r0))
                cpu_b=$((cpu_b + $(cpu_ms "$bpid") - b0))
                busy_ms=$((busy_ms + t1 - t0))
                done_events=$((done_events + n))
                printf 'chunk %d: %d events applied in %d ms (%d events/s)' \
                        "$chunk" "$n" $((t1 - t0)) $((n * 1000 / (t1 - t0 > 0 ? t1 - t0 : 1)))
                if [ -n "$limit_port" ]; then
                        rb=$(redis_limit "$LIMIT_N")
                        printf '; redis-benchmark %s scripts/s' "$rb"
                        [ "${rb:-0}" -gt 0 ] &&
                                limit_us=$((limit_us + LIMIT_N * 1000000 / rb))
                fi
                echo
        done
        # the limit over this run's minutes: the scripts redis-benchmark
        # ran over the time they took
        limit_run=$((limit_us > 0 ? LIMIT_N * chunk_cnt * 1000000 / limit_us : 0))
        events=$(($(metric followcdc_consumer_events_total) - ev0))
        scripts=$(metric followcdc_apply_scripts_total)
        rtt=$(metric followcdc_apply_round_trips_total)
        rss_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$cpid/status")
        kill -TERM "$cpid"
        wait "$cpid"
        crc=$?
        trap h__cleanup EXIT
        eps=$((events * 1000 / (busy_ms > 0 ? busy_ms : 1)))
}

h_start_redis
H_KAFKA_JVM_OPTS="-XX:TieredStopAtLevel=4 ${H_KAFKA_JVM_OPTS:-}"
h_start_broker
sha=$(h_redis SCRIPT LOAD "$(cat "$LUA")")
limit_port=$H_REDIS_PORT
eps_runs=() rss_runs=() limit_runs=() sps_runs=()
for r in $(seq 1 "$RUNS"); do
        echo "---- run $r of $RUNS"
        h_redis FLUSHALL >/dev/null
        mem0=$(h_redis INFO memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
        bench_run --redis.port="$H_REDIS_PORT" "$(h_pid redis)"
        h_redis -n 1 FLUSHDB >/dev/null # redis-benchmark's keys
        if [ "$r" = "$RUNS" ]; then
                # what the consumer wrote
                edges=$(h_redis EVAL "local n = 0
for _, k in ipairs(redis.call('KEYS', 'fc:{u:*}:following')) do
  n = n + redis.call('ZCARD', k)
end
return n" 0)
                mem1=$(h_redis INFO memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
        fi
        limit_runs+=("$limit_run")
        sps_runs+=("$(awk -v s="$scripts" -v e="$events" -v p="$eps" 'BEGIN {printf "%.0f", e ? p * s / e : 0}')")
        echo "run $r: $eps events/s (${sps_runs[-1]} scripts/s), peak RSS $(awk -v k="$rss_kb" 'BEGIN {printf "%.1f", k / 1024}') MB; redis-benchmark ${limit_runs[-1]} scripts/s"
        eps_runs+=("$eps")
        rss_runs+=("$(awk -v k="$rss_kb" 'BEGIN {printf "%.1f", k / 1024}')")
done
b_summary "redis-benchmark scripts/s" "${limit_runs[@]}"
limit=$(b_median "${limit_runs[@]}")

spe=$(awk -v s="$scripts" -v e="$events" 'BEGIN {printf "%.2f", e ? s / e : 0}')
bpe=$(awk -v a="$mem0" -v b="$mem1" -v e="$edges" 'BEGIN {printf "%d", e ? (b - a) / e : 0}')
b_summary "consumer events/s" "${eps_runs[@]}"
b_summary "consumer peak RSS MB" "${rss_runs[@]}"
b_ratios "consumer/redis-benchmark scripts per run" "$RUNS" "${sps_runs[@]}" "${limit_runs[@]}"
eps=$(b_median "${eps_runs[@]}")
rss_mb=$(b_median "${rss_runs[@]}")
# the median of the per-run ratios: each compares the consumer with the
# limit of the same minutes
ratios=()
for ((i = 0; i < RUNS; i++)); do
        ratios+=("$(awk -v a="${sps_runs[i]}" -v b="${limit_runs[i]}" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')")
done
ratio=$(b_median "${ratios[@]}")
echo "events applied: $events in $busy_ms ms of apply time; scripts: $scripts in $rtt round trips"
echo "live edges in Redis: $edges; Redis memory: $mem0 -> $mem1 bytes"
echo "consumer: peak RSS $rss_mb MB (median), exit $crc on SIGTERM (last run)"
echo "CPU during apply: consumer $cpu_c ms, redis $cpu_r ms, broker $cpu_b ms (wall $busy_ms ms, $(nproc) cores shared)"
echo "redis-benchmark EVALSHA edge script (-P 64 -c 4): $limit scripts/s"
echo "consumer scripts/s vs Redis limit: $ratio (load $(cut -d' ' -f1 /proc/loadavg))"
if [ "${BENCH_INSTR:-1}" != 0 ] && [ "$CLUSTER" = 0 ]; then
        bash "$(cd "$(dirname "$0")" && pwd)/instr.sh" || echo "bench/instr.sh failed (valgrind missing?)"
fi
echo "RESULT consumer events_per_s=$eps redis_limit_scripts_per_s=$limit scripts_per_event=$spe rss_mb=$rss_mb redis_bytes_per_edge=$bpe broker=$BROKER"
[ "$CLUSTER" = 1 ] || exit 0

# The same events into a Redis Cluster of three masters (no replicas: the
# same CPU budget per write as the single node), through a fresh broker.
single_eps=$eps
h_stop redis
h_restart broker
h_start_redis_cluster --masters 3 --replicas 0
limit_port= # no redis-benchmark beside the cluster run
rpids=()
for p in $H_RCLUSTER_PORTS; do
        rpids+=("${H__RC_PID[$p]}")
done
echo "---- Redis Cluster: 3 masters ($H_RCLUSTER_NODES)"
bench_run --redis.cluster.nodes="$H_RCLUSTER_NODES" "${rpids[@]}"
echo "events applied: $events in $busy_ms ms of apply time; scripts: $scripts in $rtt round trips (one per master and flush)"
echo "consumer: peak RSS $(awk -v k="$rss_kb" 'BEGIN {printf "%.1f", k / 1024}') MB, exit $crc on SIGTERM"
echo "CPU during apply: consumer $cpu_c ms, 3 redis $cpu_r ms, broker $cpu_b ms (wall $busy_ms ms, $(nproc) cores shared)"
echo "RESULT consumer_cluster events_per_s=$eps nodes=3 single_node_events_per_s=$single_eps"
