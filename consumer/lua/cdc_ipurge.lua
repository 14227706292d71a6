-- followcdc: purge one idempotency record older than a version, for one
-- source (schemas/redis.md). Touches the keys of ONE request id (one hash
-- tag), so it runs on Redis Cluster. Used for a TRUNCATE of the
-- idempotent_log table.
--
-- KEYS[1]  the record (HASH status, biz_key, ver)   <prefix>:idem:{r:<request_id>}
-- KEYS[2]  its delete tombstone (STRING ver)        <prefix>:idem:{r:<request_id>}:del
-- ARGV[1]  version V: digits without leading zeros
-- ARGV[2]  source tag: "" for the home source, else the source's name
--
-- A record of this source (stored ver "<v>" for the home source,
-- "<v>@<tag>" for another) older than V, or without a ver (written by
-- hand), is deleted and replaced by a tombstone of version V with the
-- record's remaining time to live, so an older change delivered late
-- cannot bring it back. Records of other sources stay.
-- Returns 1 if the record was removed, 0 otherwise.
if redis.replicate_commands then
  redis.replicate_commands()
end
local ver, tag = ARGV[1], ARGV[2] or ''
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local stored = ver
if tag ~= '' then
  stored = ver .. '@' .. tag
end
local cur = redis.call('HGET', KEYS[1], 'ver')
if cur then
  local v, t = string.match(cur, '^([0-9]+)@?(.*)$')
  if v and t ~= tag then
    return 0
  end
  if v and (#v > #ver or (#v == #ver and v >= ver)) then
    return 0
  end
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then
  redis.call('SET', KEYS[2], stored, 'PX', ttl)
end
redis.call('DEL', KEYS[1])
return 1
