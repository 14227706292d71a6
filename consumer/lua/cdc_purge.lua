-- followcdc: purge one user's edge sides older than a version, for one
-- source (schemas/redis.md). Touches the keys of ONE user (one hash tag),
-- so it runs on Redis Cluster. Used for a TRUNCATE of the follow table
-- (version of the TRUNCATE) and for a repair's reset of a user (version of
-- the repair's first low watermark).
--
-- KEYS[1]  my following     ({u:me}:following)
-- KEYS[2]  my followers     ({u:me}:followers)
-- KEYS[3]  my friends       ({u:me}:friends)
-- KEYS[4]  my edge versions ({u:me}:ver)
-- ARGV[1]  version V: digits without leading zeros
-- ARGV[2]  source tag: "" for the home source, else the source's name
--
-- For every member of following ("o:" side) and followers ("i:"), this
-- is what cdc_edge.lua does with "that edge does not exist, as of V, says
-- this source": the source's register of the side, if older than V (or
-- absent), becomes V, not following; registers of other sources stay; the
-- member stays iff some register still says following. A member without
-- any register (written by hand) goes. friends is then made equal to the
-- members of both sets, with the later of the two scores.
--
-- Returns the number of members removed from following and followers.
local ver, tag = ARGV[1], ARGV[2] or ''
local removed = 0

local function newer(a, b)
  return #a > #b or (#a == #b and a > b)
end

local function parse(text)
  local v, t, s = string.match(text, '^([0-9]+)@?([^=]*)=?(.*)$')
  if s == '' then
    s = false
  end
  return { v = v or '', t = t or '', s = s }
end

local function byte_less(a, b)
  local n = math.min(#a, #b)
  for j = 1, n do
    local x, y = string.byte(a, j), string.byte(b, j)
    if x ~= y then
      return x < y
    end
  end
  return #a < #b
end

local mine_text = ver
if tag ~= '' then
  mine_text = ver .. '@' .. tag
end

-- the side's new field value and whether the member stays (its score),
-- or nil when nothing changes
local function purge_side(set, field, member)
  local cur = redis.call('HGET', KEYS[4], field)
  if not cur then
    return mine_text, false
  end
  local regs = {}
  if string.find(cur, ';', 1, true) then
    for text in string.gmatch(cur, '[^;]+') do
      regs[#regs + 1] = parse(text)
    end
  else
    local r = parse(cur)
    r.s = redis.call('ZSCORE', set, member) or false
    regs[1] = r
  end
  local mine = nil
  for _, r in ipairs(regs) do
    if r.t == tag then
      mine = r
    end
  end
  if mine and not newer(ver, mine.v) then
    return nil
  end
  if #regs == 1 and not mine then
    return nil -- only another source's register: it explains the member
  end
  if mine then
    mine.v, mine.s = ver, false
  else
    regs[#regs + 1] = { v = ver, t = tag, s = false }
  end
  local best = false
  for _, r in ipairs(regs) do
    if r.s and (not best or tonumber(r.s) > tonumber(best)) then
      best = r.s
    end
  end
  if #regs == 1 then
    return mine_text, best
  end
  table.sort(regs, function(a, b)
    return byte_less(a.t, b.t)
  end)
  local parts = {}
  for j, r in ipairs(regs) do
    local out = r.v
    if r.t ~= '' then
      out = out .. '@' .. r.t
    end
    if r.s then
      out = out .. '=' .. r.s
    end
    parts[j] = out
  end
  return table.concat(parts, ';'), best
end

local function sweep(set, prefix)
  local members = redis.call('ZRANGE', set, 0, -1)
  for _, m in ipairs(members) do
    local text, best = purge_side(set, prefix .. m, m)
    if text then
      if best then
        redis.call('ZADD', set, best, m)
      else
        redis.call('ZREM', set, m)
        removed = removed + 1
      end
      redis.call('HSET', KEYS[4], prefix .. m, text)
    end
  end
end
sweep(KEYS[1], 'o:')
sweep(KEYS[2], 'i:')
local friends = redis.call('ZRANGE', KEYS[3], 0, -1, 'WITHSCORES')
for i = 1, #friends, 2 do
  local m = friends[i]
  local a = redis.call('ZSCORE', KEYS[1], m)
  local b = redis.call('ZSCORE', KEYS[2], m)
  if not a or not b then
    redis.call('ZREM', KEYS[3], m)
  else
    a = tonumber(a)
    b = tonumber(b)
    local s = a
    if b > s then
      s = b
    end
    if tonumber(friends[i + 1]) ~= s then
      redis.call('ZADD', KEYS[3], s, m)
    end
  end
end
return removed
