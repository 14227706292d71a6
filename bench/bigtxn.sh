#!/usr/bin/env bash
# bench/bigtxn.sh: huge transactions through the whole pipeline. One
# transaction inserts ROWS follow rows (default 1,000,000: one INSERT ...
# SELECT), then one transaction deletes them all; followcdc-producer
# publishes them, followcdc-consumer applies them to Redis, both running
# throughout. Each phase is timed from its COMMIT until the consumer has
# applied its last event; a run is one insert and one delete, repeated
# BENCH_RUNS times (3). Redis must equal MySQL after the first insert and
# after the last delete (scripts/check-converged.py; the bench fails
# otherwise). Peak RSS (VmHWM) of both processes over all runs shows that
# neither holds a transaction in memory. Prints figures; asserts no time.
# Last line:
#   RESULT bigtxn rows=<ROWS> rows_per_s=<n> producer_rss_mb=<n> consumer_rss_mb=<n>
# where rows_per_s counts row changes (inserted and deleted rows) per
# second of the two phases, median of the runs.
#
# Options: --broker=kafka|dev. Apache Kafka is the default: the dev broker
# keeps only ~5 MiB per partition and would drop what the consumer has not
# read yet (the convergence check then fails).
# Environment: CDC_BUILD_DIR (default <checkout>/build), ROWS, PARTITIONS
# (16), BENCH_RUNS (3), BENCH_VERBOSE (1: progress every second),
# BENCH_PARGS / BENCH_CARGS (extra producer /
# consumer flags).
set -euo pipefail

BROKER=kafka
for arg in "$@"; do
        case "$arg" in
        --broker=dev | --broker=kafka) BROKER=${arg#*=} ;;
        *) echo "bench/bigtxn.sh: unknown argument '$arg' (--broker=kafka|dev)" >&2; exit 2 ;;
        esac
done
export CDC_BROKER=$BROKER

HERE=$(cd "$(dirname "$0")" && pwd)
: "${CDC_SOURCE_DIR:=$(cd "$HERE/.." && pwd)}"
: "${CDC_BUILD_DIR:=$CDC_SOURCE_DIR/build}"
export CDC_SOURCE_DIR CDC_BUILD_DIR
ROWS=${ROWS:-1000000}
PARTITIONS=${PARTITIONS:-16}
H_NAME=bench-bigtxn

# shellcheck source=../tests/lib/harness.sh
. "$CDC_SOURCE_DIR/tests/lib/harness.sh"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
RUNS=$(b_runs)
h_init
# shellcheck source=../tests/lib/e2e.sh
. "$CDC_SOURCE_DIR/tests/lib/e2e.sh"
e_require "$E_PBIN" "$E_CBIN"
E_SERVER_ID=4244
E_LOG_TAIL=10

h_start_mariadb --max-binlog-size=1073741824
h_start_redis
H_KAFKA_JVM_OPTS="-XX:TieredStopAtLevel=4 ${H_KAFKA_JVM_OPTS:-}"
h_start_broker --brokers 1 \
        --topic "followcdc.followcdc.follow:$PARTITIONS" \
        --topic "followcdc.followcdc.idempotent_log:1" \
        --topic "followcdc.checkpoints:1"
h_topic_create followcdc.dlq 1 >/dev/null 2>&1 || true

# shellcheck disable=SC2086
e_producer a --log.level=notice ${BENCH_PARGS:-}
e_wait_state p-a streaming 60 || h_fail "producer did not start streaming"
# shellcheck disable=SC2086
e_consumer a --log.level=warning ${BENCH_CARGS:-}
h_wait_for "[ \"\$(e_cmetric a followcdc_consumer_assigned_partitions)\" -gt 0 ]" 60 ||
        h_fail "the consumer got no partitions"
ppid=${E_PID[p-a]} cpid=${E_PID[c-a]} rpid=$(h_pid redis)

now_ms() { date +%s%3N; }
rss_mb() { awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
events() { e_cmetric a followcdc_consumer_events_total; }
# CPU time (ms) used so far by a process
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# phase SQL: run SQL (one transaction), wait until the consumer applied
# ROWS more events; sets ms (from COMMIT to the last event applied)
phase() {
        local sql=$1 want t0 n i=0 c0 p0 r0
        want=$(($(events) + ROWS))
        c0=$(cpu_ms "$cpid") p0=$(cpu_ms "$ppid") r0=$(cpu_ms "$rpid")
        h_mysql "$sql" || h_fail "$sql failed"
        t0=$(now_ms)
        while :; do
                n=$(events)
                [ "${n:-0}" -ge "$want" ] && break
                if [ -n "${BENCH_VERBOSE:-}" ] && [ $((i++ % 10)) = 0 ]; then
                        echo "  $(($(now_ms) - t0)) ms: produced $(e_metric p-a followcdc_producer_events_produced_total), acknowledged $(e_metric p-a followcdc_producer_events_acked_total), applied ${n:-?} of $want"
                fi
                e_alive p-a || h_fail "the producer died"
                e_alive c-a || h_fail "the consumer died"
                sleep 0.1
        done
        ms=$(($(now_ms) - t0))
        cpu="CPU producer $(($(cpu_ms "$ppid") - p0)) ms, consumer $(($(cpu_ms "$cpid") - c0)) ms, redis $(($(cpu_ms "$rpid") - r0)) ms"
}

rates=() ins=() del=()
for r in $(seq 1 "$RUNS"); do
        phase "INSERT INTO follow (follower_id, followee_id, status)
               SELECT seq DIV 1000 + 1, seq MOD 1000 + 1, 1
               FROM seq_0_to_$((ROWS - 1))"
        ims=$ms icpu=$cpu
        if [ "$r" = 1 ]; then
                e_converged "after inserting $ROWS rows in one transaction" 600
        fi
        phase "DELETE FROM follow"
        dms=$ms dcpu=$cpu
        ins+=("$((ROWS * 1000 / (ims > 0 ? ims : 1)))")
        del+=("$((ROWS * 1000 / (dms > 0 ? dms : 1)))")
        rates+=("$((2 * ROWS * 1000 / (ims + dms > 0 ? ims + dms : 1)))")
        echo "run $r of $RUNS: insert of $ROWS rows applied $ims ms after its commit ($icpu), delete $dms ms ($dcpu); peak RSS so far: producer $(rss_mb "$ppid") MB, consumer $(rss_mb "$cpid") MB"
done
e_converged "after deleting them in one transaction" 600
prss=$(rss_mb "$ppid") crss=$(rss_mb "$cpid")
e_stop c-a || h_fail "consumer exited $E_RC on SIGTERM"
e_stop p-a || h_fail "producer exited $E_RC on SIGTERM"

b_summary "insert phase rows/s" "${ins[@]}"
b_summary "delete phase rows/s" "${del[@]}"
b_summary "row changes/s (insert + delete)" "${rates[@]}"
echo "peak RSS over all runs: producer $prss MB, consumer $crss MB (broker $BROKER, $(nproc) cores shared, load $(cut -d' ' -f1 /proc/loadavg))"
echo "RESULT bigtxn rows=$ROWS rows_per_s=$(b_median "${rates[@]}") producer_rss_mb=$prss consumer_rss_mb=$crss"
