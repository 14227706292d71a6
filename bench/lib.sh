# shellcheck shell=bash
# bench/lib.sh: helpers shared by the bench scripts (sourced).
#
#   b_median V...          the median of the values (the lower middle of an
#                          even count), integers or decimals
#   b_summary NAME V...    one line "NAME: runs a b c; median m (spread
#                          s %)" on stdout, where spread is (max - min) /
#                          median; the benches print it above RESULT
#   b_ratios NAME N A1..AN B1..BN
#                          the ratios A_i / B_i of two passes run side by
#                          side, as a b_summary line: a pass alone swings
#                          with the host, the ratio within one run less
#   b_runs                 how many times each measurement repeats:
#                          BENCH_RUNS (default 3, at least 1)
#   b_figure NAME FILE     the number after the last "NAME=" in FILE
#                          (NAME a whole word: cpu_s is not main_cpu_s)
#   b_cpu_s PID            CPU seconds (user + system) a process used so
#                          far; 0 if it is gone
#   b_cpu_line OUT M0 B0 MPID BPID WALL
#                          where the CPU of one producer pass went: OUT is
#                          its BENCH line (cpu_s, main_cpu_s, main_runq_s),
#                          M0 and B0 what MariaDB (MPID) and the broker
#                          (BPID) had used before it, WALL the seconds the
#                          process ran; prints one "cpu:" line with the
#                          cores the pass kept busy and how long its main
#                          thread waited, runnable, for a core (a pass
#                          slowed by the host shows there). The producer's
#                          CPU is split into its main thread (decoding and
#                          encoding), the publisher thread and librdkafka's
#                          threads. Sets B_CEIL: the rows/s the pass could
#                          reach at best with the CPU it used, every
#                          thread busy and none waiting: rows / max(main
#                          thread CPU, all CPU / cores). A goal above that
#                          needs less CPU, not better scheduling.

b_runs() {
        local n=${BENCH_RUNS:-3}
        [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] || n=3
        echo "$n"
}

b_median() {
        printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

b_summary() {
        local name=$1
        shift
        printf '%s\n' "$@" | sort -g | awk -v n="$name" -v runs="$*" '
                {v[NR] = $1}
                END {
                        m = v[int((NR + 1) / 2)]
                        s = m > 0 ? (v[NR] - v[1]) * 100 / m : 0
                        printf "%s: runs %s; median %s (spread %.1f %%)\n", n, runs, m, s
                }'
}

b_ratios() {
        local name=$1 n=$2 i
        shift 2
        local a=("${@:1:n}") b=("${@:n+1:n}") r=()
        for ((i = 0; i < n; i++)); do
                r+=("$(awk -v x="${a[i]}" -v y="${b[i]}" 'BEGIN {printf "%.3f", (y > 0 ? x / y : 0)}')")
        done
        b_summary "$name" "${r[@]}"
}

b_figure() {
        sed -n "s/\(^\|.* \)$1=\([0-9.]*\).*/\2/p" "$2" | tail -n 1
}

b_cpu_s() {
        awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0
}

b_cpu_line() {
        local secs=$6 cpu main pub rdk m b runq rows
        cpu=$(b_figure cpu_s "$1") main=$(b_figure main_cpu_s "$1")
        pub=$(b_figure publisher_cpu_s "$1") rdk=$(b_figure rdkafka_cpu_s "$1")
        runq=$(b_figure main_runq_s "$1") rows=$(b_figure 'BENCH rows' "$1")
        m=$(echo "$(b_cpu_s "$4") - $2" | bc -l) b=$(echo "$(b_cpu_s "$5") - $3" | bc -l)
        # for the caller too: all the CPU of the pass and the main thread's
        B_TOTAL=$(echo "$cpu + $m + $b" | bc -l) B_MAIN=$main
        printf '    cpu: producer %.2f s (main thread %.2f s, publisher %.2f s, librdkafka %.2f s), mariadb %.2f s, broker %.2f s; %.2f of %s cores busy over %.2f s; main thread waited %.2f s for a core\n' \
                "$cpu" "$main" "${pub:-0}" "${rdk:-0}" "$m" "$b" \
                "$(echo "$B_TOTAL / $secs" | bc -l)" "$(nproc)" "$secs" \
                "${runq:-0}"
        B_CEIL=$(awk -v r="${rows:-0}" -v all="$B_TOTAL" -v mt="$main" \
                -v n="$(nproc)" 'BEGIN {
                        t = all / n; if (mt > t) t = mt
                        printf "%.0f", (t > 0 ? r / t : 0) }')
        printf '    ceiling: %s rows/s with this CPU on %s cores (every thread busy, none waiting)\n' \
                "$B_CEIL" "$(nproc)"
}
