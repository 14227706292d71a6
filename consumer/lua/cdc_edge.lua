-- followcdc: apply one side of a follow edge change (schemas/redis.md).
-- Touches the keys of ONE user (one hash tag), so it runs on Redis Cluster.
--
-- KEYS[1]  my set updated by this side     ({u:me}:following or :followers)
-- KEYS[2]  my opposite set                 ({u:me}:followers or :following)
-- KEYS[3]  my friends                      ({u:me}:friends)
-- KEYS[4]  my edge versions (HASH)         ({u:me}:ver)
-- ARGV[1]  the other user's id (decimal text)
-- ARGV[2]  version of the change: decimal digits without leading zeros
--          (a longer one is newer; equal lengths compare as strings)
-- ARGV[3]  "1" = the edge exists (following), "0" = it does not
-- ARGV[4]  score: follow time in ms (used when ARGV[3] == "1")
-- ARGV[5]  version field prefix: "o:" (outgoing edge) or "i:" (incoming)
--
-- Returns 1 if applied, 0 if the change is not newer than the stored one.
--
-- The version is written LAST: Redis does not roll a script back when a
-- command in it fails (e.g. WRONGTYPE), so a failure part way leaves the
-- old version and a retry applies the change again (every write here is
-- idempotent).
local other = ARGV[1]
local ver = ARGV[2]
local field = ARGV[5] .. other
local cur = redis.call('HGET', KEYS[4], field)
if cur and (#cur > #ver or (#cur == #ver and cur >= ver)) then
  return 0
end
if ARGV[3] == '1' then
  local score = tonumber(ARGV[4])
  redis.call('ZADD', KEYS[1], score, other)
  local opposite = redis.call('ZSCORE', KEYS[2], other)
  if opposite then
    opposite = tonumber(opposite)
    if opposite > score then
      score = opposite
    end
    redis.call('ZADD', KEYS[3], score, other)
  else
    redis.call('ZREM', KEYS[3], other)
  end
else
  redis.call('ZREM', KEYS[1], other)
  redis.call('ZREM', KEYS[3], other)
end
redis.call('HSET', KEYS[4], field, ver)
return 1
