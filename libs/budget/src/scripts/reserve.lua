-- reserve: judge every dimension at once, then charge them all or nothing (mirrors
-- budget.decision.ts step for step).
-- KEYS: 1 buckets, 2 subject, 3 leases, 4 the new record, [5 idempotency]
-- ARGV: 1 clock offset, 2 prompt, 3 completion, 4 min completion (-1: none), 5 ttl ms,
--   6 input pico/token, 7 output pico/token, 8/9 requests capacity/perMinute, 10/11 tokens,
--   12/13 model requests, 14/15 model tokens (capacity -1: unlimited), 16 concurrent (-1),
--   17 daily micros (-1), 18 subject, 19 tier, 20 model, 21 ref, 22 seed day (-1),
--   23 seed micros, 24 how long a record outlives its expiry (ms)
local now = clock(tonumber(ARGV[1]))
local P, C, M = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local ttl, inp, outp = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local conc_limit, daily_limit = tonumber(ARGV[16]), tonumber(ARGV[17])
local model, keep_ms = ARGV[20], tonumber(ARGV[24])
local today = math.floor(now / DAY_MS)

-- The subject's day, committed and in-flight cost, read once: only the seed below changes them
-- before the charge.
local s = redis.call('HMGET', KEYS[2], 'day', 'dcost', 'icost')

-- The day counter caches the ledger. When it is missing, the caller reads the ledger and calls
-- again with the value; it is set only if still missing, so a concurrent seed is never undone.
if daily_limit >= 0 then
  local day = s[1]
  if not day or tonumber(day) ~= today then
    if tonumber(ARGV[22]) ~= today then return { 'seed', num(today) } end
    redis.call('HSET', KEYS[2], 'day', num(today), 'dcost', ARGV[23])
    keep_for(KEYS[2], 2 * DAY_MS)
    s[1], s[2] = num(today), ARGV[23]
  end
end

local dims = { 'rq', 'tk', 'mr|' .. model, 'mt|' .. model }
local views = { false, false, false, false }
local limited = {}
for i = 1, 4 do
  if tonumber(ARGV[6 + 2 * i]) >= 0 then limited[#limited + 1] = i end
end
if #limited > 0 then
  local wanted = {}
  for j, i in ipairs(limited) do wanted[j] = dims[i] end
  local stored = stored_buckets(wanted, now)
  for j, i in ipairs(limited) do
    local cap, b = tonumber(ARGV[6 + 2 * i]), stored[j]
    local level = cap
    if b and b.level < cap then level = b.level end
    views[i] = { level = level, cap = cap, rate = tonumber(ARGV[7 + 2 * i]) }
  end
end
local rq, tk, mr, mt = views[1], views[2], views[3], views[4]

local function with_state(out)
  for i = 1, 4 do push_bucket(out, views[i]) end
  push_limits(out, conc_limit, daily_limit, now, s)
  return out
end

-- A retried check with the same key gets the same reservation while it lives.
if #KEYS >= 5 then
  local f = redis.call('HMGET', KEYS[5], 'ref', 'tier', 'model', 'p', 'c', 'cost', 'in', 'out',
    'at', 'exp')
  local score = f[1] and redis.call('ZSCORE', KEYS[3], f[1])
  if score and tonumber(score) > now then
    return with_state({ 'ok', 1, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], num(now) })
  end
end

local lo = C
if M >= 0 and M < C then lo = M end
local least_tokens = P + lo
local least_cost = cost_micros(P, lo, inp, outp)
local used = tonumber(s[2] or '0') + tonumber(s[3] or '0')

local function refuse(reason, dimension, retry)
  return with_state({ 'no', reason, dimension, num(retry), num(now) })
end

-- Waiting never helps.
if rq and rq.cap < 1 then return refuse('exceeds_capacity', 'requests', -1) end
if tk and least_tokens > tk.cap then return refuse('exceeds_capacity', 'tokens', -1) end
if conc_limit >= 0 and conc_limit < 1 then return refuse('exceeds_capacity', 'concurrent', -1) end
if daily_limit >= 0 and least_cost > daily_limit then
  return refuse('exceeds_capacity', 'daily_cost', -1)
end
if mr and mr.cap < 1 then return refuse('exceeds_capacity', 'model_requests', -1) end
if mt and least_tokens > mt.cap then return refuse('exceeds_capacity', 'model_tokens', -1) end

