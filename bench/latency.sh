#!/usr/bin/env bash
# bench/latency.sh: commit -> Redis visibility latency, per change, at a
# steady write rate, through the whole pipeline (MariaDB, followcdc-producer,
# Kafka, followcdc-consumer, Redis), against the dev broker and Apache
# Kafka. For each broker and each rate: fresh servers, the producer and one
# consumer with their default settings, then bench/latency.py writes new
# follow rows at RATE rows/s for SECS seconds (transactions of 5 rows) and
# times each row from its created_at to the Redis keyspace notification of
# its new key. Prints figures; asserts nothing. One line per run, the last
# one Kafka at the highest rate:
#   RESULT latency broker=<kafka|dev> rate=<rows/s> p50_ms=<n> p99_ms=<n> max_ms=<n> written_per_s=<n>
# (rate is the target, written_per_s the rate the writer reached: on a
# busy machine it may fall short, and the figures then say little.)
#
# Options: --broker=dev|kafka|both (both), --rates=1000,5000, --secs=30.
# Environment: CDC_BUILD_DIR (default <checkout>/build); BENCH_CONSUMER_ARGS
# and BENCH_PRODUCER_CONF (extra consumer flags / producer K=V lines).
# On the dev broker the consumer runs with kafka.fetch.wait.max.ms=5, as in
# the local stack: the mock answers a fetch only when fetch.wait.max.ms
# (500 ms by default) has passed if it had nothing at first, where a real
# broker answers as soon as a message arrives.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
brokers=both
rates=1000,5000
secs=30
for arg in "$@"; do
        [ "${1:-}" = --one ] && break
        case "$arg" in
        --broker=*) brokers=${arg#*=} ;;
        --rates=*) rates=${arg#*=} ;;
        --secs=*) secs=${arg#*=} ;;
        -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "latency: unknown argument '$arg'" >&2; exit 2 ;;
        esac
done

# ---- one run: bench/latency.sh --one BROKER RATE SECS -------------------
if [ "${1:-}" = --one ]; then
        broker=$2 rate=$3 secs=$4
        export CDC_BROKER=$broker
        H_NAME=bench-latency-$broker-$rate
        # shellcheck source=../tests/lib/harness.sh
        . "$HERE/../tests/lib/harness.sh"
        h_init
        # shellcheck source=../tests/lib/e2e.sh
        . "$H_LIB_DIR/e2e.sh"
        e_require "$E_PBIN" "$E_CBIN"
        h_start_mariadb
        h_start_redis notify-keyspace-events Kz
        # full JIT for a broker that has to keep up for a while
        H_KAFKA_JVM_OPTS="-XX:TieredStopAtLevel=4 ${H_KAFKA_JVM_OPTS:-}"
        h_start_broker
        h_topic_create followcdc.followcdc.follow 4
        h_topic_create followcdc.followcdc.idempotent_log 2
        E_SERVER_ID=4343
        pport=$(h_free_port)
        # shellcheck disable=SC2086
        mapfile -t E_PRODUCER_CONF < <(printf '%s\n' \
                "http.listen=127.0.0.1:$pport" ${BENCH_PRODUCER_CONF:-})
        e_producer a --log.level=warning
        h_wait_for "curl -fs http://127.0.0.1:$pport/readyz" 60 ||
                h_fail "producer not ready (streaming)"
        port=$(h_free_port)
        extra=()
        [ "$broker" = dev ] && extra+=(--kafka.fetch.wait.max.ms=5)
        # shellcheck disable=SC2086
        e_spawn c "$H_DIR/c.log" "$H_DIR/c.log" "$E_CBIN" \
                --kafka.bootstrap.servers="$H_KAFKA_BOOTSTRAP" \
                --redis.port="$H_REDIS_PORT" --http.listen="127.0.0.1:$port" \
                --log.level=warning "${extra[@]}" ${BENCH_CONSUMER_ARGS:-}
        h_wait_for "curl -fs http://127.0.0.1:$port/metrics |
                grep -q '^followcdc_consumer_assigned_partitions [1-9]'" 60 ||
                h_fail "consumer got no partitions"
        /usr/bin/python3 "$HERE/latency.py" --socket "$H_MYSQL_SOCK" \
                --db "$H_MYSQL_DB" --redis-port "$H_REDIS_PORT" \
                --rate "$rate" --secs "$secs" --broker "$broker"
        rc=$?
        e_stop c
        e_stop p-a
        exit "$rc"
fi

# ---- every broker x rate, each in its own process (fresh servers) -------
case "$brokers" in
both) list="dev kafka" ;;
dev | kafka) list=$brokers ;;
*) echo "latency: --broker=dev|kafka|both" >&2; exit 2 ;;
esac
results=()
rc=0
for b in $list; do
        for r in ${rates//,/ }; do
                out=$(bash "$0" --one "$b" "$r" "$secs" 2>"${TMPDIR:-/tmp}/latency-$b-$r.err") || rc=1
                printf '%s\n' "$out" | grep -v '^RESULT '
                line=$(grep '^RESULT ' <<<"$out")
                if [ -z "$line" ]; then
                        echo "latency: $b at $r rows/s failed:" >&2
                        tail -n 15 "${TMPDIR:-/tmp}/latency-$b-$r.err" >&2
                else
                        results+=("$line")
                fi
                rm -f "${TMPDIR:-/tmp}/latency-$b-$r.err"
        done
done
printf '%s\n' "${results[@]}"
exit "$rc"
