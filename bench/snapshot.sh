#!/usr/bin/env bash
# bench/snapshot.sh: the producer's initial snapshot of a ROWS-row follow
# table (default 1,000,000), side by side in one run:
#   snapshot     followcdc-producer --snapshot publishing to the broker,
#                from its first row until every event is acknowledged
#                (bench.stop.at.end stops right after the snapshot, once
#                librdkafka has flushed)
#   no-publish   the same snapshot with bench.decode.only: reads and
#                encoding only, nothing published
#   plain scan   `mariadb --quick` reading the table to /dev/null, for
#                reference (what the server and the client protocol cost)
# Each measurement runs BENCH_RUNS times (3), interleaved; the median is
# reported, the runs and their spread above the RESULT line. rss_mb is the
# publishing producer's median peak RSS. Prints figures; asserts nothing.
# Last line:
#   RESULT snapshot rows_per_s=<n> no_publish_rows_per_s=<n> plain_scan_rows_per_s=<n> rss_mb=<n>
#
# Options: --broker=dev|kafka (default dev).
# Environment: CDC_BUILD_DIR (default <checkout>/build), ROWS, PARTITIONS
# (16), BENCH_RUNS (3), BENCH_ARGS (extra producer flags).
set -euo pipefail

BROKER=dev
for arg in "$@"; do
        case "$arg" in
        --broker=dev | --broker=kafka) BROKER=${arg#*=} ;;
        *) echo "bench/snapshot.sh: unknown argument '$arg' (--broker=dev|kafka)" >&2; exit 2 ;;
        esac
done
export CDC_BROKER=$BROKER

HERE=$(cd "$(dirname "$0")" && pwd)
: "${CDC_SOURCE_DIR:=$(cd "$HERE/.." && pwd)}"
: "${CDC_BUILD_DIR:=$CDC_SOURCE_DIR/build}"
export CDC_SOURCE_DIR CDC_BUILD_DIR
ROWS=${ROWS:-1000000}
PARTITIONS=${PARTITIONS:-16}
BIN=$CDC_BUILD_DIR/bin/followcdc-producer
H_NAME=bench-snapshot

# shellcheck source=../tests/lib/harness.sh
. "$CDC_SOURCE_DIR/tests/lib/harness.sh"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
RUNS=$(b_runs)
h_init
[ -x "$BIN" ] || h_fail "$BIN is not built"
h_start_mariadb
H_KAFKA_JVM_OPTS="-XX:TieredStopAtLevel=4 ${H_KAFKA_JVM_OPTS:-}"
h_start_broker --brokers 1 \
        --topic "followcdc.followcdc.follow:$PARTITIONS" \
        --topic "followcdc.followcdc.idempotent_log:$PARTITIONS" \
        --topic "followcdc.checkpoints:1"

h_log "filling follow with $ROWS rows"
h_mysql "INSERT INTO follow (follower_id, followee_id, status)
         SELECT seq DIV 1000 + 1, seq MOD 1000 + 1, 1
         FROM seq_0_to_$((ROWS - 1))" || h_fail "filling the table failed"
n=$(h_mysql "SELECT COUNT(*) FROM follow")
[ "$n" = "$ROWS" ] || h_fail "follow has $n rows, not $ROWS"

common=(--mysql.host=127.0.0.1 --mysql.port="$H_MYSQL_PORT"
        --mysql.user="$H_PRODUCER_USER" --mysql.password="$H_PRODUCER_PASS"
        --mysql.server.id=4243 --checkpoint.store=file --snapshot
        --bench.stop.at.end --log.level=notice)

mpid=$(h_pid mariadb) bpid=$(h_pid broker || h_pid kafka1 || echo 0)
# run_producer NAME ARGS...: one snapshot; sets rate rss_kb
run_producer() {
        local name=$1 rows m0 b0 w0
        shift
        rm -f "$H_DIR/ckpt-$name.json"
        m0=$(b_cpu_s "$mpid") b0=$(b_cpu_s "$bpid") w0=$(date +%s.%N)
        # shellcheck disable=SC2086
        "$BIN" "${common[@]}" --checkpoint.file="$H_DIR/ckpt-$name.json" "$@" \
                ${BENCH_ARGS:-} >"$H_DIR/$name.out" 2>"$H_DIR/$name.log" ||
                h_fail "$name run failed: $(tail -n 3 "$H_DIR/$name.log")"
        rows=$(b_figure 'BENCH rows' "$H_DIR/$name.out")
        [ "$rows" = "$ROWS" ] || h_fail "$name: $rows rows, not $ROWS"
        rate=$(b_figure rows_per_s "$H_DIR/$name.out")
        rss_kb=$(b_figure peak_rss_kb "$H_DIR/$name.out")
        echo "  $name: $(cat "$H_DIR/$name.out")"
        b_cpu_line "$H_DIR/$name.out" "$m0" "$b0" "$mpid" "$bpid" "$(echo "$(date +%s.%N) - $w0" | bc -l)"
}

pub=() nopub=() scan=() rss=()
for r in $(seq 1 "$RUNS"); do
        echo "run $r of $RUNS"
        run_producer publish --kafka.bootstrap.servers="$H_KAFKA_BOOTSTRAP"
        pub+=("$rate")
        rss+=("$(awk -v k="$rss_kb" 'BEGIN {printf "%.1f", k / 1024}')")
        run_producer nopublish --bench.decode.only
        nopub+=("$rate")
        t0=$(date +%s.%N)
        mariadb --no-defaults --quick -h 127.0.0.1 -P "$H_MYSQL_PORT" -uroot \
                -e "SELECT * FROM follow" "$H_MYSQL_DB" >/dev/null ||
                h_fail "mariadb --quick scan failed"
        t1=$(date +%s.%N)
        scan+=("$(echo "$ROWS / ($t1 - $t0)" | bc -l | cut -d. -f1)")
        echo "  plain scan: $ROWS rows in $(echo "$t1 - $t0" | bc -l | cut -c1-6) s"
done

b_summary "snapshot rows/s (acknowledged)" "${pub[@]}"
b_summary "snapshot rows/s (no publish)" "${nopub[@]}"
b_summary "plain scan rows/s" "${scan[@]}"
b_summary "producer peak RSS MB" "${rss[@]}"
b_ratios "snapshot/no-publish per run" "$RUNS" "${pub[@]}" "${nopub[@]}"
p=$(b_median "${pub[@]}") np=$(b_median "${nopub[@]}") s=$(b_median "${scan[@]}")
printf 'snapshot/no-publish = %.2fx, snapshot/plain scan = %.2fx (%s cores shared, load %s)\n' \
        "$(echo "$p / $np" | bc -l)" "$(echo "$p / $s" | bc -l)" "$(nproc)" \
        "$(cut -d' ' -f1 /proc/loadavg)"
printf 'RESULT snapshot rows_per_s=%.0f no_publish_rows_per_s=%.0f plain_scan_rows_per_s=%.0f rss_mb=%s\n' \
        "$p" "$np" "$s" "$(b_median "${rss[@]}")"
