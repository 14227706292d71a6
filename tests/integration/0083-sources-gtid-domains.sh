#!/usr/bin/env bash
# 0083-sources-gtid-domains: one source whose binlog interleaves three
# GTID domains (gtid_domain_id changed per session, as after a domain
# change or with multi-source replication upstream), all writing the same
# rows. Domain 0 is far ahead (hundreds of transactions) of domains 1 and
# 2, so their sequence numbers alone would order a later change before an
# earlier one. While three connections write, one per domain, the producer
# is SIGKILLed six times and restarted from its checkpoint file. Then:
# Kafka holds every committed change, in order per row with strictly
# increasing versions (producer_check.py); the checkpoint holds the
# position of each domain; Redis equals MySQL (check-converged.py).
# ctest-labels: sources
set -euo pipefail

. "$(dirname "$0")/../lib/test.sh" producer followcdc-consumer

KILLS=${FOLLOWCDC_TEST_KILLS:-6}

h_start_mariadb
h_start_redis
h_start_broker
p_audit_setup

# domain $1 writes $3 statements of seed $2 (keys 12: every domain writes
# the same rows)
dom_workload() {
        {
                echo "SET SESSION gtid_domain_id = $1;"
                "$P_PY" "$P_DIR/producer_wl.py" --seed "$2" --count "$3" \
                        --prefix "d$1"
        } | mariadb --no-defaults -S "$H_MYSQL_SOCK" -uroot --force \
                "$H_MYSQL_DB" >/dev/null 2>>"$H_DIR/workload.err" || true
}
dom_workload 0 1 400

p_conf p1 "checkpoint.interval.ms=100" "lock.retry.ms=200" \
        "checkpoint.store=file" "checkpoint.file=$H_DIR/p1.ckpt"
p_start p1
p_wait_state p1 streaming 60 || h_fail "producer did not start streaming"
e_consumer a

touch "$H_DIR/run"
writers=()
for d in 0 1 2; do
        (
                s=$((d * 1000 + 7))
                while [ -f "$H_DIR/run" ]; do
                        dom_workload "$d" "$s" 40
                        s=$((s + 1))
                done
        ) &
        writers+=($!)
done

RANDOM=57
for i in $(seq 1 "$KILLS"); do
        sleep "$(printf '0.%d' $((RANDOM % 9 + 1)))"
        [ $((RANDOM % 2)) = 0 ] && sleep 1
        p_alive p1 || h_fail "producer died by itself (see $H_DIR/p1.log)"
        p_stop p1 KILL
        p_start p1
done
sleep 1
rm -f "$H_DIR/run"
wait "${writers[@]}"

domains=$(h_mysql "SELECT @@global.gtid_binlog_pos")
h_log "binlog position: $domains"
[ "$(tr ',' '\n' <<<"$domains" | grep -c .)" -ge 3 ] ||
        h_fail "the workload did not write three domains: $domains"

p_wait_state p1 streaming 60 || h_fail "producer did not restart"
# the last run resumed from the checkpoint (no snapshot)
[ "$(p_metric p1 followcdc_producer_checkpoint_loads_total)" -ge 1 ] ||
        h_fail "the last restart did not resume from the checkpoint"
[ "$(p_metric p1 followcdc_producer_snapshots_total)" = 0 ] ||
        h_fail "the last restart took a snapshot"
p_wait_check 90 || h_fail "Kafka differs from the committed changes"
p_check --stats
# the checkpoint resumes each domain at its own position
h_wait_for "grep -q 'gtid=0-1-[0-9]*,1-1-[0-9]*,2-1-[0-9]*;' '$H_DIR/p1.ckpt'" 30 ||
        h_fail "checkpoint lacks a domain: $(cat "$H_DIR/p1.ckpt")"
h_wait_for "grep -q \"gtid=$domains;\" '$H_DIR/p1.ckpt'" 30 ||
        h_fail "checkpoint $(cat "$H_DIR/p1.ckpt") is not at the binlog end $domains"
e_converged "after $KILLS producer SIGKILLs over three interleaved domains" 90
e_stop c-a || h_fail "consumer exited $E_RC on SIGTERM"
p_stop p1 TERM
[ "$P_RC" = 0 ] || h_fail "producer SIGTERM exit status $P_RC, want 0"
h_pass "three GTID domains interleaved, $KILLS producer SIGKILLs: nothing lost, versions ordered, Redis = MySQL"
