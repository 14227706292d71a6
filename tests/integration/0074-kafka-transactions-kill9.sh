#!/usr/bin/env bash
# 0074-kafka-transactions-kill9: exactly-once to the topics, on Apache
# Kafka. Two producers read the same binlog under different source names:
# "txn" with producer.transactions=true, "idem" in the default idempotent
# mode. Three connections write a randomized workload while both are
# SIGKILLed 20 times at the same moments and restarted. Afterwards both
# topic sets hold every committed change (producer_check.py); read
# read_committed, the transactional topics hold no change event twice
# (same key, op, seq, row); the idempotent topics' duplicates are counted
# and printed (a figure, not an assertion).
# brokers: kafka
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" producer

KILLS=${FOLLOWCDC_TEST_KILLS:-20}

h_start_mariadb
h_start_broker
p_audit_setup
p_workload 1 100

common=("checkpoint.interval.ms=100" "lock.retry.ms=200")
p_conf ptxn "source.name=txn" "mysql.server.id=102" \
        "producer.transactions=true" "${common[@]}"
p_conf pidem "source.name=idem" "mysql.server.id=103" "${common[@]}"
for p in ptxn pidem; do
        p_start "$p"
done
for p in ptxn pidem; do
        p_wait_state "$p" streaming 60 || h_fail "$p did not start streaming"
done
# kills start once both have a checkpoint (see 0021)
for s in txn idem; do
        h_wait_for "kcat -C -b '$H_KAFKA_BOOTSTRAP' -t $s.checkpoints \
                -o beginning -e -q 2>/dev/null | grep -q ." 60 ||
                h_fail "no checkpoint in $s.checkpoints"
done

touch "$H_DIR/run"
writers=()
for c in 1 2 3; do
        (
                s=$((c * 1000))
                while [ -f "$H_DIR/run" ]; do
                        p_workload "$s" 60 --sleep-every 5 --prefix "w$c"
                        s=$((s + 1))
                done
        ) &
        writers+=($!)
done

RANDOM=74
for i in $(seq 1 "$KILLS"); do
        sleep "$(printf '0.%d' $((RANDOM % 9 + 1)))"
        [ $((RANDOM % 3)) = 0 ] && sleep 0.5
        for p in ptxn pidem; do
                p_alive "$p" || h_fail "$p died by itself (see $H_DIR/$p.log)"
                p_stop "$p" KILL
        done
        for p in ptxn pidem; do
                p_start "$p"
        done
done
rm -f "$H_DIR/run"
wait "${writers[@]}"

for p in ptxn pidem; do
        p_wait_state "$p" streaming 60 || h_fail "$p did not restart"
done
# nothing missing, nothing reordered, in both modes
for s in txn idem; do
        ok=0
        end=$((SECONDS + 90))
        while [ "$SECONDS" -lt "$end" ]; do
                if p_check --prefix "$s" --quiet >/dev/null 2>&1; then
                        ok=1
                        break
                fi
                sleep 2
        done
        [ "$ok" = 1 ] || {
                p_check --prefix "$s" || true
                h_fail "$s: after $KILLS SIGKILLs the topics differ from the committed changes"
        }
done

count() {
        local t
        for t in "$1.$H_MYSQL_DB.follow" "$1.$H_MYSQL_DB.idempotent_log"; do
                kcat -C -b "$H_KAFKA_BOOTSTRAP" -X isolation.level=read_committed \
                        -t "$t" -o beginning -e -q -J 2>/dev/null
        done | "$P_PY" "$H_TEST_DIR/dup_count.py"
}
txn=$(count txn) || h_fail "reading the txn topics failed"
idem=$(count idem) || h_fail "reading the idem topics failed"
h_log "transactional: $txn"
h_log "idempotent:    $idem"
dn() { sed -n "s/.* duplicates=\([0-9]*\) .*/\1/p" <<<"$1"; }
echo "RESULT duplicates kills=$KILLS transactional=$(dn "$txn") idempotent=$(dn "$idem")"
case "$txn" in
*" duplicates=0 "*) ;;
*) h_fail "transactional mode wrote duplicates after $KILLS SIGKILLs: $txn" ;;
esac
case "$txn" in
"events=0 "*) h_fail "no events in the transactional topics" ;;
esac
for p in ptxn pidem; do
        p_stop "$p" TERM
        [ "$P_RC" = 0 ] || h_fail "$p: SIGTERM exit status $P_RC, want 0"
done
h_pass "$KILLS SIGKILLs: nothing lost in both modes; duplicate change events: transactional $(dn "$txn"), idempotent $(dn "$idem")"
