#!/usr/bin/env bash
# deploy.healthcheck: the image's HEALTHCHECK script (deploy/followcdc-healthcheck)
# against a real producer whose MySQL and Kafka are unreachable: /healthz
# answers 200 (exit 0), /readyz 503 (exit 1); the address is found from
# FOLLOWCDC_HTTP_LISTEN (a wildcard address is reached on loopback) or
# from the process' own --dump-config; a closed port and http.listen off
# are unhealthy.
set -u
. "$CDC_SOURCE_DIR/tests/lib/harness.sh"
h_init
hc=$CDC_SOURCE_DIR/deploy/followcdc-healthcheck
port=$(h_free_port)
closed=$(h_free_port)
"$CDC_BUILD_DIR/bin/followcdc-producer" --mysql.server.id=77 \
        --mysql.host=127.0.0.1 --mysql.port="$closed" \
        --kafka.bootstrap.servers="127.0.0.1:$closed" \
        --http.listen="127.0.0.1:$port" >"$H_DIR/producer.log" 2>&1 &
pid=$!
h_track_pid "$pid"
h_wait_for "curl -s -o /dev/null http://127.0.0.1:$port/healthz" 30 ||
        h_fail "the producer's HTTP server did not come up"

FOLLOWCDC_HTTP_LISTEN=127.0.0.1:$port "$hc" ||
        h_fail "/healthz via FOLLOWCDC_HTTP_LISTEN: unhealthy"
FOLLOWCDC_HTTP_LISTEN=0.0.0.0:$port "$hc" ||
        h_fail "/healthz via a wildcard address: unhealthy"
if out=$(FOLLOWCDC_HTTP_LISTEN=127.0.0.1:$port "$hc" /readyz); then
        h_fail "/readyz of a producer without MySQL: healthy"
fi
case "$out" in *503*) ;; *) h_fail "/readyz: unexpected reason: $out" ;; esac
(unset FOLLOWCDC_HTTP_LISTEN; "$hc" /healthz "$pid") ||
        h_fail "/healthz via --dump-config of PID $pid: unhealthy"
if FOLLOWCDC_HTTP_LISTEN=127.0.0.1:$closed "$hc"; then
        h_fail "a closed port: healthy"
fi
sleep 60 &
other=$!
h_track_pid "$other"
if (unset FOLLOWCDC_HTTP_LISTEN; "$hc" /healthz "$other"); then
        h_fail "a process without http.listen: healthy"
fi
h_pass "image healthcheck: healthy, not ready, closed and off told apart"
