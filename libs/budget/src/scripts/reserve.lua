-- reserve: judge every dimension at once, then charge them all or nothing (mirrors
-- budget.decision.ts step for step).
-- KEYS: 1 buckets, 2 subject, 3 leases, 4 the new record, 5 the group's due index,
--   [6 idempotency]
-- ARGV: 1 clock offset, 2 prompt, 3 completion, 4 min completion (-1: none), 5 ttl ms,
--   6 input pico/token, 7 output pico/token, 8/9 requests capacity/perMinute, 10/11 tokens,
--   12/13 model requests, 14/15 model tokens (capacity -1: unlimited), 16 concurrent (-1),
--   17 daily micros (-1), 18 subject, 19 tier, 20 model, 21 ref, 22 seed day (-1),
--   23 seed micros, 24 how long a record outlives its expiry (ms), 25 the subject's tag (its
--   member in the due index), 26 cached input pico/token (the record keeps it for settling),
--   27 monthly micros (-1), 28 seed month (-1), 29 seed month micros, 30 '1' for an ancestor's
--   share of a scoped reservation (its record is settled, never ledgered), else '0',
--   31 the caller (api_clients.name; '' when unknown), kept in the record for the ledger,
--   32 the check's fingerprint (with KEYS[6]: the same key with another one is refused),
--   33 the limits' recent edits (lib-buckets.lua parse_changes; '' when none)
local now = clock(number(ARGV[1]))
local now_s = num(now)
local P, C, M = number(ARGV[2]), number(ARGV[3]), number(ARGV[4])
local ttl, inp, outp = number(ARGV[5]), number(ARGV[6]), number(ARGV[7])
local conc_limit, daily_limit = number(ARGV[16]), number(ARGV[17])
local monthly_limit = number(ARGV[27])
local lim = { conc = conc_limit, conc_s = num(conc_limit), daily = daily_limit,
  daily_s = num(daily_limit), monthly = monthly_limit, monthly_s = num(monthly_limit) }
local model, keep_ms = ARGV[20], number(ARGV[24])
local today = math.floor(now / DAY_MS)

-- The subject's day, committed and in-flight cost, month and its committed cost, read once
-- (only the seeds below change them before the charge), the limits its last reserve stored, and
-- the hash's expiry horizon (lib-buckets.lua horizon).
local s = redis.call('HMGET', KEYS[2], 'day', 'dcost', 'icost', 'mon', 'mcost', 'cl', 'dl', 'ml',
  'x')

-- The day and month counters cache the ledger. When one is missing, the caller reads the ledger
-- and calls again with the value; it is set only if still missing, so a concurrent seed is never
-- undone.
-- seed_period (and seed_value) are what the caller read; returns the period to seed ('' when
-- none is missing). at: the index in s of the period (its counter at + 1).
local function seed(at, period_field, cost_field, period, seed_period, seed_value)
  if s[at] and number(s[at]) == period then return '' end
  if number(seed_period) ~= period then return num(period) end
  redis.call('HSET', KEYS[2], period_field, num(period), cost_field, seed_value)
  keep_for(KEYS[2], 2 * DAY_MS)
  s[at], s[at + 1] = num(period), seed_value
  return ''
end
local seed_day, seed_month = '', ''
if daily_limit >= 0 then seed_day = seed(1, 'day', 'dcost', today, ARGV[22], ARGV[23]) end
local month = monthly_limit >= 0 and month_of(now)
if month then seed_month = seed(4, 'mon', 'mcost', month, ARGV[28], ARGV[29]) end
if seed_day ~= '' or seed_month ~= '' then return { 'seed', seed_day, seed_month } end

