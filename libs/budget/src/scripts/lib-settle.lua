-- Prelude of the settling scripts (commit, refund, expire), after lib.lua, lib-buckets.lua and
-- lib-index.lua.
-- Their KEYS: 1 buckets, 2 subject, 3 leases, 4 pending ledger, 5 the group's due index,
-- 6 the group's unconfirmed index, 7.. records.

local RECORD_FIELDS = { 'sub', 'tier', 'model', 'p', 'c', 'cost', 'in', 'out', 'at', 'exp', 'st',
  'sp', 'sc', 'scost', 'sat', 'cin', 'sk', 'lvl', 'who' }

local function read_record(key)
  local v = redis.call('HMGET', key, unpack(RECORD_FIELDS))
  if not v[1] then return nil end
  local r = {}
  for i, name in ipairs(RECORD_FIELDS) do r[name] = v[i] end
  return r
end

-- ref, subject, tier, model, settled prompt, completion, cost, status, reserved at, settled at,
-- reserved tokens, cached tokens, then what the reservation id signs: prompt, completion,
-- input, output and cached-input prices, expiry; last the caller ('' when unknown).
local function settlement_reply(ref, r)
  return { ref, r.sub, r.tier, r.model, r.sp, r.sc, r.scost, r.st, r.at, r.sat,
    num(number(r.p) + number(r.c)), r.sk or '0', r.p, r.c, r['in'], r.out, r.cin or r['in'],
    r.exp, r.who or '' }
end

-- bucket.math.ts costMicros with cached tokens, operation for operation: up prompt tokens of
-- which uk cached (at kp, the input price inp where the record has none), uc completion; one
-- ceiling over the whole sum.
local function settle_cost(up, uk, uc, inp, kp, outp)
  local u = up - uk
  local in_hi, in_lo = math.floor(inp / 1000000), inp % 1000000
  local k_hi, k_lo = math.floor(kp / 1000000), kp % 1000000
  local out_hi, out_lo = math.floor(outp / 1000000), outp % 1000000
  return u * in_hi + uk * k_hi + uc * out_hi + ceil_div(u * in_lo + uk * k_lo + uc * out_lo,
    1000000)
end

