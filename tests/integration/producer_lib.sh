# shellcheck shell=bash
#
# Helpers shared by the producer integration tests (0020-0029). Source
# after tests/lib/harness.sh. Starting, stopping and tracking the producer
# processes is tests/lib/e2e.sh (sourced from here): P_PID is its E_PID.
#
#   p_audit_setup            cdc_audit table + triggers recording every
#                            committed change of follow / idempotent_log
#   p_conf NAME [K=V]...     write $H_DIR/NAME.conf for a producer
#   p_start NAME [ARGS]...   start followcdc-producer -c $H_DIR/NAME.conf in
#                            the background; its PID in P_PID[NAME], log in
#                            $H_DIR/NAME.log
#   p_stop NAME [SIG]        signal it (TERM) and wait; exit status in P_RC
#   p_workload SEED COUNT [ARGS]...  run one producer_wl.py connection
#   p_check [--quiet]        producer_check.py against Kafka and MariaDB
#   p_wait_check SECS        wait until p_check passes
#   p_http_port NAME         the /metrics port of NAME (e_http_port)
#   p_metric NAME SAMPLE     a /metrics sample of NAME (e_metric)
#   p_wait_metric NAME SAMPLE OP N [SECS]   (e_wait_metric)
#   p_wait_state NAME STATE [SECS]          (e_wait_state)
#   p_readyz NAME            the /readyz body; status 0 on 200
#
# Tests wait on these (state, metrics, /readyz), never on log wording.

# shellcheck source=../lib/e2e.sh
. "$H_LIB_DIR/e2e.sh"

P_BIN=$E_PBIN
P_PY=$E_PY
P_DIR=$CDC_SOURCE_DIR/tests/integration
declare -n P_PID=E_PID

p_audit_setup() {
        h_mysql "
CREATE TABLE IF NOT EXISTS cdc_audit (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  tbl VARCHAR(32) NOT NULL, k1 VARCHAR(128) NOT NULL,
  k2 VARCHAR(128) NOT NULL DEFAULT '', op CHAR(1) NOT NULL,
  version BIGINT UNSIGNED NOT NULL, status INT NOT NULL) ENGINE=InnoDB;
CREATE TRIGGER IF NOT EXISTS f_ai AFTER INSERT ON follow FOR EACH ROW
  INSERT INTO cdc_audit (tbl, k1, k2, op, version, status)
  VALUES ('follow', NEW.follower_id, NEW.followee_id, 'c', NEW.version, NEW.status);
CREATE TRIGGER IF NOT EXISTS f_au AFTER UPDATE ON follow FOR EACH ROW
  INSERT INTO cdc_audit (tbl, k1, k2, op, version, status)
  VALUES ('follow', NEW.follower_id, NEW.followee_id, 'u', NEW.version, NEW.status);
CREATE TRIGGER IF NOT EXISTS f_ad AFTER DELETE ON follow FOR EACH ROW
  INSERT INTO cdc_audit (tbl, k1, k2, op, version, status)
  VALUES ('follow', OLD.follower_id, OLD.followee_id, 'd', OLD.version, OLD.status);
CREATE TRIGGER IF NOT EXISTS i_ai AFTER INSERT ON idempotent_log FOR EACH ROW
  INSERT INTO cdc_audit (tbl, k1, op, version, status)
  VALUES ('idempotent_log', NEW.request_id, 'c', NEW.version, NEW.status);
CREATE TRIGGER IF NOT EXISTS i_au AFTER UPDATE ON idempotent_log FOR EACH ROW
  INSERT INTO cdc_audit (tbl, k1, op, version, status)
  VALUES ('idempotent_log', NEW.request_id, 'u', NEW.version, NEW.status);
CREATE TRIGGER IF NOT EXISTS i_ad AFTER DELETE ON idempotent_log FOR EACH ROW
  INSERT INTO cdc_audit (tbl, k1, op, version, status)
  VALUES ('idempotent_log', OLD.request_id, 'd', OLD.version, OLD.status);
" || h_fail "audit triggers"
}

p_conf() {
        local name=$1
        shift
        e_producer_conf "$H_DIR/$name.conf" "mysql.server.id=101" \
                "http.listen=127.0.0.1:0" "$@"
}

p_start() {
        local name=$1
        shift
        e_spawn "$name" "$H_DIR/$name.out" "$H_DIR/$name.log" \
                "$P_BIN" -c "$H_DIR/$name.conf" "$@"
}

# p_stop NAME [SIG]: exit status in P_RC (137 after KILL, 255 when NAME
# does not run). Must run in the shell that started NAME (not in $(...)).
p_stop() {
        P_RC=0
        e_stop "$1" "${2:-TERM}" || P_RC=$?
}

p_alive() {
        e_alive "$1"
}

p_workload() {
        local seed=$1 count=$2
        shift 2
        "$P_PY" "$P_DIR/producer_wl.py" --seed "$seed" --count "$count" "$@" |
                mariadb --no-defaults -S "$H_MYSQL_SOCK" -uroot --force \
                        "$H_MYSQL_DB" >/dev/null 2>>"$H_DIR/workload.err" ||
                true
}

p_check() {
        "$P_PY" "$P_DIR/producer_check.py" --bootstrap "$H_KAFKA_BOOTSTRAP" \
                --db "$H_MYSQL_DB" --sock "$H_MYSQL_SOCK" \
                --schema "$CDC_SOURCE_DIR/schemas/events/cdc_event.schema.json" \
                "$@"
}

p_wait_check() {
        # wall-clock bound: one p_check can take seconds on a busy machine
        local end=$((SECONDS + ${1:-60}))
        while [ "$SECONDS" -lt "$end" ]; do
                if p_check --quiet >/dev/null 2>&1; then
                        return 0
                fi
                sleep 2
        done
        p_check || true
        return 1
}

p_http_port() {
        e_http_port "$1"
}

p_metric() {
        e_metric "$@"
}

p_wait_metric() {
        e_wait_metric "$@"
}

p_wait_state() {
        e_wait_state "$@"
}

p_readyz() {
        e_readyz "$1"
}
