# shellcheck shell=bash
# Shared by the repair tests (0103, 0111): load a workload's rows, wait
# for Redis to equal MySQL, then corrupt Redis in known ways. Sets a b c d
# (four users with edges both ways), x y (members touched) and r1 r2
# (request ids touched). Needs tests/lib/e2e.sh (the "e2e" preamble).
t_corrupt_redis() {
        "$E_PY" "$E_WL" --socket "$H_MYSQL_SOCK" --db "$H_MYSQL_DB" --users 30 \
                --ops 1500 --concurrency 2 --seed 111 --req-prefix pre \
                >>"$H_DIR/workload.out" 2>&1 || h_fail "initial workload failed"
        e_converged "before the corruption" 60

        # four users with edges both ways
        mapfile -t U < <(h_mysql "SELECT follower_id FROM follow WHERE status = 1
                AND follower_id IN (SELECT followee_id FROM follow WHERE status = 1)
                GROUP BY follower_id ORDER BY COUNT(*) DESC, follower_id LIMIT 4")
        [ "${#U[@]}" = 4 ] || h_fail "need 4 users with edges, got ${#U[@]}"
        a=${U[0]} b=${U[1]} c=${U[2]} d=${U[3]}
        x=$(h_mysql "SELECT followee_id FROM follow WHERE follower_id = $a AND status = 1 LIMIT 1")
        y=$(h_mysql "SELECT follower_id FROM follow WHERE followee_id = $c AND status = 1 LIMIT 1")
        r1=$(h_mysql "SELECT request_id FROM idempotent_log ORDER BY id DESC LIMIT 1")
        r2=$(h_mysql "SELECT request_id FROM idempotent_log ORDER BY id DESC LIMIT 1 OFFSET 1")
        [ -n "$x" ] && [ -n "$y" ] && [ -n "$r1" ] && [ -n "$r2" ] ||
                h_fail "could not pick members and request ids"

        h_redis ZREM "fc:{u:$a}:following" "$x" >/dev/null             # member deleted
        h_redis ZADD "fc:{u:$b}:following" 1700000000000 999991 >/dev/null  # bogus
        h_redis ZADD "fc:{u:$b}:followers" 1700000000000 999992 >/dev/null  # bogus
        h_redis ZADD "fc:{u:$b}:friends" 1700000000000 999993 >/dev/null    # bogus
        h_redis ZADD "fc:{u:$c}:followers" 12345 "$y" >/dev/null        # wrong score
        h_redis DEL "fc:{u:$d}:following" "fc:{u:$d}:followers" \
                "fc:{u:$d}:friends" "fc:{u:$d}:ver" >/dev/null             # user gone
        h_redis DEL "fc:idem:{r:$r1}" >/dev/null                         # key dropped
        h_redis HSET "fc:idem:{r:$r2}" status 9 biz_key bogus >/dev/null  # altered
        sleep 1
}

# A user only Redis knows (no row in MySQL on either side): sets o.
t_corrupt_orphan() {
        o=990077
        [ "$(h_mysql "SELECT COUNT(*) FROM follow WHERE follower_id = $o OR followee_id = $o")" = 0 ] ||
                h_fail "user $o has rows"
        h_redis ZADD "fc:{u:$o}:following" 1700000000000 "$a" >/dev/null
        h_redis ZADD "fc:{u:$o}:friends" 1700000000000 "$a" >/dev/null
}
