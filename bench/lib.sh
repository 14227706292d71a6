# shellcheck shell=bash
# bench/lib.sh: helpers shared by the bench scripts (sourced).
#
#   b_median V...          the median of the values (the lower middle of an
#                          even count), integers or decimals
#   b_summary NAME V...    one line "NAME: runs a b c; median m (spread
#                          s %)" on stdout, where spread is (max - min) /
#                          median; the benches print it above RESULT
#   b_runs                 how many times each measurement repeats:
#                          BENCH_RUNS (default 3, at least 1)

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
