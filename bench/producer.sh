#!/usr/bin/env bash
# bench/producer.sh: producer throughput on a binlog of ROWS single-row
# changes (default 1,000,000), side by side in one run:
#   producer     followcdc-producer publishing to the dev broker or Apache
#                Kafka (until every message is acknowledged)
#   decode-only  followcdc-producer --bench.decode.only: read, decode and
#                encode the JSON events, publish nothing
#   mariadb-binlog --read-from-remote-server --verbose on the same binlog
# plus the producer's peak RSS and, for each pass, where the CPU went (the
# producer's main thread, its publisher thread, librdkafka's threads,
# MariaDB, the broker) and the ceiling that CPU allows on this machine's
# cores (bench/lib.sh b_cpu_line). Each of the three runs BENCH_RUNS times (3),
# interleaved, the producer between the two others and their order
# alternating from run to run; the medians are reported, the runs, their
# spread and the per-run ratios above the RESULT lines, with the main
# thread's CPU cost of handing messages over to the publisher and the
# ceiling the run's CPU would allow if that cost were zero, and how long
# the main thread waited for the publisher and the publisher for room in
# librdkafka's queue (the BENCH line's publisher_wait_s and
# kafka_queue_wait_s). Then
# bench/instr.sh prints the instruction counts (BENCH_INSTR=0 skips them).
# Prints figures; asserts nothing.
# Last lines:
#   RESULT instr producer_per_row=<n> consumer_per_row=<n>
#   RESULT producer rows_per_s=<n> decode_only_rows_per_s=<n> mariadb_binlog_rows_per_s=<n> rss_mb=<n> broker=<dev|kafka>
#
# Options: --broker=dev|kafka publishes to the dev broker (default) or to
# Apache Kafka (tests/lib/kafka.sh, one node, full JIT).
# Environment: CDC_BUILD_DIR (default <checkout>/build), ROWS, TXN_ROWS
# (rows per transaction, default 10), PARTITIONS (default 16), BENCH_RUNS
# (3), BENCH_INSTR (1), BENCH_ARGS (extra flags of the publishing run, e.g.
# "--kafka.linger.ms=50"), BENCH_WRAP (a command both producer runs are
# started with, e.g. a profiler).
set -euo pipefail

BROKER=dev
for arg in "$@"; do
        case "$arg" in
        --broker=dev | --broker=kafka) BROKER=${arg#*=} ;;
        *) echo "bench/producer.sh: unknown argument '$arg' (--broker=dev|kafka)" >&2; exit 2 ;;
        esac
done
export CDC_BROKER=$BROKER

HERE=$(cd "$(dirname "$0")" && pwd)
: "${CDC_SOURCE_DIR:=$(cd "$HERE/.." && pwd)}"
: "${CDC_BUILD_DIR:=$CDC_SOURCE_DIR/build}"
export CDC_SOURCE_DIR CDC_BUILD_DIR
ROWS=${ROWS:-1000000}
TXN_ROWS=${TXN_ROWS:-10}
PARTITIONS=${PARTITIONS:-16}
BIN=$CDC_BUILD_DIR/bin/followcdc-producer

# shellcheck source=../tests/lib/harness.sh
. "$CDC_SOURCE_DIR/tests/lib/harness.sh"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
RUNS=$(b_runs)
h_init
[ -x "$BIN" ] || h_fail "$BIN is not built"
h_start_mariadb --max-binlog-size=1073741824
H_KAFKA_JVM_OPTS="-XX:TieredStopAtLevel=4 ${H_KAFKA_JVM_OPTS:-}"
h_start_broker --brokers 1 \
        --topic "followcdc.followcdc.follow:$PARTITIONS" \
        --topic "followcdc.followcdc.idempotent_log:$PARTITIONS" \
        --topic "followcdc.checkpoints:1"

start_gtid=$(h_mysql "SELECT @@gtid_binlog_pos")
read -r start_file start_pos < <(h_mysql "SHOW MASTER STATUS" | cut -f1,2)