-- One HMGET reads every limited dimension's bucket, and only the level field of the unlimited
-- ones: fields are written and deleted four at a time, so it tells whether one is left to delete.
local dims = { 'rq', 'tk', 'mr|' .. model, 'mt|' .. model }
local caps, fields = {}, {}
for i = 1, 4 do
  caps[i] = number(ARGV[6 + 2 * i])
  if caps[i] >= 0 then bucket_fields(fields, dims[i]) else fields[#fields + 1] = 'l|' .. dims[i] end
end
fields[#fields + 1] = 'x'
local stored = redis.call('HMGET', KEYS[1], unpack(fields))
local changes = parse_changes(ARGV[33])
local views, stale, at = { false, false, false, false }, {}, 1
for i = 1, 4 do
  local cap = caps[i]
  if cap >= 0 then
    local b, rate = bucket_at(stored, at, now, changes[i]), number(ARGV[7 + 2 * i])
    local level = cap
    if b and b.level < cap then level = b.level end
    -- Unchanged limits keep their stored strings: no formatting, and no writing when both are.
    local same_cap, same_rate = b and b.cap == cap, b and b.rate == rate
    views[i] = { level = level, cap = cap, rate = rate,
      cap_s = same_cap and b.cap_s or num(cap), rate_s = same_rate and b.rate_s or num(rate),
      stored = same_cap and same_rate and not b.changed, had = b ~= nil }
    at = at + 4
  else
    if stored[at] then bucket_fields(stale, dims[i]) end
    at = at + 1
  end
end
local rq, tk, mr, mt = views[1], views[2], views[3], views[4]

-- Running leases, counted at most once (nil until then).
local active
local function count_active()
  active = active or active_leases(now_s)
  return active
end

local function with_state(out)
  for i = 1, 4 do push_bucket(out, views[i]) end
  if conc_limit >= 0 then count_active() end
  push_limits(out, lim, now, s, active)
  return out
end

-- A retried check with the same key gets the same reservation for a day, settled or not; the
-- same key with another body reserves nothing (SPEC §4).
if #KEYS >= 6 then
  local f = redis.call('HMGET', KEYS[6], 'ref', 'tier', 'model', 'p', 'c', 'cost', 'in', 'out',
    'at', 'exp', 'fp', 'until')
  if f[1] and number(f[12]) > now then
    if (f[11] or '') ~= ARGV[32] then return { 'reused' } end
    return with_state({ 'ok', 1, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10],
      now_s })
  end
end

local lo = C
if M >= 0 and M < C then lo = M end
local least_tokens = P + lo
local least_cost = cost_micros(P, lo, inp, outp)
local dcost, icost = number(s[2] or '0'), number(s[3] or '0')
local used = dcost + icost
local used_month = number(s[5] or '0') + icost

local function refuse(reason, dimension, retry)
  -- A limit edited since a bucket was written takes hold now, even on a refusal: the clamp of a
  -- shrink is kept, and a raised rate refills from now on (bucket.math.ts does the same).
  local values, keep = {}, 0
  for i = 1, 4 do
    local b = views[i]
    if b and b.had and not b.stored then
      b.level_s = num(b.level)
      bucket_values(values, dims[i], b, now_s)
      keep = math.max(keep, bucket_keep_ms(b))
    end
  end
  if #values > 0 then
    redis.call('HSET', KEYS[1], unpack(values))
    keep_for(KEYS[1], keep)
  end
  return with_state({ 'no', reason, dimension, num(retry), now_s })
end

-- Waiting never helps.
if rq and rq.cap < 1 then return refuse('exceeds_capacity', 'requests', -1) end
if tk and least_tokens > tk.cap then return refuse('exceeds_capacity', 'tokens', -1) end
if conc_limit >= 0 and conc_limit < 1 then return refuse('exceeds_capacity', 'concurrent', -1) end
if daily_limit >= 0 and least_cost > daily_limit then
  return refuse('exceeds_capacity', 'daily_cost', -1)
end
if month and least_cost > monthly_limit then
  return refuse('exceeds_capacity', 'monthly_cost', -1)
end
if mr and mr.cap < 1 then return refuse('exceeds_capacity', 'model_requests', -1) end
if mt and least_tokens > mt.cap then return refuse('exceeds_capacity', 'model_tokens', -1) end

-- How long each dimension needs before the least acceptable request fits, as (name, ms) pairs
-- in the order they are judged.
local waits = {}
if rq then waits[#waits + 1] = 'requests'; waits[#waits + 1] = wait_ms(rq, 1) end
if tk then waits[#waits + 1] = 'tokens'; waits[#waits + 1] = wait_ms(tk, least_tokens) end
if conc_limit >= 0 then
  local w = 0
  -- A lease usually ends at a commit, seconds away, not at its expiry: retry in 1 s (SPEC §3).
  if count_active() >= conc_limit then w = 1000 end
  waits[#waits + 1] = 'concurrent'; waits[#waits + 1] = w
end
if daily_limit >= 0 then
  local w = 0
  if used + least_cost > daily_limit then w = (today + 1) * DAY_MS - now end
  waits[#waits + 1] = 'daily_cost'; waits[#waits + 1] = w
end
if month then
  local w = 0
  if used_month + least_cost > monthly_limit then w = month_end(month) - now end
  waits[#waits + 1] = 'monthly_cost'; waits[#waits + 1] = w
end
if mr then waits[#waits + 1] = 'model_requests'; waits[#waits + 1] = wait_ms(mr, 1) end
if mt then waits[#waits + 1] = 'model_tokens'; waits[#waits + 1] = wait_ms(mt, least_tokens) end
local worst, worst_wait = nil, 0
for i = 1, #waits, 2 do
  local w = waits[i + 1]
  if w < 0 then return refuse('exceeds_capacity', waits[i], -1) end
  if w > worst_wait then worst, worst_wait = waits[i], w end
end
if worst then return refuse('limited', worst, worst_wait) end

-- Everything fits prompt + lo: grant the largest completion every dimension allows.
local granted = C
if tk then granted = math.min(granted, math.floor(tk.level) - P) end
if mt then granted = math.min(granted, math.floor(mt.level) - P) end
-- The money left is the least of what the day and the month leave.
local avail
if daily_limit >= 0 then avail = daily_limit - used end
if month and (not avail or monthly_limit - used_month < avail) then
  avail = monthly_limit - used_month
end
if avail and cost_micros(P, granted, inp, outp) > avail then
  local a, b = lo, granted
  while a < b do
    local mid = math.floor((a + b + 1) / 2)
    if cost_micros(P, mid, inp, outp) <= avail then a = mid else b = mid - 1 end
  end
  granted = a
end
local cost = cost_micros(P, granted, inp, outp)

-- One HSET for the limited dimensions, an HDEL only for unlimited ones still stored, and one
-- lengthening PEXPIRE for the longest keep, unless the hash's horizon already covers it: the
-- same end state as a write and a keep_for per dimension. Settlements arriving up to the expiry
-- (and a sweep later) still find the buckets they adjust.
local charges = { 1, P + granted, 1, P + granted }
local values, keep = {}, ttl + MINUTE_MS
for i = 1, 4 do
  local b = views[i]
  if b then
    b.level = b.level - charges[i]
    b.level_s = num(b.level)
    bucket_values(values, dims[i], b, now_s)
    local ms = bucket_keep_ms(b)
    if ms > keep then keep = ms end
  end
end
local raw = now - number(ARGV[1])
local bx = #values > 0 and horizon(stored[#fields], raw, keep, BUCKETS_SLACK_MS)
if bx then values[#values + 1] = 'x'; values[#values + 1] = bx end
if #values > 0 then redis.call('HSET', KEYS[1], unpack(values)) end
if #stale > 0 then redis.call('HDEL', KEYS[1], unpack(stale)) end
if bx then
  keep_for(KEYS[1], keep + BUCKETS_SLACK_MS)
elseif #values == 0 then
  keep_for(KEYS[1], keep)
end
local ref, exp = ARGV[21], now + ttl
local exp_s = num(exp)
-- The new lease runs past now (ttl > 0): it adds one to a count already taken.
if redis.call('ZADD', KEYS[3], exp_s, ref) ~= 1 or exp <= now then active = nil end
if active then active = active + 1 end
keep_for(KEYS[3], ttl + keep_ms)
-- The subject is due at its earliest lease: LT lowers its score (or adds it), never raises it.
redis.call('ZADD', KEYS[5], 'LT', exp_s, ARGV[25])
-- In-flight cost as HINCRBY would leave it (an integer string), in the same HSET as the limits
-- settlements are shown under, written only when they changed.
s[3] = num(icost + cost)
local state = { 'icost', s[3] }
if s[6] ~= lim.conc_s or s[7] ~= lim.daily_s or s[8] ~= lim.monthly_s then
  state[3], state[4], state[5], state[6] = 'cl', lim.conc_s, 'dl', lim.daily_s
  state[7], state[8] = 'ml', lim.monthly_s
end
-- The state must outlive every lease (ttl) and its settlement by far: kept for ttl + 2 days, its
-- PEXPIRE repeated only once less than ttl + 1 day is left.
local sx = horizon(s[9], raw, ttl + DAY_MS, DAY_MS)
if sx then state[#state + 1] = 'x'; state[#state + 1] = sx end
redis.call('HSET', KEYS[2], unpack(state))
if sx then keep_for(KEYS[2], ttl + 2 * DAY_MS) end
local p_s, c_s, cost_s = num(P), num(granted), num(cost)
-- The cached-input price only where it differs from the input price (readers fall back to it),
-- and lvl only on an ancestor's share: one HSET.
local record = { 'sub', ARGV[18], 'tier', ARGV[19], 'model', model, 'p', p_s, 'c', c_s,
  'cost', cost_s, 'in', ARGV[6], 'out', ARGV[7], 'at', now_s, 'exp', exp_s, 'st', 'held',
  'who', ARGV[31] }
if ARGV[26] ~= ARGV[6] then record[#record + 1] = 'cin'; record[#record + 1] = ARGV[26] end
if ARGV[30] == '1' then record[#record + 1] = 'lvl'; record[#record + 1] = '1' end
redis.call('HSET', KEYS[4], unpack(record))
redis.call('PEXPIRE', KEYS[4], ttl + keep_ms)
if #KEYS >= 6 then
  redis.call('HSET', KEYS[6], 'ref', ref, 'tier', ARGV[19], 'model', model, 'p', p_s,
    'c', c_s, 'cost', cost_s, 'in', ARGV[6], 'out', ARGV[7], 'at', now_s, 'exp', exp_s,
    'fp', ARGV[32], 'until', num(now + math.max(ttl, DAY_MS)))
  redis.call('PEXPIRE', KEYS[6], math.max(ttl, DAY_MS))
end
return with_state({ 'ok', 0, ref, ARGV[19], model, p_s, c_s, cost_s, ARGV[6], ARGV[7], now_s,
  exp_s, now_s })
