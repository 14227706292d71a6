-- followcdc: apply one idempotent_log row change (schemas/redis.md).
-- Touches the keys of ONE request id (one hash tag), so it runs on Redis Cluster.
--
-- KEYS[1]  the record (HASH status, biz_key, ver)   <prefix>:idem:{r:<request_id>}
-- KEYS[2]  its delete tombstone (STRING ver)        <prefix>:idem:{r:<request_id>}:del
-- ARGV[1]  version of the change: decimal digits without leading zeros
--          (a longer one is newer; equal lengths compare as strings)
-- ARGV[2]  "1" = the row exists (c/u/r), "0" = it was deleted (d)
-- ARGV[3]  expiry: created_at + TTL, ms since the epoch (absolute)
-- ARGV[4]  status
-- ARGV[5]  biz_key
--
-- Returns 1 if applied, 0 if not newer than what is held, 2 if the row is
-- already past its expiry (nothing kept; an existing record is removed).
if redis.replicate_commands then
  redis.replicate_commands()
end
local function not_older(a, b)
  return #a > #b or (#a == #b and a >= b)
end
local ver = ARGV[1]
local cur = redis.call('HGET', KEYS[1], 'ver')
local tomb = redis.call('GET', KEYS[2])
if (cur and not_older(cur, ver)) or (tomb and not_older(tomb, ver)) then
  return 0
end
local expire_at = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if expire_at <= now then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 2
end
-- New state first, then the removal of the other key: Redis does not roll
-- a script back when a command fails part way, and this order never leaves
-- an older state that a retry could not replace.
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'status', ARGV[4], 'biz_key', ARGV[5], 'ver', ver)
  redis.call('PEXPIREAT', KEYS[1], expire_at)
  redis.call('DEL', KEYS[2])
else
  redis.call('SET', KEYS[2], ver, 'PXAT', expire_at)
  redis.call('DEL', KEYS[1])
end
return 1