# ---- the binlog: ROWS inserts into follow, TXN_ROWS per transaction ----
h_log "writing $ROWS single-row changes ($TXN_ROWS per transaction)"
t0=$(date +%s.%N)
h_mysql <<SQL || h_fail "filling the binlog failed"
DELIMITER //
CREATE PROCEDURE bench_fill(n INT, per INT, base INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  SET autocommit = 0;
  WHILE i < n DO
    INSERT INTO follow (follower_id, followee_id, status)
      VALUES (base + i DIV 1000 + 1, i MOD 1000 + 1, 1);
    SET i = i + 1;
    IF i MOD per = 0 THEN COMMIT; END IF;
  END WHILE;
  COMMIT;
END //
DELIMITER ;
CALL bench_fill($ROWS, $TXN_ROWS, 0);
SQL
t1=$(date +%s.%N)
h_log "filled in $(echo "$t1 - $t0" | bc) s"
mapfile -t logs < <(h_mysql "SHOW BINARY LOGS" | cut -f1)
h_log "binlog files: ${logs[*]} ($(du -sh "$H_DIR/mariadb/data" | cut -f1) data)"

ckpt_rec() {
        printf '{"source":"followcdc","position":"gtid=%s;file=%s;pos=%s","ts_ms":0}\n' \
                "$start_gtid" "$start_file" "$start_pos"
}

common=(--mysql.host=127.0.0.1 --mysql.port="$H_MYSQL_PORT"
        --mysql.user="$H_PRODUCER_USER" --mysql.password="$H_PRODUCER_PASS"
        --mysql.server.id=4242 --checkpoint.store=file
        --bench.stop.at.end --log.level=notice)

mpid=$(h_pid mariadb) bpid=$(h_pid broker || h_pid kafka1 || echo 0)

dec=() mb=() prod=() rss=() ceil=() dmain=() pmain=() ptotal=() pwait=() qwait=()
# ---- (a) decode only ----
pass_decode() {
        ckpt_rec >"$H_DIR/ckpt-decode.json"
        m0=$(b_cpu_s "$mpid") b0=$(b_cpu_s "$bpid") w0=$(date +%s.%N)
        ${BENCH_WRAP:-} "$BIN" "${common[@]}" --checkpoint.file="$H_DIR/ckpt-decode.json" \
                --bench.decode.only >"$H_DIR/decode.out" 2>"$H_DIR/decode.log" ||
                h_fail "decode-only run failed: $(tail -n 3 "$H_DIR/decode.log")"
        echo "  decode-only: $(cat "$H_DIR/decode.out")"
        b_cpu_line "$H_DIR/decode.out" "$m0" "$b0" "$mpid" "$bpid" "$(echo "$(date +%s.%N) - $w0" | bc -l)"
        dmain+=("$B_MAIN")
        dec+=("$(b_figure rows_per_s "$H_DIR/decode.out")")
        dec_rows=$(b_figure 'BENCH rows' "$H_DIR/decode.out")
}

# ---- (b) mariadb-binlog on the same binlog ----
pass_mariadb_binlog() {
        t0=$(date +%s.%N)
        mariadb-binlog --no-defaults --read-from-remote-server -h 127.0.0.1 \
                -P "$H_MYSQL_PORT" -uroot --verbose \
                --start-position="$start_pos" "${logs[@]}" >"$H_DIR/mb.txt" ||
                h_fail "mariadb-binlog failed"
        t1=$(date +%s.%N)
        mb_rows=$(grep -c '^### INSERT INTO' "$H_DIR/mb.txt" || true)
        mb_secs=$(echo "$t1 - $t0" | bc -l)
        mb+=("$(echo "$mb_rows / $mb_secs" | bc -l | cut -d. -f1)")
        echo "  mariadb-binlog rows=$mb_rows seconds=$mb_secs rows_per_s=${mb[-1]}"
        rm -f "$H_DIR/mb.txt"
}

# ---- (c) the producer, publishing ----
pass_producer() {
        ckpt_rec >"$H_DIR/ckpt-prod.json"
        m0=$(b_cpu_s "$mpid") b0=$(b_cpu_s "$bpid") w0=$(date +%s.%N)
        # shellcheck disable=SC2086
        ${BENCH_WRAP:-} "$BIN" "${common[@]}" --checkpoint.file="$H_DIR/ckpt-prod.json" \
                --kafka.bootstrap.servers="$H_KAFKA_BOOTSTRAP" ${BENCH_ARGS:-} \
                >"$H_DIR/prod.out" 2>"$H_DIR/prod.log" ||
                h_fail "producer run failed: $(tail -n 3 "$H_DIR/prod.log")"
        echo "  producer: $(cat "$H_DIR/prod.out")"
        b_cpu_line "$H_DIR/prod.out" "$m0" "$b0" "$mpid" "$bpid" "$(echo "$(date +%s.%N) - $w0" | bc -l)"
        ceil+=("$B_CEIL") pmain+=("$B_MAIN") ptotal+=("$B_TOTAL")
        prod+=("$(b_figure rows_per_s "$H_DIR/prod.out")")
        prod_rows=$(b_figure 'BENCH rows' "$H_DIR/prod.out")
        rss+=("$(b_figure peak_rss_kb "$H_DIR/prod.out")")
        pwait+=("$(b_figure publisher_wait_s "$H_DIR/prod.out")")
        qwait+=("$(b_figure kafka_queue_wait_s "$H_DIR/prod.out")")
}

# Instructions per row of each thread, publishing and decode-only, under
# callgrind (one thread per file) on INSTR_ROWS (100,000) more rows written
# after the passes' binlog: independent of the machine's load, they say
# what the hand-over costs the main thread in instructions (publishing
# minus decode-only) and what the publisher and librdkafka's threads
# execute per message, beside the CPU seconds the passes measured (the
# same instructions take longer where threads share cores and caches).
instr_threads() {
        local n=${INSTR_ROWS:-100000} d f pub main rest mode
        command -v valgrind >/dev/null || return 1
        start_gtid=$(h_mysql "SELECT @@gtid_binlog_pos")
        read -r start_file start_pos < <(h_mysql "SHOW MASTER STATUS" | cut -f1,2)
        h_mysql "CALL bench_fill($n, $TXN_ROWS, 1000000)" || return 1
        for mode in decode prod; do
                d=$H_DIR/cg-$mode
                rm -rf "$d" && mkdir -p "$d"
                ckpt_rec >"$H_DIR/ckpt-cg-$mode.json"
                local extra=(--bench.decode.only)
                [ "$mode" = prod ] && extra=(--kafka.bootstrap.servers="$H_KAFKA_BOOTSTRAP")
                valgrind --tool=callgrind --separate-threads=yes -q \
                        --callgrind-out-file="$d/cg.%p" "$BIN" "${common[@]}" \
                        --checkpoint.file="$H_DIR/ckpt-cg-$mode.json" "${extra[@]}" \
                        >"$d/out" 2>"$d/log" || return 1
                main=0 pub=0 rest=0
                for f in "$d"/cg.*; do
                        local ir
                        ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$f")
                        case "$f" in
                        *-01) main=$((main + ir)) ;;
                        *) if grep -q kprod_pub_main "$f"; then pub=$((pub + ir)); else rest=$((rest + ir)); fi ;;
                        esac
                done
                eval "${mode}_main=$main ${mode}_pub=$pub ${mode}_rest=$rest"
        done
        # shellcheck disable=SC2154 # set by the eval above
        awk -v n="$n" -v dm="$decode_main" -v pm="$prod_main" -v pp="$prod_pub" -v pr="$prod_rest" 'BEGIN {
                printf "instr per row by thread (%d rows, callgrind): decode-only main thread %.0f; publishing main thread %.0f (hand-over %.0f), publisher %.0f, librdkafka'"'"'s threads %.0f\n",
                        n, dm / n, pm / n, (pm - dm) / n, pp / n, pr / n }'
}

