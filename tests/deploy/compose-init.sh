#!/usr/bin/env bash
# deploy.compose-init: deploy/compose/mariadb-init.sh, the Compose stack's
# account setup, against a real MariaDB. Passwords with quotes, a
# backslash, '&' and '$' come from the environment; afterwards each
# account logs in over TCP with its password and holds the grants of
# schemas/mysql/002-grants.sql. Without a password the script fails.
set -u
. "$CDC_SOURCE_DIR/tests/lib/harness.sh"
h_init
h_start_mariadb
# the harness created the accounts with its own passwords: start afresh
h_mysql "DROP USER followcdc_producer@'%'; DROP USER followcdc_consumer@'%'" ||
        h_fail "drop users"

docker_process_sql() {
        mariadb --no-defaults -S "$H_MYSQL_SOCK" -uroot "$H_MYSQL_DB"
}
export FOLLOWCDC_GRANTS_FILE=$CDC_SOURCE_DIR/schemas/mysql/002-grants.sql
init=$CDC_SOURCE_DIR/deploy/compose/mariadb-init.sh

if (unset FOLLOWCDC_PRODUCER_PASSWORD FOLLOWCDC_CONSUMER_PASSWORD
    . "$init") 2>/dev/null; then
        h_fail "the init script succeeded without passwords"
fi

export FOLLOWCDC_PRODUCER_PASSWORD="p'w\\\"&x\$1 \\"
export FOLLOWCDC_CONSUMER_PASSWORD='c&\1'"'"
( . "$init" ) || h_fail "the init script failed"

login() { # USER PASSWORD SQL
        MYSQL_PWD=$2 mariadb --no-defaults -h127.0.0.1 -P"$H_MYSQL_PORT" \
                -u"$1" -N -B -e "$3"
}
g=$(login followcdc_producer "$FOLLOWCDC_PRODUCER_PASSWORD" "SHOW GRANTS") ||
        h_fail "the producer account cannot log in with its password"
grep -q "REPLICATION SLAVE" <<<"$g" ||
        h_fail "producer grants: $g"
grep -q "SELECT ON \`followcdc\`.\`follow\`" <<<"$g" ||
        h_fail "producer grants: $g"
g=$(login followcdc_consumer "$FOLLOWCDC_CONSUMER_PASSWORD" "SHOW GRANTS") ||
        h_fail "the consumer account cannot log in with its password"
grep -q "SELECT (.*status.*), DELETE ON \`followcdc\`.\`idempotent_log\`" <<<"$g" ||
        h_fail "consumer grants: $g"
if login followcdc_producer change-me-producer "SELECT 1" 2>/dev/null; then
        h_fail "the placeholder password works"
fi
h_pass "compose init: accounts with the environment's passwords"
