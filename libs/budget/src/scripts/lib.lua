-- Shared prelude, prepended to every budget script when it is loaded (budget.scripts.ts).
-- The formulas mirror bucket.math.ts operation for operation, so both stores compute the
-- same doubles; the conformance suite proves it.
-- The helpers below expect the subject's keys in this order: KEYS[1] buckets (hash),
-- KEYS[2] subject state (hash), KEYS[3] leases (zset), then script-specific keys.

local DAY_MS = 86400000
local MINUTE_MS = 60000

-- Time comes from Redis only; the offset (ARGV[1], 0 in production) lets tests move it.
local function clock(offset)
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + offset
end

-- Lua numbers reach Redis through "%.14g"; keep every digit instead.
local function num(x)
  return string.format('%.17g', x)
end

local function ceil_div(n, d)
  local q = math.floor(n / d)
  if q * d > n then q = q - 1 end
  if (q + 1) * d <= n then q = q + 1 end
  if q * d < n then q = q + 1 end
  return q
end

-- ceil((p*inp + c*outp) / 1e6), exact: prices split at 1e6 keep every product below 2^53.
local function cost_micros(p, c, inp, outp)
  local in_hi, in_lo = math.floor(inp / 1000000), inp % 1000000
  local out_hi, out_lo = math.floor(outp / 1000000), outp % 1000000
  return p * in_hi + c * out_hi + ceil_div(p * in_lo + c * out_lo, 1000000)
end

-- The stored bucket refilled to now under its own capacity and rate; nil when absent.
local function stored_bucket(dim, now)
  local v = redis.call('HMGET', KEYS[1], 'l|' .. dim, 't|' .. dim, 'c|' .. dim, 'r|' .. dim)
  if not v[1] then return nil end
  local level, t, cap, rate = tonumber(v[1]), tonumber(v[2]), tonumber(v[3]), tonumber(v[4])
  if now > t then level = level + (now - t) * rate / MINUTE_MS end
  if level > cap then level = cap end
  return { level = level, cap = cap, rate = rate }
end

-- Milliseconds until the bucket holds need; 0 if it does; -1 if it never refills.
local function wait_ms(b, need)
  if b.level >= need then return 0 end
  if b.rate <= 0 then return -1 end
  return math.max(1, math.ceil((need - b.level) * MINUTE_MS / b.rate))
end

-- A PEXPIRE that only ever lengthens: other writers may need the key longer.
local function keep_for(key, ms)
  local current = redis.call('PTTL', key)
  if current ~= -2 and current < ms then redis.call('PEXPIRE', key, ms) end
end

-- Writes a bucket and keeps the hash until it would be full again (then absent == full).
local function write_bucket(dim, b, now)
  redis.call('HSET', KEYS[1], 'l|' .. dim, num(b.level), 't|' .. dim, num(now),
    'c|' .. dim, num(b.cap), 'r|' .. dim, num(b.rate))
  local full = wait_ms(b, b.cap)
  if full < 0 then full = 2 * DAY_MS end
  keep_for(KEYS[1], full + MINUTE_MS)
end

