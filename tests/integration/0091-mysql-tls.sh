#!/usr/bin/env bash
# 0091-mysql-tls: TLS to MySQL through the one connect path (common/cdc_mysql)
# against a MariaDB started with TLS (certificates made with openssl):
# - each mysql.ssl.mode as Connector/C 3.3 applies it: disabled is clear
#   text, preferred/required/verify-ca/verify-identity are encrypted; a CA
#   that signed nothing of this server is refused with a certificate error;
# - the producer streams with verify-identity (binlog, snapshot, lock and
#   metadata connections all encrypted: the server counts the handshakes);
#   with an untrusted CA it stays alive, not ready ("source unreachable");
# - the consumer's reaper reaches MySQL with verify-ca and a client
#   certificate (its account REQUIRE X509) and reaps; with an untrusted CA
#   it counts followcdc_reaper_errors_total and keeps serving;
# - SHOW BINARY LOG STATUS (MySQL 8.2+) falls back to SHOW MASTER STATUS on
#   a server that rejects it as a syntax error (MariaDB; the same code path
#   goes the other way on MySQL 8.4, which we can't run here);
# - restarted without TLS: required is refused with a clear error (3.3 alone
#   would fall back to clear text), preferred falls back to clear text.
set -euo pipefail
. "$(dirname "$0")/../lib/test.sh" producer consumer mysql_probe

h_start_mariadb --tls
h_start_redis
h_start_broker
T=$H_TLS_DIR
PROBE=$CDC_BUILD_DIR/bin/mysql_probe

probe() {
        "$PROBE" --host 127.0.0.1 --port "$H_MYSQL_PORT" \
                --user "$H_PRODUCER_USER" --password "$H_PRODUCER_PASS" "$@"
}
ssl_accepts() {
        h_mysql "SHOW GLOBAL STATUS LIKE 'Ssl_accepts'" | cut -f2
}
# readyz_is NAME CODE PREFIX (as 0029)
readyz_is() {
        local body rc=0
        body=$(p_readyz "$1") || rc=$?
        case "$2:$rc" in 200:0 | 503:1) ;; *) return 1 ;; esac
        [ "${body#"$3"}" != "$body" ]
}

# ---- the connect path, mode by mode
[ "$(probe --ssl-mode disabled)" = cipher=none ] || h_fail "disabled: TLS used"
for m in preferred required; do
        c=$(probe --ssl-mode "$m") || h_fail "$m: no connection"
        [ "$c" != cipher=none ] || h_fail "$m: clear text"
done
c=$(probe --ssl-mode verify-ca --ssl-ca "$T/ca.crt") || h_fail "verify-ca failed"
[ "$c" != cipher=none ] || h_fail "verify-ca: clear text"
c=$(probe --ssl-mode verify-identity --ssl-ca "$T/ca.crt") ||
        h_fail "verify-identity (127.0.0.1 is in the certificate) failed"
h_log "TLS: $c"
for m in verify-ca verify-identity; do
        if err=$(probe --ssl-mode "$m" --ssl-ca "$T/other-ca.crt" 2>&1); then
                h_fail "$m with an untrusted CA connected: $err"
        fi
        h_log "$m, untrusted CA: $err"
        case "$err" in *certificate*) ;; *) h_fail "$m: unclear error: $err" ;; esac
done

# ---- SHOW BINARY LOG STATUS -> SHOW MASTER STATUS on a syntax error
want=$(h_mysql "SHOW MASTER STATUS" | cut -f1)
out=$(probe --ssl-mode disabled --binlog-status-first "SHOW BINARY LOG STATUS") ||
        h_fail "binlog status fallback failed"
case "$out" in
*"used=SHOW MASTER STATUS file=$want pos="*) ;;
*) h_fail "binlog status fallback: $out (want $want)" ;;
esac

# ---- the producer, verify-identity
before=$(ssl_accepts)
p_conf a "checkpoint.store=file" "checkpoint.file=$H_DIR/a.ckpt" \
        "mysql.ssl.mode=verify-identity" "mysql.ssl.ca=$T/ca.crt"
h_mysql "INSERT INTO follow (follower_id, followee_id) VALUES (1, 2), (2, 1)"
p_start a
p_wait_state a streaming 60 || h_fail "a: not streaming over TLS"
h_mysql "INSERT INTO follow (follower_id, followee_id) VALUES (3, 4)"
p_wait_metric a followcdc_producer_events_acked_total -ge 3 30 ||
        h_fail "a: events not acknowledged"