-- Gives the settled buckets back what the reservation did not use (or charges the overage: the
-- level may go negative): tokens always, requests only when d_requests is given. An absent
-- bucket was unlimited, or refilled to full and expired. One HMGET reads all four dimensions,
-- one HSET writes the adjusted ones, one lengthening PEXPIRE keeps them (the longest of the
-- writes' keeps, which is what one keep_for per write leaves) unless the hash's horizon
-- already covers that (lib-buckets.lua horizon).
-- Returns the four buckets (rq, tk, mr, mt) as they stand at now, false where absent.
local function adjust_buckets(model, d_tokens, d_requests, now, now_s)
  local dims = { 'rq', 'tk', 'mr|' .. model, 'mt|' .. model }
  local fields = {}
  for i = 1, 4 do bucket_fields(fields, dims[i]) end
  fields[17] = 'x'
  local v = redis.call('HMGET', KEYS[1], unpack(fields))
  local deltas = { d_requests, d_tokens, d_requests, d_tokens }
  local out, values, keep = {}, {}, nil
  for i = 1, 4 do
    local b = bucket_at(v, 4 * i - 3, now) or false
    if b and deltas[i] then
      b.level = b.level + deltas[i]
      if b.level > b.cap then b.level = b.cap end
      b.level_s = num(b.level)
      bucket_values(values, dims[i], b, now_s)
      local ms = bucket_keep_ms(b)
      if not keep or ms > keep then keep = ms end
    end
    out[i] = b
  end
  if keep then
    local x = horizon(v[17], now - number(ARGV[1]), keep, BUCKETS_SLACK_MS)
    if x then values[#values + 1] = 'x'; values[#values + 1] = x end
    redis.call('HSET', KEYS[1], unpack(values))
    if x then keep_for(KEYS[1], keep + BUCKETS_SLACK_MS) end
  end
  return out
end

-- Adds cost_s to one of the subject's committed counters (dcost, mcost); returns it as the reply
-- shows it: as Redis prints it, which num() matches below 1e15.
local function add_cost(field, cost_s)
  local total = redis.call('HINCRBY', KEYS[2], field, cost_s)
  if total > -1e15 and total < 1e15 then return num(total) end
  return redis.call('HGET', KEYS[2], field)
end

-- Settles one held reservation: buckets, lease, in-flight, day and month cost, record, pending
-- ledger. KEYS[4] is the pending-ledger zset. s: the subject's day, dcost, icost, mon, mcost
-- (read by the caller, updated here); uk: of up, the cached tokens. Returns the four buckets as
-- adjust_buckets does.
local function settle(rec_key, ref, r, status, up, uc, give_request, now, now_s, keep_ms, s, uk)
  local p, c = number(r.p), number(r.c)
  local delta = (p + c) - (up + uc)
  local inp = number(r['in'])
  local cost = settle_cost(up, uk, uc, inp, r.cin and number(r.cin) or inp, number(r.out))
  local buckets = adjust_buckets(r.model, delta, give_request and 1 or nil, now, now_s)
  redis.call('ZREM', KEYS[3], ref)
  if s[3] then
    local left = number(s[3]) - number(r.cost)
    if left < 0 then left = 0 end
    s[3] = num(left)
    redis.call('HSET', KEYS[2], 'icost', s[3])
  end
  local cost_s = num(cost)
  -- Only a counter that exists for this day (month) is moved: never create a partial period
  -- from one commit.
  if cost > 0 and s[1] and number(s[1]) == math.floor(now / DAY_MS) then
    s[2] = add_cost('dcost', cost_s)
  end
  if cost > 0 and s[4] and number(s[4]) == month_of(now) then
    s[5] = add_cost('mcost', cost_s)
  end
  r.st, r.sp, r.sc, r.scost, r.sat, r.sk = status, num(up), num(uc), cost_s, now_s, num(uk)
  redis.call('HSET', rec_key, 'st', status, 'sp', r.sp, 'sc', r.sc, 'scost', cost_s,
    'sat', now_s, 'sk', r.sk)
  redis.call('PEXPIRE', rec_key, keep_ms)
  -- An ancestor's share of a scoped reservation (lvl) is never a ledger row of its own.
  if not r.lvl then
    redis.call('ZADD', KEYS[4], now_s, ref)
    keep_for(KEYS[4], keep_ms)
  end
  return buckets
end

-- Keeps the group's indexes in step once a script has settled (or dropped) leases: the subject
-- stays due at its earliest remaining lease, or leaves the due index with its last one. When
-- something went to the pending ledger at now_s, the subject is unconfirmed since then, unless
-- since earlier (NX keeps the older score).
local function reindex(tag, settled, now_s)
  follow_first(KEYS[5], KEYS[3], tag)
  if settled then redis.call('ZADD', KEYS[6], 'NX', now_s, tag) end
end

-- Reads the subject's day, dcost, icost, mon, mcost (as settle wants them) and its last stored
-- limits.
local function subject_state()
  local s = redis.call('HMGET', KEYS[2], 'day', 'dcost', 'icost', 'mon', 'mcost', 'cl', 'dl',
    'ml')
  -- cl, dl and ml were written by num(), so the stored strings are what num() would print.
  local conc_s, daily_s, monthly_s = s[6] or '-1', s[7] or '-1', s[8] or '-1'
  return s, { conc = number(conc_s), conc_s = conc_s, daily = number(daily_s),
    daily_s = daily_s, monthly = number(monthly_s), monthly_s = monthly_s }
end

-- Commit and refund: KEYS[7] the record; replays and conflicts first. tag: the subject's index
-- member; uk: of up, the cached tokens. The reply ends with the subject's figures after the
-- settlement, under the limits its last reserve stored.
local function settle_request(ref, tag, status, up, uc, give_request, now, keep_ms, uk)
  local r = read_record(KEYS[7])
  if not r then return { 'not_found' } end
  if r.st ~= 'held' and r.st ~= status then return { 'conflict', r.st } end
  local now_s = num(now)
  local s, lim = subject_state()
  local replayed, buckets = 0, nil
  if r.st == 'held' then
    buckets = settle(KEYS[7], ref, r, status, up, uc, give_request, now, now_s, keep_ms, s, uk)
    reindex(tag, not r.lvl, now_s)
  else
    replayed = 1
    -- No deltas: only reads the four buckets as they stand.
    buckets = adjust_buckets(r.model, nil, nil, now, now_s)
  end
  local out = { 'ok', replayed }
  for _, v in ipairs(settlement_reply(ref, r)) do out[#out + 1] = v end
  out[#out + 1] = now_s
  for i = 1, 4 do push_bucket(out, buckets[i]) end
  push_limits(out, lim, now, s)
  return out
end
