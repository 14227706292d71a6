# shellcheck shell=bash
#
# Several MariaDB sources ("shards") feeding one Redis, for the tests of
# sharded deployments (label sources). Source it after tests/lib/e2e.sh
# (the one-line preamble: `. tests/lib/test.sh e2e`, then this file):
#
#   . "$H_LIB_DIR/shards.sh"
#   s_start_shards 3                  # MariaDB shards 1..3
#   h_start_redis; h_start_broker
#   s_producer 1 a; s_producer 2 a; s_producer 3 a
#   e_consumer a "${S_CONSUMER_FLAGS[@]}"
#   s_check --wait 60 || h_fail "Redis is not the union of the shards"
#
# Shard 1 is the harness's own MariaDB (h_start_mariadb: H_MYSQL_SOCK,
# h_mysql, e_check); shards 2..N are more private instances in
# $H_DIR/mariadb-s<K>, stopped at exit like every tracked process. Every
# shard has its own server id (10 + K), GTID domain (K), binlog and
# positions, the same database, tables and accounts.
#
# API:
#   s_start_shards N [MARIADBD_ARGS]  start shards 1..N; exports
#                            S_SHARDS (N), S_SOCK[K], S_PORT[K]
#   s_mysql K ["SQL"]        root on shard K (as h_mysql: tab separated,
#                            no header; no SQL: read stdin)
#   s_producer_conf K FILE [K=V]...  config of the producer of shard K:
#                            source.name s<K>, mysql.server.id 100 + K,
#                            checkpoint file $H_DIR/p-s<K>.ckpt, /metrics
#                            on a free port (e_wait_state), then the K=V
#                            lines (and S_PRODUCER_CONF)
#   s_producer K NAME [FLAGS...]  followcdc-producer of shard K, key
#                            p-s<K>-NAME, log $H_DIR/p-s<K>-NAME.log
#   s_wait_streaming K NAME  until that producer's state is streaming
#   s_consumer_flags         fill S_CONSUMER_FLAGS: the flags a consumer
#                            of all shards needs (source.name s1, sources
#                            s1..sN: the topics of every shard)
#   s_check [ARGS]           scripts/check-converged.py on the union of
#                            the shards (--shard for 2..N)
#   s_converged WHAT [SECS]  s_check --wait SECS (90), h_fail otherwise
#
# Knobs: S_PRODUCER_CONF=(K=V...) more lines for every shard's producer.

S_SHARDS=0
declare -A S_SOCK=() S_PORT=()
S_PRODUCER_CONF=()
S_CONSUMER_FLAGS=()
S__K=
S__EXTRA=()

s__ping() {
        mariadb-admin --no-defaults --connect-timeout=2 -S "${S_SOCK[$S__K]}" \
                -uroot ping >/dev/null 2>&1
}

# launch shard S__K on S_PORT[S__K] (h__launch_on_port's contract: 0 up,
# 2 port taken, 1 failed)
s__launch() {
        local k=$S__K dir=$H_DIR/mariadb-s$S__K logoff
        S_PORT[$k]=$S__PORTV
        : >>"$dir/error.log"
        logoff=$(wc -c <"$dir/error.log")
        setsid mariadbd --no-defaults --user=root \
                --datadir="$dir/data" --tmpdir="$dir/tmp" \
                --socket="${S_SOCK[$k]}" --port="${S_PORT[$k]}" \
                --bind-address=127.0.0.1 --skip-name-resolve \
                --pid-file="$dir/mariadbd.pid" --log-error="$dir/error.log" \
                --log-bin=mysql-bin --binlog-format=ROW \
                --binlog-row-image=FULL --binlog-row-metadata=FULL \
                --server-id=$((10 + k)) --gtid-domain-id="$k" \
                --gtid-strict-mode=1 \
                --innodb-buffer-pool-size=32M --innodb-log-file-size=8M \
                --innodb-use-native-aio=0 --innodb-flush-log-at-trx-commit=2 \
                --performance-schema=OFF --max-connections=200 \
                --character-set-server=utf8mb4 \
                --collation-server=utf8mb4_bin \
                "${S__EXTRA[@]}" </dev/null >>"$dir/error.log" 2>&1 &
        printf -v "H__PID_shard$k" '%s' "$!"
        h__await_up "shard$k" "$dir/error.log" "$logoff" s__ping
}

