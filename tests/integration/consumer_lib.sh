# shellcheck shell=bash
# Helpers of the consumer integration tests (0040-0049). Source after
# tests/lib/harness.sh and h_init. Consumers run in the background, log to
# $H_DIR/c-<name>.log and are stopped by PID at exit: starting, stopping and
# the exit trap are tests/lib/e2e.sh (sourced from here; consumer NAME is
# its key c-NAME).

# shellcheck source=../lib/e2e.sh
. "$H_LIB_DIR/e2e.sh"

C_BIN=$E_CBIN
C_FEED=$CDC_BUILD_DIR/bin/consumer_feed
C_TOPIC=followcdc.followcdc.follow
C_ITOPIC=followcdc.followcdc.idempotent_log
C_DLQ=followcdc.dlq
E_CONSUMER_FLAGS=(--kafka.topic.metadata.refresh.interval.ms=1000)
E_LOG_TAIL=40

e_require "$C_BIN" "$C_FEED"

# c_start NAME [FLAGS...]: start a consumer against the test servers.
c_start() {
        e_consumer "$@"
}

# c_stop NAME: SIGTERM, wait; prints nothing, returns the exit code.
c_stop() {
        e_stop "c-$1"
}

c_kill9() {
        e_kill9 "c-$1"
}

c_alive() {
        e_alive "c-$1"
}

# c_dump SUFFIX: "uid member" for every member of every <prefix>:{u:*}:SUFFIX
c_dump() {
        h_redis --no-raw EVAL "
local out = {}
for _, k in ipairs(redis.call('KEYS', 'fc:{u:*}:' .. ARGV[1])) do
  local uid = string.match(k, '{u:(%d+)}')
  for _, m in ipairs(redis.call('ZRANGE', k, 0, -1)) do
    out[#out + 1] = uid .. ' ' .. m
  end
end
return out" 0 "$1" | sed -n 's/^ *[0-9]*) "\(.*\)"$/\1/p' | sort
}

# c_state: canonical text of every key in Redis (type, content, absolute
# expiry), for byte-wise comparison of two runs; the consumer's data-loss
# markers (<prefix>:{marker:<n>}: who created them and when) are left out.
c_state() {
        h_redis --no-raw EVAL "
local keys = redis.call('KEYS', '*')
table.sort(keys)
local out = {}
for _, k in ipairs(keys) do
  if not string.find(k, ':{marker:', 1, true) then
  local t = redis.call('TYPE', k)['ok']
  local v
  if t == 'zset' then
    v = table.concat(redis.call('ZRANGE', k, 0, -1, 'WITHSCORES'), ',')
  elseif t == 'hash' then
    local h = redis.call('HGETALL', k)
    local f = {}
    for i = 1, #h, 2 do f[#f + 1] = h[i] .. '=' .. h[i + 1] end
    table.sort(f)
    v = table.concat(f, ',')
  elseif t == 'set' then
    local s = redis.call('SMEMBERS', k)
    table.sort(s)
    v = table.concat(s, ',')
  elseif t == 'string' then
    v = redis.call('GET', k)
  else
    v = '?'
  end
  out[#out + 1] = k .. ' ' .. t .. ' ' .. redis.call('PEXPIRETIME', k) .. ' ' .. v
  end
end
return out" 0 | sed -n 's/^ *[0-9]*) "\(.*\)"$/\1/p'
}

# c_converged EXP: Redis' following and friends sets equal EXP.following
# and EXP.friends (written by consumer_feed -e).
c_converged() {
        local exp=$1
        c_dump following >"$H_DIR/got.following"
        sort "$exp.following" | cmp -s - "$H_DIR/got.following" || return 1
        c_dump followers | awk '{print $2, $1}' | sort >"$H_DIR/got.followers"
        cmp -s "$H_DIR/got.following" "$H_DIR/got.followers" || return 1
        c_dump friends >"$H_DIR/got.friends"
        sort "$exp.friends" | cmp -s - "$H_DIR/got.friends"
}

# c_wait_converged EXP SECS: wait for c_converged, fail with a diff.
c_wait_converged() {
        local exp=$1 secs=${2:-60}
        if ! h_wait_for "c_converged $exp" "$secs"; then
                sort "$exp.following" | diff - "$H_DIR/got.following" | head -n 10 >&2
                return 1
        fi
}

# c_metric NAME: value of a metric line from the consumer's log-free
# /metrics endpoint at port $2.
c_metric() {
        curl -fsS "http://127.0.0.1:$2/metrics" 2>/dev/null |
                awk -v n="$1" '$1 == n {print $2}'
}

# c_assigned PORT: partitions assigned to the consumer serving PORT
c_assigned() {
        c_metric followcdc_consumer_assigned_partitions "$1"
}

# c_wait_assigned PORT N [SECS]: wait until that consumer owns N
# partitions (N may be a test such as "-ge 1"; default: exactly N)
c_wait_assigned() {
        local port=$1 want=$2 secs=${3:-30} op=-eq
        case "$want" in -*) op=${want%% *}; want=${want#* } ;; esac
        h_wait_for "[ \"\$(c_assigned $port)\" $op $want ] 2>/dev/null" "$secs"
}

# c_topic_count TOPIC: messages in TOPIC (all partitions).
c_topic_count() {
        kcat -b "$H_KAFKA_BOOTSTRAP" -C -t "$1" -o beginning -e -q \
                -f 'x\n' 2>/dev/null | wc -l
}