# metadata, snapshot, binlog stream and lock connections: 4 handshakes
after=$(ssl_accepts)
[ $((after - before)) -ge 4 ] ||
        h_fail "a: only $((after - before)) TLS handshakes (want >= 4)"
readyz_is a 200 "ready: active" || h_fail "a: not ready: $(p_readyz a || true)"

# untrusted CA: alive, not ready, says why
p_conf b "checkpoint.store=file" "checkpoint.file=$H_DIR/b.ckpt" \
        "source.name=other" "mysql.ssl.mode=verify-ca" \
        "mysql.ssl.ca=$T/other-ca.crt"
p_start b
h_wait_for "readyz_is b 503 'not ready: source unreachable'" 30 ||
        h_fail "b (untrusted CA): /readyz $(p_readyz b || true)"
p_wait_metric b followcdc_producer_source_up -eq 0 10 || h_fail "b: source_up"
p_alive b || h_fail "b exited"
p_stop b

# ---- the reaper: verify-ca and a client certificate (REQUIRE X509)
h_mysql "ALTER USER '$H_CONSUMER_USER'@'%' REQUIRE X509"
h_mysql "INSERT INTO idempotent_log (request_id, biz_key, status, created_at)
         SELECT CONCAT('old-', seq), 'order', 2, UTC_TIMESTAMP(3) - INTERVAL 8 DAY
         FROM seq_1_to_20"
reaper=(--reaper.enable=true --reaper.mysql.host=127.0.0.1
        --reaper.mysql.port="$H_MYSQL_PORT" --reaper.mysql.user="$H_CONSUMER_USER"
        --reaper.mysql.password="$H_CONSUMER_PASS" --reaper.mysql.db="$H_MYSQL_DB"
        --reaper.interval=1s --idem.ttl=7d)
# without the client certificate the account refuses (REQUIRE X509)
c_start x "${reaper[@]}" --reaper.mysql.ssl.mode=verify-ca \
        --reaper.mysql.ssl.ca="$T/ca.crt"
h_wait_for '[ "$(e_cmetric x followcdc_reaper_errors_total)" -ge 1 ] 2>/dev/null' 30 ||
        h_fail "x: no reaper error without a client certificate"
c_stop x || true
c_start r "${reaper[@]}" --reaper.mysql.ssl.mode=verify-ca \
        --reaper.mysql.ssl.ca="$T/ca.crt" --reaper.mysql.ssl.cert="$T/client.crt" \
        --reaper.mysql.ssl.key="$T/client.key"
h_wait_for '[ "$(e_cmetric r followcdc_reaper_leader)" = 1 ]' 30 ||
        h_fail "r: reaper not leader over TLS"
h_wait_for '[ "$(h_mysql "SELECT COUNT(*) FROM idempotent_log WHERE request_id LIKE '"'old-%'"'")" = 0 ]' 30 ||
        h_fail "r: expired rows not reaped over TLS"
c_stop r || true
# untrusted CA: errors counted, still serving
c_start s "${reaper[@]}" --reaper.mysql.ssl.mode=verify-ca \
        --reaper.mysql.ssl.ca="$T/other-ca.crt" --reaper.mysql.ssl.cert="$T/client.crt" \
        --reaper.mysql.ssl.key="$T/client.key"
h_wait_for '[ "$(e_cmetric s followcdc_reaper_errors_total)" -ge 2 ] 2>/dev/null' 30 ||
        h_fail "s: untrusted CA not counted in followcdc_reaper_errors_total"
[ "$(e_cmetric s followcdc_reaper_leader)" = 0 ] || h_fail "s: leader"
c_alive s || h_fail "s exited"
c_stop s || true
p_stop a

# ---- the same server without TLS
h_stop mariadb
h_start_mariadb
if err=$(probe --ssl-mode required 2>&1); then
        h_fail "required against a server without TLS connected: $err"
fi
h_log "required, no TLS on the server: $err"
case "$err" in *"no TLS"*) ;; *) h_fail "required: unclear error: $err" ;; esac
[ "$(probe --ssl-mode preferred)" = cipher=none ] ||
        h_fail "preferred did not fall back to clear text"
p_conf c "checkpoint.store=file" "checkpoint.file=$H_DIR/a.ckpt" \
        "mysql.ssl.mode=required"
p_start c
h_wait_for "readyz_is c 503 'not ready: source unreachable'" 30 ||
        h_fail "c (required, no TLS): /readyz $(p_readyz c || true)"
p_alive c || h_fail "c exited"
p_stop c
h_pass "MySQL TLS modes, certificates, SHOW BINARY LOG STATUS fallback"
