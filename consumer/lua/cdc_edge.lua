-- followcdc: apply one change of the edges between ME and ONE other user to
-- my keys (schemas/redis.md). Touches the keys of ONE user (one hash tag),
-- so it runs on Redis Cluster.
--
-- KEYS[1]  my following (ZSET)             ({u:me}:following)
-- KEYS[2]  my followers (ZSET)             ({u:me}:followers)
-- KEYS[3]  my friends (ZSET)               ({u:me}:friends)
-- KEYS[4]  my edge versions (HASH)         ({u:me}:ver)
-- ARGV[1]  the other user's id (decimal text)
-- ARGV[2]  version of the change: decimal digits without leading zeros
--          (a longer one is newer; equal lengths compare as strings)
-- ARGV[3]  source tag: "" for the home source (the consumer's
--          source.name), else the source's name ([A-Za-z0-9._-])
-- ARGV[4]  side: "o" = my edge me -> other, "i" = the edge other -> me
-- ARGV[5]  "1" = that edge exists (following), "0" = it does not
-- ARGV[6]  score: follow time in ms (used when ARGV[5] == "1")
-- ARGV[7..9]  optionally a second side, as ARGV[4..6] (pair tables: one
--          row holds both directions, applied here atomically)
--
-- Each side (o:<other> or i:<other> in KEYS[4]) holds one register per
-- source that ever wrote the edge: its newest version, and whether that
-- source's row says "following" (and since when). A change applies to its
-- own source's register only if its version is newer; versions of
-- different sources are never compared. The edge is in my set iff some
-- source says so (score: the latest such follow time): Redis shows the
-- union of the sources, whatever order their changes arrive in.
--
-- Field value: one register: "<ver>" (home) or "<ver>@<tag>", and the
-- edge's state is my set's membership; several: "<reg>;<reg>..." sorted by
-- tag, each "<ver>[@<tag>][=<score>]" ("=<score>" iff that source says
-- following). One source (the usual case) costs what it did before.
--
-- Returns 1 if a side applied, 0 if every side was stale.
--
-- Versions are written LAST: Redis does not roll a script back when a
-- command in it fails (e.g. WRONGTYPE), so a failure part way leaves the
-- old versions and a retry applies the change again (every write here is
-- idempotent).
local other, ver, tag = ARGV[1], ARGV[2], ARGV[3]

local function newer(a, b)
  return #a > #b or (#a == #b and a > b)
end

-- a register from its text; s = score text or false
local function parse(text)
  local v, t, s = string.match(text, '^([0-9]+)@?([^=]*)=?(.*)$')
  if s == '' then
    s = false
  end
  return { v = v, t = t, s = s }
end

local function format(r, multi)
  local out = r.v
  if r.t ~= '' then
    out = out .. '@' .. r.t
  end
  if multi and r.s then
    out = out .. '=' .. r.s
  end
  return out
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

-- Several registers (cur: the field's value, or a one-register value of
-- another source whose state is my set's membership): apply the change
-- to its source's register. Returns the union (score text or false) and
-- the new field value, or nil if stale.
local function merge(cur, set, exists, score)
  local regs = {}
  local mine = nil
  if string.find(cur, ';', 1, true) then
    for text in string.gmatch(cur, '[^;]+') do
      regs[#regs + 1] = parse(text)
    end
  else
    local r = parse(cur)
    r.s = redis.call('ZSCORE', set, other) or false
    regs[1] = r
  end
  for _, r in ipairs(regs) do
    if r.t == tag then
      mine = r
    end
  end
  if mine and not newer(ver, mine.v) then
    return nil
  end
  local s = false
  if exists then
    s = score
  end
  if mine then
    mine.v, mine.s = ver, s
  else
    regs[#regs + 1] = { v = ver, t = tag, s = s }
  end
  -- the union: following iff some source says so, since the latest time
  local best = false
  for _, r in ipairs(regs) do
    if r.s and (not best or tonumber(r.s) > tonumber(best)) then
      best = r.s
    end
  end
  -- sorted by tag (bytes: string < depends on the locale), so the value
  -- does not depend on the order changes arrived in
  table.sort(regs, function(a, b)
    return byte_less(a.t, b.t)
  end)
  local parts = {}
  for j, r in ipairs(regs) do
    parts[j] = format(r, true)
  end
  return best, table.concat(parts, ';')
end

local mine_suffix = ''
if tag ~= '' then
  mine_suffix = '@' .. tag
end
-- is a one-register value (its '@' at position at, or none) of this
-- change's source?
local function same_source(at, cur)
  if tag == '' then
    return at == nil
  end
  return at ~= nil and string.sub(cur, at + 1) == tag
end
local sets = { o = KEYS[1], i = KEYS[2] }
local state = {}  -- side -> score text or false, for the friends step
local hset = {}
local applied = 0
local k = 4
while ARGV[k] do
  local dir = ARGV[k]
  local set = sets[dir]
  if not set then
    return redis.error_reply('ERR cdc_edge: side must be o or i')
  end
  local exists = ARGV[k + 1] == '1'
  local score = ARGV[k + 2]
  local field = dir .. ':' .. other
  local cur = redis.call('HGET', KEYS[4], field)
  local best, text = false, nil
  if not cur then
    -- the first register
    if exists then
      best = score
    end
    text = ver .. mine_suffix
  elseif not string.find(cur, ';', 1, true) and
      same_source(string.find(cur, '@', 1, true), cur) then
    -- one register, of this source: the usual case, as with one source
    local cv = string.sub(cur, 1, #cur - #mine_suffix)
    if newer(ver, cv) then
      if exists then
        best = score
      end
      text = ver .. mine_suffix
    end
  else
    best, text = merge(cur, set, exists, score)
  end
  if text then
    if best then
      redis.call('ZADD', set, best, other)
    else
      redis.call('ZREM', set, other)
    end
    state[dir] = best
    hset[#hset + 1] = field
    hset[#hset + 1] = text
    applied = 1
  end
  k = k + 3
end
if applied == 0 then
  return 0
end
-- friend iff I follow them and they follow me; score the later time
local fo, fi = state['o'], state['i']
if fo == nil then
  fo = redis.call('ZSCORE', KEYS[1], other) or false
end
if fi == nil then
  fi = redis.call('ZSCORE', KEYS[2], other) or false
end
if fo and fi then
  if tonumber(fi) > tonumber(fo) then
    fo = fi
  end
  redis.call('ZADD', KEYS[3], fo, other)
else
  redis.call('ZREM', KEYS[3], other)
end
redis.call('HSET', KEYS[4], unpack(hset))
return 1
