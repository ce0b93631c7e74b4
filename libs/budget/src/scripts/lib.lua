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

-- Lua numbers reach Redis through "%.14g"; keep every digit instead. Integers well inside
-- the exact range print the same digits through the much cheaper '%d' (-0 keeps '%.17g').
local function num(x)
  if x == math.floor(x) and x > -1e15 and x < 1e15 and x ~= 0 then
    return string.format('%d', x)
  end
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

-- Fields i..i+3 of an HMGET reply as a bucket refilled to now under its own capacity and
-- rate; nil when absent.
local function bucket_at(v, i, now)
  if not v[i] then return nil end
  local level, t, cap, rate = tonumber(v[i]), tonumber(v[i + 1]), tonumber(v[i + 2]),
    tonumber(v[i + 3])
  if now > t then level = level + (now - t) * rate / MINUTE_MS end
  if level > cap then level = cap end
  return { level = level, cap = cap, rate = rate }
end

local function bucket_fields(fields, dim)
  fields[#fields + 1] = 'l|' .. dim; fields[#fields + 1] = 't|' .. dim
  fields[#fields + 1] = 'c|' .. dim; fields[#fields + 1] = 'r|' .. dim
  return fields
end

-- The stored buckets of dims (one HMGET), each as bucket_at reads it or false when absent.
local function stored_buckets(dims, now)
  local fields = {}
  for i = 1, #dims do bucket_fields(fields, dims[i]) end
  local v = redis.call('HMGET', KEYS[1], unpack(fields))
  local out = {}
  for i = 1, #dims do out[i] = bucket_at(v, 4 * i - 3, now) or false end
  return out
end

-- Milliseconds until the bucket holds need; 0 if it does; -1 if it never refills.
local function wait_ms(b, need)
  if b.level >= need then return 0 end
  if b.rate <= 0 then return -1 end
  return math.max(1, math.ceil((need - b.level) * MINUTE_MS / b.rate))
end

-- A PEXPIRE that only ever lengthens: other writers may need the key longer. GT (Redis 7)
-- lengthens in one call when the key has a TTL; a key without one (just created) gets it set,
-- a missing key stays missing.
local function keep_for(key, ms)
  if redis.call('PEXPIRE', key, ms, 'GT') == 1 then return end
  if redis.call('PTTL', key) == -1 then redis.call('PEXPIRE', key, ms) end
end

-- How long the buckets hash must live for b to refill to full (then absent == full).
local function bucket_keep_ms(b)
  local full = wait_ms(b, b.cap)
  if full < 0 then full = 2 * DAY_MS end
  return full + MINUTE_MS
end

-- Appends a bucket's HSET field/value pairs.
local function bucket_values(values, dim, b, now)
  values[#values + 1] = 'l|' .. dim; values[#values + 1] = num(b.level)
  values[#values + 1] = 't|' .. dim; values[#values + 1] = num(now)
  values[#values + 1] = 'c|' .. dim; values[#values + 1] = num(b.cap)
  values[#values + 1] = 'r|' .. dim; values[#values + 1] = num(b.rate)
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
-- s: the subject's day, dcost and icost when the caller already holds them.
local function push_limits(out, conc_limit, daily_limit, now, s)
  if conc_limit >= 0 then
    out[#out + 1] = num(conc_limit); out[#out + 1] = num(active_leases(now))
  else
    out[#out + 1] = ''; out[#out + 1] = ''
  end
  if daily_limit >= 0 then
    s = s or redis.call('HMGET', KEYS[2], 'day', 'dcost', 'icost')
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
-- All dims at once: one HMGET, one HSET, one lengthening PEXPIRE (the longest of the writes'
-- keeps, which is what one keep_for per write leaves).
local function adjust_buckets(dims, deltas, now)
  local stored = stored_buckets(dims, now)
  local values, keep = {}, nil
  for i = 1, #dims do
    local b = stored[i]
    if b then
      b.level = b.level + deltas[i]
      if b.level > b.cap then b.level = b.cap end
      bucket_values(values, dims[i], b, now)
      local ms = bucket_keep_ms(b)
      if not keep or ms > keep then keep = ms end
    end
  end
  if keep then
    redis.call('HSET', KEYS[1], unpack(values))
    keep_for(KEYS[1], keep)
  end
end

-- Settles one held reservation: buckets, lease, in-flight and day cost, record, pending ledger.
-- KEYS[4] is the pending-ledger zset. Returns the settlement reply.
local function settle(rec_key, ref, r, status, up, uc, give_request, now, keep_ms)
  local p, c = tonumber(r.p), tonumber(r.c)
  local delta = (p + c) - (up + uc)
  local cost = cost_micros(up, uc, tonumber(r['in']), tonumber(r.out))
  if give_request then
    adjust_buckets({ 'tk', 'mt|' .. r.model, 'rq', 'mr|' .. r.model }, { delta, delta, 1, 1 }, now)
  else
    adjust_buckets({ 'tk', 'mt|' .. r.model }, { delta, delta }, now)
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
  local b = stored_buckets({ 'rq', 'tk', 'mr|' .. model, 'mt|' .. model }, now)
  for i = 1, 4 do push_bucket(out, b[i] or nil) end
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
