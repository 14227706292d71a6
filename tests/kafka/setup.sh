#!/usr/bin/env bash
# Prepare the Apache Kafka broker of the integration tests: resolve the
# jars pinned in tests/kafka/pom.xml with Maven (Maven Central, cached in
# ~/.m2), write their classpath and a class-data-sharing archive (faster
# broker starts) to $CDC_KAFKA_CACHE (default $CDC_BUILD_DIR/kafka).
# Quick when already done. ctest runs it once before the kafka tests
# (fixture kafka.setup); tests/lib/kafka.sh runs it too when needed.
set -euo pipefail
H_NAME=kafka-setup
# shellcheck source=../lib/harness.sh
. "$(cd "$(dirname "$0")" && pwd)/../lib/harness.sh"
t0=$(date +%s)
h_kafka_setup || { echo "FAIL: kafka-setup" >&2; exit 1; }
echo "kafka setup: $(tr ':' '\n' <"$CDC_KAFKA_CACHE/classpath" | grep -c .) jars, archive $( [ -s "$CDC_KAFKA_CACHE/broker.jsa" ] && echo yes || echo no), $(($(date +%s) - t0)) s"