# The producer pass runs between the two references, and the order
# alternates from run to run (decode-only, producer, mariadb-binlog; then
# mariadb-binlog, producer, decode-only): on a shared machine whose speed
# drifts over seconds, each per-run ratio then compares passes made one
# after the other, and a drift within a run counts once each way.
for r in $(seq 1 "$RUNS"); do
        echo "run $r of $RUNS"
        if [ $((r % 2)) = 1 ]; then
                pass_decode
                pass_producer
                pass_mariadb_binlog
        else
                pass_mariadb_binlog
                pass_producer
                pass_decode
        fi
        [ "$prod_rows" = "$dec_rows" ] ||
                h_log "note: producer saw $prod_rows rows, decode-only $dec_rows"
done
b_summary "producer rows/s" "${prod[@]}"
b_summary "decode-only rows/s" "${dec[@]}"
b_summary "mariadb-binlog rows/s" "${mb[@]}"
b_summary "producer peak RSS kB" "${rss[@]}"
b_ratios "producer/decode-only per run" "$RUNS" "${prod[@]}" "${dec[@]}"
b_ratios "producer/mariadb-binlog per run" "$RUNS" "${prod[@]}" "${mb[@]}"
# what the producer could reach with the CPU it used, scheduled perfectly:
# below 0.8 of decode-only, the CPU per row, not the waiting, is the gap
b_ratios "producer ceiling/decode-only per run" "$RUNS" "${ceil[@]}" "${dec[@]}"
# What the hand-over to the publisher costs the main thread (its CPU
# publishing minus its CPU decode-only, same run: the copy into the ring,
# the in-flight tracking, the delivery reports, the waits), and the
# ceiling if that cost were zero: rows / max(main thread decode-only, the
# rest of the CPU / cores). Below 0.8 of decode-only, the CPU of
# librdkafka, MariaDB and the broker on these cores alone keeps the
# producer under 0.8; above it, the hand-over and the scheduling are the
# gap.
hand=() free_ceil=()
for ((i = 0; i < RUNS; i++)); do
        hand+=("$(awk -v p="${pmain[i]}" -v d="${dmain[i]}" 'BEGIN {printf "%.2f", p - d}')")
        free_ceil+=("$(awk -v r="$prod_rows" -v d="${dmain[i]}" -v p="${pmain[i]}" \
                -v t="${ptotal[i]}" -v n="$(nproc)" -v dr="${dec[i]}" 'BEGIN {
                        w = (t - (p - d)) / n; if (d > w) w = d
                        printf "%.3f", (w > 0 && dr > 0 ? r / w / dr : 0) }')")
