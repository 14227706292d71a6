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
-- ARGV[6]  source tag: "" for the home source (the consumer's
--          source.name), else the source's name ([A-Za-z0-9._-])
--
-- Returns 1 if applied, 0 if not newer than what is held, 2 if the row is
-- already past its expiry (nothing kept; an existing record is removed).
--
-- Stored versions are "<ver>" (home source) or "<ver>@<tag>". Versions of
-- one source compare as numbers; a request id should live in one source
-- only, and if two sources write it the one whose tag sorts last (by
-- bytes; the home source first) wins, whatever the order of arrival.
if redis.replicate_commands then
  redis.replicate_commands()
end
-- the tag of a stored version ("" = home) and its digits
local function split(text)
  local v, t = string.match(text, '^([0-9]+)@?(.*)$')
  return v or '', t or ''
end
-- byte order of two tags (string < depends on the locale)
local function tag_cmp(a, b)
  local n = math.min(#a, #b)
  for j = 1, n do
    local x, y = string.byte(a, j), string.byte(b, j)
    if x ~= y then
      return x < y and -1 or 1
    end
  end
  return #a - #b
end
-- is the stored version a not older than the change (digits v, tag t)?
local function not_older(a, v, t)
  local av, at = split(a)
  local c = tag_cmp(at, t)
  if c ~= 0 then
    return c > 0
  end
  return #av > #v or (#av == #v and av >= v)
end
local tag = ARGV[6] or ''
local ver = ARGV[1]
local stored = ver
if tag ~= '' then
  stored = ver .. '@' .. tag
end
local cur = redis.call('HGET', KEYS[1], 'ver')
local tomb = redis.call('GET', KEYS[2])
if (cur and not_older(cur, ver, tag)) or (tomb and not_older(tomb, ver, tag)) then
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
  redis.call('HSET', KEYS[1], 'status', ARGV[4], 'biz_key', ARGV[5], 'ver', stored)
  redis.call('PEXPIREAT', KEYS[1], expire_at)
  redis.call('DEL', KEYS[2])
else
  redis.call('SET', KEYS[2], stored, 'PXAT', expire_at)
  redis.call('DEL', KEYS[1])
end
return 1