local function push_bucket(out, b)
  if b then
    out[#out + 1] = num(b.level); out[#out + 1] = num(b.cap); out[#out + 1] = num(b.rate)
  else
    out[#out + 1] = ''; out[#out + 1] = ''; out[#out + 1] = ''
  end
end

local function active_leases(now)
  return redis.call('ZCOUNT', KEYS[3], '(' .. num(now), '+inf')
end

-- Appends concurrent (limit, active) and daily (limit, committed today, in flight), '' where
-- unlimited; a committed of '' under a limit means today's counter is missing (the caller
-- asks the ledger).
local function push_limits(out, conc_limit, daily_limit, now)
  if conc_limit >= 0 then
    out[#out + 1] = num(conc_limit); out[#out + 1] = num(active_leases(now))
  else
    out[#out + 1] = ''; out[#out + 1] = ''
  end
  if daily_limit >= 0 then
    local s = redis.call('HMGET', KEYS[2], 'day', 'dcost', 'icost')
    out[#out + 1] = num(daily_limit)
    if s[1] and tonumber(s[1]) == math.floor(now / DAY_MS) then
      out[#out + 1] = s[2]
    else
      out[#out + 1] = ''
    end
    out[#out + 1] = s[3] or '0'
  else
    out[#out + 1] = ''; out[#out + 1] = ''; out[#out + 1] = ''
  end
end

local RECORD_FIELDS = { 'sub', 'tier', 'model', 'p', 'c', 'cost', 'in', 'out', 'at', 'exp', 'st',
  'sp', 'sc', 'scost', 'sat' }

local function read_record(key)
  local v = redis.call('HMGET', key, unpack(RECORD_FIELDS))
  if not v[1] then return nil end
  local r = {}
  for i, name in ipairs(RECORD_FIELDS) do r[name] = v[i] end
  return r
end

local function settlement_reply(ref, r)
  return { ref, r.sub, r.tier, r.model, r.sp, r.sc, r.scost, r.st, r.at, r.sat,
    num(tonumber(r.p) + tonumber(r.c)) }
end

-- Gives a settled bucket back what the reservation did not use (or charges the overage: the
-- level may go negative). An absent bucket was unlimited, or refilled to full and expired.
local function adjust_bucket(dim, delta, now)
  local b = stored_bucket(dim, now)
  if not b then return end
  b.level = b.level + delta
  if b.level > b.cap then b.level = b.cap end
  write_bucket(dim, b, now)
end

-- Settles one held reservation: buckets, lease, in-flight and day cost, record, pending ledger.
-- KEYS[4] is the pending-ledger zset. Returns the settlement reply.
local function settle(rec_key, ref, r, status, up, uc, give_request, now, keep_ms)
  local p, c = tonumber(r.p), tonumber(r.c)
  local delta = (p + c) - (up + uc)
  local cost = cost_micros(up, uc, tonumber(r['in']), tonumber(r.out))
  adjust_bucket('tk', delta, now)
  adjust_bucket('mt|' .. r.model, delta, now)
  if give_request then
    adjust_bucket('rq', 1, now)
    adjust_bucket('mr|' .. r.model, 1, now)
  end
  redis.call('ZREM', KEYS[3], ref)
  local s = redis.call('HMGET', KEYS[2], 'icost', 'day')
  if s[1] then
    local left = tonumber(s[1]) - tonumber(r.cost)
    if left < 0 then left = 0 end
    redis.call('HSET', KEYS[2], 'icost', num(left))
  end
  -- Only a counter that exists for today is moved: never create a partial day from one commit.
  if cost > 0 and s[2] and tonumber(s[2]) == math.floor(now / DAY_MS) then
    redis.call('HINCRBY', KEYS[2], 'dcost', num(cost))
  end
  redis.call('HSET', rec_key, 'st', status, 'sp', num(up), 'sc', num(uc), 'scost', num(cost),
    'sat', num(now))
  r.st, r.sp, r.sc, r.scost, r.sat = status, num(up), num(uc), num(cost), num(now)
  redis.call('PEXPIRE', rec_key, keep_ms)
  redis.call('ZADD', KEYS[4], now, ref)
  keep_for(KEYS[4], keep_ms)
  return settlement_reply(ref, r)
end

-- The subject's figures after a settlement, under the limits its last reserve stored.
local function push_settled_state(out, model, now)
  push_bucket(out, stored_bucket('rq', now))
  push_bucket(out, stored_bucket('tk', now))
  push_bucket(out, stored_bucket('mr|' .. model, now))
  push_bucket(out, stored_bucket('mt|' .. model, now))
  local s = redis.call('HMGET', KEYS[2], 'cl', 'dl')
  push_limits(out, tonumber(s[1] or '-1'), tonumber(s[2] or '-1'), now)
end

-- Commit and refund: KEYS[4] pending ledger, KEYS[5] the record; replays and conflicts first.
local function settle_request(ref, status, up, uc, give_request, now, keep_ms)
  local r = read_record(KEYS[5])
  if not r then return { 'not_found' } end
  local replayed = 0
  if r.st == 'held' then
    settle(KEYS[5], ref, r, status, up, uc, give_request, now, keep_ms)
  elseif r.st == status then
    replayed = 1
  else
    return { 'conflict', r.st }
  end
  local out = { 'ok', replayed }
  for _, v in ipairs(settlement_reply(ref, r)) do out[#out + 1] = v end
  out[#out + 1] = num(now)
  push_settled_state(out, r.model, now)
  return out
end
