#!/usr/bin/env bash
# 0066-redis-tls: the consumer talks TLS to Redis (redis-server with
# tls-port and tls-auth-clients yes, certificates made here with openssl)
# as an ACL user: the pipeline converges over TLS (checked through the
# same server's plain port). A CA that did not sign the server's
# certificate, or a server name the certificate does not carry, is a
# clear "certificate verify failed" error and no connection
# (followcdc_consumer_redis_up stays 0); so is a missing client
# certificate when the server requires one.
set -u
. "$(dirname "$0")/../lib/harness.sh"
h_init
. "$(dirname "$0")/../lib/e2e.sh"
e_require "$E_PBIN" "$E_CBIN"
command -v openssl >/dev/null || h_fail "openssl is not installed"
E_SERVER_ID=5066

# ---- certificates: a CA, the server (127.0.0.1, localhost), a client,
# and a second CA that signed nothing of this server
T=$H_DIR/tls
mkdir -p "$T"
ossl() { openssl "$@" >>"$T/openssl.log" 2>&1 || h_fail "openssl $1 failed (see $T/openssl.log)"; }
ossl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.crt" \
        -days 2 -subj "/CN=followcdc test CA"
ossl req -x509 -newkey rsa:2048 -nodes -keyout "$T/other-ca.key" \
        -out "$T/other-ca.crt" -days 2 -subj "/CN=another CA"
echo "subjectAltName=IP:127.0.0.1,DNS:localhost" >"$T/server.ext"
ossl req -newkey rsa:2048 -nodes -keyout "$T/server.key" -out "$T/server.csr" \
        -subj "/CN=localhost"
ossl x509 -req -in "$T/server.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" \
        -CAcreateserial -out "$T/server.crt" -days 2 -extfile "$T/server.ext"
ossl req -newkey rsa:2048 -nodes -keyout "$T/client.key" -out "$T/client.csr" \
        -subj "/CN=followcdc-consumer"
ossl x509 -req -in "$T/client.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" \
        -CAcreateserial -out "$T/client.crt" -days 2

TLS_PORT=$(h_free_port)
h_start_redis tls-port "$TLS_PORT" tls-cert-file "$T/server.crt" \
        tls-key-file "$T/server.key" tls-ca-cert-file "$T/ca.crt" \
        tls-auth-clients yes user "followcdc on >app-pw ~* &* +@all"
h_start_mariadb
h_start_broker
e_producer a
h_wait_for "grep -q 'streaming from' '$H_DIR/p-a.log'" 30 ||
        h_fail "producer did not start streaming"

metric() {
        curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null |
                awk -v n="$2" '$1 == n {v = $2} END {print v + 0}'
}
tls=(--redis.port="$TLS_PORT" --redis.tls=true --redis.tls.ca="$T/ca.crt"
     --redis.tls.cert="$T/client.crt" --redis.tls.key="$T/client.key"
     --redis.user=followcdc --redis.password=app-pw)
hp=$(h_free_port)
e_consumer a "${tls[@]}" --http.listen="127.0.0.1:$hp"
out=$("$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" \
        --users 40 --ops 1500 --concurrency 3 --seed 66 --odd-ids 0.2) ||
        h_fail "workload failed: $out"
e_converged "over TLS" 90
[ "$(metric "$hp" followcdc_consumer_redis_up)" = 1 ] || h_fail "redis_up is not 1"
# the writes came over TLS: the plain port served only the checker
n=$(h_redis INFO stats | sed -n 's/^total_commands_processed:\([0-9]*\).*/\1/p')
[ "${n:-0}" -gt 1000 ] || h_fail "Redis processed only $n commands"
e_stop c-a || h_fail "consumer exited $E_RC on SIGTERM"

# bad_tls NAME WHAT FLAGS...: a consumer (own group) that must not connect
bad_tls() {
        local name=$1 what=$2 p
        shift 2
        p=$(h_free_port)
        e_consumer "$name" --kafka.group.id="tls-$name" \
                --http.listen="127.0.0.1:$p" "$@"
        h_wait_for "[ \$(metric $p followcdc_consumer_redis_failures_total) -ge 2 ]" 30 ||
                h_fail "$name: no failed Redis connect counted"
        [ "$(metric "$p" followcdc_consumer_redis_up)" = 0 ] ||
                h_fail "$name: connected to Redis"
        grep -q "$what" "$H_DIR/c-$name.log" ||
                h_fail "$name: no '$what' in the log: $(tail -n 3 "$H_DIR/c-$name.log")"
        e_stop "c-$name" || h_fail "$name exited $E_RC on SIGTERM"
}
bad_tls other-ca "certificate verify failed" "${tls[@]}" \
        --redis.tls.ca="$T/other-ca.crt"
bad_tls wrong-name "certificate verify failed" "${tls[@]}" \
        --redis.tls.server.name=redis.example.org
bad_tls no-client-cert "TLS handshake\|connection lost" \
        --redis.port="$TLS_PORT" --redis.tls=true --redis.tls.ca="$T/ca.crt" \
        --redis.user=followcdc --redis.password=app-pw
# verification off (tests only) connects to a server of another CA
p=$(h_free_port)
e_consumer noverify --kafka.group.id=tls-noverify --http.listen="127.0.0.1:$p" \
        "${tls[@]}" --redis.tls.ca="$T/other-ca.crt" --redis.tls.verify=false
h_wait_for "[ \$(metric $p followcdc_consumer_redis_up) = 1 ]" 30 ||
        h_fail "redis.tls.verify=false did not connect"
e_stop c-noverify || h_fail "noverify exited $E_RC on SIGTERM"
e_stop p-a || h_fail "producer exited $E_RC on SIGTERM"
h_pass "TLS with verification, client certificate and ACL user; bad certificates refused"
