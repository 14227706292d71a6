#!/usr/bin/env bash
# 0101-verify-live-kills: no false alarms. Five --full runs of
# followcdc-verify while a workload writes on three connections and the
# producer and the consumer are SIGKILLed and restarted between (and
# during) the runs: every run must end with exit 0 and report nothing.
# Changes in flight are either newer than the read (their version says so)
# or applied once verify has waited for the pipeline (producer checkpoint,
# high watermarks, committed offsets).
# brokers: dev
set -euo pipefail
. "$(dirname "$0")/../lib/test.sh" e2e followcdc-verify
VBIN=$CDC_BUILD_DIR/bin/followcdc-verify
E_SERVER_ID=5101

h_start_mariadb
h_start_redis --appendonly appendfsync always
h_start_broker

e_producer a
e_wait_state p-a streaming 30 || h_fail "producer did not start streaming"
e_consumer a
e_workload 101 150 80

e_verify_conf "$H_DIR/verify.conf" verify.chunk.rows=10 verify.settle.timeout=120s

h_wait_for "[ -s '$H_DIR/producer.ckpt' ]" 30 || h_fail "no checkpoint"
h_wait_for "[ \"\$(h_mysql 'SELECT COUNT(DISTINCT follower_id) FROM follow')\" -ge 30 ]" 60 ||
        h_fail "the workload wrote too little"
gen=0 pname=a cname=a
for run in 1 2 3 4 5; do
        # a kill while the run reads, the restart while it waits
        "$VBIN" -c "$H_DIR/verify.conf" --full --json \
                >"$H_DIR/v$run.out" 2>"$H_DIR/v$run.err" &
        vpid=$!
        sleep 1
        gen=$((gen + 1))
        if [ $((run % 2)) = 1 ]; then
                e_kill9 "p-$pname"
                sleep 1
                pname=g$gen
                e_producer "$pname"
        else
                e_kill9 "c-$cname"
                sleep 1
                cname=g$gen
                e_consumer "$cname"
        fi
        rc=0
        wait "$vpid" || rc=$?
        tail -n 1 "$H_DIR/v$run.out"
        if [ "$rc" != 0 ]; then
                grep '"type":"diff"' "$H_DIR/v$run.out" | head -20 || true
                tail -n 20 "$H_DIR/v$run.err"
                h_fail "verify run $run exited $rc during the workload"
        fi
        grep -q '^VERIFY users=[1-9][0-9]* .* divergent_users=0 missing=0 extra=0 wrong_score=0 idem_divergent=0 wrong_count=0 ' \
                "$H_DIR/v$run.out" || h_fail "run $run: $(tail -n 1 "$H_DIR/v$run.out")"
        ! grep -q '"type":"diff"' "$H_DIR/v$run.out" ||
                h_fail "run $run reported a difference"
        e_alive wl || h_fail "the workload ended before run $run did"
done
skipped=$(sed -n 's/^VERIFY .* skipped_newer=\([0-9]*\) rechecked=\([0-9]*\) .*$/\1+\2/p' "$H_DIR"/v?.out | paste -sd+ | bc)
h_log "differences explained by newer versions or the wait, over 5 runs: $skipped"
kill "${E_PID[wl]}" 2>/dev/null || true
h_pass "5 full verify runs during a workload with producer and consumer SIGKILLs: no false report"