done
b_summary "main thread hand-over s per pass (publishing - decode-only)" "${hand[@]}"
# where the waiting was: the main thread for room in the publisher's ring
# (the publisher behind), the publisher for room in librdkafka's queue
# (acknowledgements behind)
b_summary "main thread waited for the publisher s per pass" "${pwait[@]}"
b_summary "publisher waited for librdkafka's queue s per pass" "${qwait[@]}"
b_summary "producer ceiling with a free hand-over/decode-only per run" "${free_ceil[@]}"
prod_rate=$(b_median "${prod[@]}") dec_rate=$(b_median "${dec[@]}")
mb_rate=$(b_median "${mb[@]}") rss_kb=$(b_median "${rss[@]}")

printf 'producer/mariadb-binlog = %.2fx, producer/decode-only = %.2fx (%s cores shared, load %s)\n' \
        "$(echo "$prod_rate / $mb_rate" | bc -l)" \
        "$(echo "$prod_rate / $dec_rate" | bc -l)" "$(nproc)" \
        "$(cut -d' ' -f1 /proc/loadavg)"
if [ "${BENCH_INSTR:-1}" != 0 ]; then
        instr_threads || h_log "the instructions per thread could not be counted (valgrind missing?)"
        bash "$HERE/instr.sh" || h_log "bench/instr.sh failed (valgrind missing?)"
fi
printf 'RESULT producer rows_per_s=%.0f decode_only_rows_per_s=%.0f mariadb_binlog_rows_per_s=%.0f rss_mb=%.0f broker=%s\n' \
        "$prod_rate" "$dec_rate" "$mb_rate" "$(echo "$rss_kb / 1024" | bc -l)" "$BROKER"