s__start_extra() {
        local k=$1 dir=$H_DIR/mariadb-s$1 sql=$CDC_SOURCE_DIR/schemas/mysql
        local pidvar=H__PID_shard$1
        mkdir -p "$dir/tmp"
        S_SOCK[$k]=$dir/mysql.sock
        mariadb-install-db --no-defaults --user=root \
                --datadir="$dir/data" --tmpdir="$dir/tmp" \
                --skip-test-db --force \
                --auth-root-authentication-method=normal \
                --innodb-buffer-pool-size=32M \
                --innodb-log-file-size=8M --innodb-use-native-aio=0 \
                >"$dir/install.log" 2>&1 ||
                { tail -n 20 "$dir/install.log" >&2;
                  h_fail "mariadb-install-db failed for shard $k"; }
        S__K=$k
        h__launch_on_port S__PORTV H_WANT_SHARD_PORT s__launch "shard $k"
        h_track_pid "${!pidvar}"
        mariadb --no-defaults -S "${S_SOCK[$k]}" -uroot \
                -e "CREATE DATABASE IF NOT EXISTS \`$H_MYSQL_DB\`" ||
                h_fail "shard $k: create database"
        mariadb --no-defaults -S "${S_SOCK[$k]}" -uroot "$H_MYSQL_DB" \
                <"$sql/001-tables.sql" || h_fail "shard $k: tables"
        sed -e "s/change-me-producer/$H_PRODUCER_PASS/" \
            -e "s/change-me-consumer/$H_CONSUMER_PASS/" \
            -e "s/\\bfollowcdc\\./\`$H_MYSQL_DB\`./g" \
            "$sql/002-grants.sql" |
                mariadb --no-defaults -S "${S_SOCK[$k]}" -uroot ||
                h_fail "shard $k: grants"
        h_log "shard $k up: port ${S_PORT[$k]} socket ${S_SOCK[$k]} pid ${!pidvar}"
}

s_start_shards() {
        local n=$1 k
        shift
        S__EXTRA=("$@")
        h_start_mariadb --server-id=11 --gtid-domain-id=1 "$@"
        S_SOCK[1]=$H_MYSQL_SOCK
        S_PORT[1]=$H_MYSQL_PORT
        for k in $(seq 2 "$n"); do
                s__start_extra "$k"
        done
        S_SHARDS=$n
        export S_SHARDS
}

s_mysql() {
        local k=$1
        shift
        mariadb --no-defaults -S "${S_SOCK[$k]}" -uroot -N -B "$H_MYSQL_DB" \
                ${1:+-e "$1"}
}

s_producer_conf() {
        local k=$1 file=$2 kv
        shift 2
        {
                echo "mysql.host=127.0.0.1"
                echo "mysql.port=${S_PORT[$k]}"
                echo "mysql.user=$H_PRODUCER_USER"
                echo "mysql.password=$H_PRODUCER_PASS"
                echo "mysql.db=$H_MYSQL_DB"
                echo "mysql.server.id=$((100 + k))"
                echo "source.name=s$k"
                echo "kafka.bootstrap.servers=$H_KAFKA_BOOTSTRAP"
                echo "checkpoint.interval.ms=200"
                echo "checkpoint.store=file"
                echo "checkpoint.file=$H_DIR/p-s$k.ckpt"
                echo "http.listen=127.0.0.1:0"
                for kv in "${S_PRODUCER_CONF[@]}" "$@"; do
                        echo "$kv"
                done
        } >"$file"
}

s_producer() {
        local k=$1 name=$2
        shift 2
        s_producer_conf "$k" "$H_DIR/producer-s$k.conf"
        e_spawn "p-s$k-$name" "$H_DIR/p-s$k-$name.log" \
                "$H_DIR/p-s$k-$name.log" \
                "$E_PBIN" -c "$H_DIR/producer-s$k.conf" "$@"
}

s_wait_streaming() {
        e_wait_state "p-s$1-$2" streaming 60 ||
                h_fail "producer of shard $1 ($2) is not streaming"
}

s_consumer_flags() {
        local k list=s1
        for k in $(seq 2 "$S_SHARDS"); do
                list=$list,s$k
        done
        S_CONSUMER_FLAGS=(--source.name=s1 "--sources=$list")
}

s_check() {
        local k shards=()
        for k in $(seq 2 "$S_SHARDS"); do
                shards+=(--shard "${S_SOCK[$k]}")
        done
        e_check "${shards[@]}" "$@"
}

s_converged() {
        if ! res=$(s_check --wait "${2:-90}"); then
                echo "$res"
                h_fail "Redis did not converge to the union of the shards $1"
        fi
        h_log "$1: $(sed -n 3p <<<"$res")"
}
