# followcdc accounts for the Compose stack, with passwords from the
# environment. The MariaDB image runs this once, on an empty data volume,
# after 001-tables.sql; it is sourced (not executed) by the image's
# entrypoint, which provides docker_process_sql. The grants themselves are
# schemas/mysql/002-grants.sql (mounted as 002-grants.sql.in), the single
# source of truth; only its placeholder passwords are replaced here.
#
# FOLLOWCDC_PRODUCER_PASSWORD, FOLLOWCDC_CONSUMER_PASSWORD: required.

followcdc_sql_quote() {
        # a MariaDB string literal body: double every ' and every \
        local s=$1
        s=${s//\\/\\\\}
        s=${s//\'/\'\'}
        printf '%s' "$s"
}

followcdc_create_users() {
        local grants=/docker-entrypoint-initdb.d/002-grants.sql.in sql p c
        if [ -z "${FOLLOWCDC_PRODUCER_PASSWORD:-}" ] ||
           [ -z "${FOLLOWCDC_CONSUMER_PASSWORD:-}" ]; then
                echo "followcdc: set FOLLOWCDC_PRODUCER_PASSWORD and" \
                     "FOLLOWCDC_CONSUMER_PASSWORD" >&2
                return 1
        fi
        sql=$(cat "${FOLLOWCDC_GRANTS_FILE:-$grants}") || return 1
        case "$sql" in
        *"'change-me-producer'"*"'change-me-consumer'"*) ;;
        *)
                echo "followcdc: placeholders not found in the grants" >&2
                return 1
                ;;
        esac
        p=$(followcdc_sql_quote "$FOLLOWCDC_PRODUCER_PASSWORD")
        c=$(followcdc_sql_quote "$FOLLOWCDC_CONSUMER_PASSWORD")
        # quoted replacements are literal (no & or \ expansion)
        sql=${sql//"'change-me-producer'"/"'$p'"}
        sql=${sql//"'change-me-consumer'"/"'$c'"}
        printf '%s\n' "$sql" | docker_process_sql
}

followcdc_create_users