-- How long each dimension needs before the least acceptable request fits.
local waits = {}
if rq then waits[#waits + 1] = { 'requests', wait_ms(rq, 1) } end
if tk then waits[#waits + 1] = { 'tokens', wait_ms(tk, least_tokens) } end
if conc_limit >= 0 then
  local w = 0
  if active_leases(now) >= conc_limit then
    local first = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. num(now), '+inf', 'WITHSCORES',
      'LIMIT', 0, 1)
    local ends = now + 1
    if first[2] then ends = tonumber(first[2]) end
    w = math.max(1, ends - now)
  end
  waits[#waits + 1] = { 'concurrent', w }
end
if daily_limit >= 0 then
  local w = 0
  if used + least_cost > daily_limit then w = (today + 1) * DAY_MS - now end
  waits[#waits + 1] = { 'daily_cost', w }
end
if mr then waits[#waits + 1] = { 'model_requests', wait_ms(mr, 1) } end
if mt then waits[#waits + 1] = { 'model_tokens', wait_ms(mt, least_tokens) } end
local worst, worst_wait = nil, 0
for _, w in ipairs(waits) do
  if w[2] < 0 then return refuse('exceeds_capacity', w[1], -1) end
  if w[2] > worst_wait then worst, worst_wait = w[1], w[2] end
end
if worst then return refuse('limited', worst, worst_wait) end

-- Everything fits prompt + lo: grant the largest completion every dimension allows.
local granted = C
if tk then granted = math.min(granted, math.floor(tk.level) - P) end
if mt then granted = math.min(granted, math.floor(mt.level) - P) end
if daily_limit >= 0 and cost_micros(P, granted, inp, outp) > daily_limit - used then
  local avail, a, b = daily_limit - used, lo, granted
  while a < b do
    local mid = math.floor((a + b + 1) / 2)
    if cost_micros(P, mid, inp, outp) <= avail then a = mid else b = mid - 1 end
  end
  granted = a
end
local cost = cost_micros(P, granted, inp, outp)

-- One HSET for the limited dimensions, one HDEL for the unlimited ones, and one lengthening
-- PEXPIRE for the longest keep: the same end state as a write and a keep_for per dimension.
-- Settlements arriving up to the expiry (and a sweep later) still find the buckets they adjust.
local charges = { 1, P + granted, 1, P + granted }
local values, unlimited, keep = {}, {}, ttl + MINUTE_MS
for i = 1, 4 do
  local b = views[i]
  if b then
    b.level = b.level - charges[i]
    bucket_values(values, dims[i], b, now)
    local ms = bucket_keep_ms(b)
    if ms > keep then keep = ms end
  else
    bucket_fields(unlimited, dims[i])
  end
end
if #values > 0 then redis.call('HSET', KEYS[1], unpack(values)) end
if #unlimited > 0 then redis.call('HDEL', KEYS[1], unpack(unlimited)) end
keep_for(KEYS[1], keep)
local ref, exp = ARGV[21], now + ttl
redis.call('ZADD', KEYS[3], exp, ref)
keep_for(KEYS[3], ttl + keep_ms)
-- In-flight cost as HINCRBY would leave it (an integer string), in the same HSET as the limits.
s[3] = num(tonumber(s[3] or '0') + cost)
redis.call('HSET', KEYS[2], 'icost', s[3], 'cl', num(conc_limit), 'dl', num(daily_limit))
keep_for(KEYS[2], ttl + 2 * DAY_MS)
redis.call('HSET', KEYS[4], 'sub', ARGV[18], 'tier', ARGV[19], 'model', model, 'p', num(P),
  'c', num(granted), 'cost', num(cost), 'in', ARGV[6], 'out', ARGV[7], 'at', num(now),
  'exp', num(exp), 'st', 'held')
redis.call('PEXPIRE', KEYS[4], ttl + keep_ms)
if #KEYS >= 5 then
  redis.call('HSET', KEYS[5], 'ref', ref, 'tier', ARGV[19], 'model', model, 'p', num(P),
    'c', num(granted), 'cost', num(cost), 'in', ARGV[6], 'out', ARGV[7], 'at', num(now),
    'exp', num(exp))
  redis.call('PEXPIRE', KEYS[5], ttl)
end
return with_state({ 'ok', 0, ref, ARGV[19], model, num(P), num(granted), num(cost), ARGV[6],
  ARGV[7], num(now), num(exp), num(now) })
