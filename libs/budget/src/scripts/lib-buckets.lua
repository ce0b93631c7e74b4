-- Prelude of the deciding and settling scripts (after lib.lua): cost, buckets and limits.
-- The formulas mirror bucket.math.ts operation for operation, so both stores compute the
-- same doubles; the conformance suite proves it.

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
-- rate; nil when absent. cap_s and rate_s are the stored strings: num() wrote them, so they are
-- already what num() would print for cap and rate (stored: they need no writing either).
-- changes (optional): the limit's recent edits as at, capacity, rate triples, oldest first; the
-- bucket is carried through those made since it was written (bucket.math.ts replayChanges), and
-- then says changed = true: its stored capacity and rate are no longer the ones in force.
local function bucket_at(v, i, now, changes)
  if not v[i] then return nil end
  local level, t, cap, rate = number(v[i]), number(v[i + 1]), number(v[i + 2]),
    number(v[i + 3])
  local changed = false
  if changes then
    for j = 1, #changes, 3 do
      local at = changes[j]
      if at > t and at <= now then
        level = level + (at - t) * rate / MINUTE_MS
        if level > cap then level = cap end
        if level > changes[j + 1] then level = changes[j + 1] end
        t, cap, rate, changed = at, changes[j + 1], changes[j + 2], true
      end
    end
  end
  if now > t then level = level + (now - t) * rate / MINUTE_MS end
  if level > cap then level = cap end
  if changed then
    return { level = level, cap = cap, rate = rate, cap_s = num(cap), rate_s = num(rate),
      stored = false, changed = true }
  end
  return { level = level, cap = cap, rate = rate, cap_s = v[i + 2], rate_s = v[i + 3],
    stored = true }
end

-- The limits' recent edits (reserve's last ARGV): four '|'-separated lists, one per dimension
-- (rq, tk, mr, mt), of comma-separated at, capacity, rate triples; '' when none changed lately.
local function parse_changes(arg)
  local out = {}
  if not arg or arg == '' then return out end
  local i = 1
  for seg in string.gmatch(arg .. '|', '([^|]*)|') do
    if seg ~= '' then
      local list = {}
      for n in string.gmatch(seg, '[^,]+') do list[#list + 1] = number(n) end
      out[i] = list
    end
    i = i + 1
  end
  return out
end

local function bucket_fields(fields, dim)
  fields[#fields + 1] = 'l|' .. dim; fields[#fields + 1] = 't|' .. dim
  fields[#fields + 1] = 'c|' .. dim; fields[#fields + 1] = 'r|' .. dim
  return fields
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

-- The hashes a check writes (buckets, subject state) carry their own expiry horizon, field x:
-- the Redis time (ms, without the test offset) before which the key cannot expire, as the last
-- lengthening PEXPIRE set it. A write that needs the key to live need_ms more skips its PEXPIRE
-- while x covers that; otherwise it asks for need_ms + slack_ms and writes the new x with its
-- own HSET, then calls keep_for after it (the key exists by then). Every other expiry a script
-- sets only lengthens, and a key that expired or was deleted has no x, so x never says more
-- than Redis keeps. Returns the new x (1 s under what the PEXPIRE gives, for Redis's own clock
-- during the script), nil when the stored one covers need_ms.
local function horizon(x, raw, need_ms, slack_ms)
  if x and number(x) - raw >= need_ms then return nil end
  return num(raw + need_ms + slack_ms - 1000)
end
-- A bucket hash asks for 10 minutes more than its refill needs: one PEXPIRE per subject per 10
-- minutes of steady checks instead of one per check.
local BUCKETS_SLACK_MS = 10 * MINUTE_MS

-- How long the buckets hash must live for b to refill to full (then absent == full).
local function bucket_keep_ms(b)
  local full = wait_ms(b, b.cap)
  if full < 0 then full = 2 * DAY_MS end
  return full + MINUTE_MS
end

-- Appends a bucket's HSET field/value pairs; b carries its formatted level_s, cap_s, rate_s.
-- Capacity and rate are left out when b.stored says the hash already holds exactly them.
local function bucket_values(values, dim, b, now_s)
  values[#values + 1] = 'l|' .. dim; values[#values + 1] = b.level_s
  values[#values + 1] = 't|' .. dim; values[#values + 1] = now_s
  if not b.stored then
    values[#values + 1] = 'c|' .. dim; values[#values + 1] = b.cap_s
    values[#values + 1] = 'r|' .. dim; values[#values + 1] = b.rate_s
  end
end

-- Appends a bucket's (level, cap, perMinute) to a reply, '' three times when it is unlimited.
local function push_bucket(out, b)
  if b then
    out[#out + 1] = b.level_s or num(b.level); out[#out + 1] = b.cap_s or num(b.cap)
    out[#out + 1] = b.rate_s or num(b.rate)
  else
    out[#out + 1] = ''; out[#out + 1] = ''; out[#out + 1] = ''
  end
end

-- The UTC calendar month of an instant, as months since January 1970 (kernel epochMonth), by
-- Hinnant's civil-from-days.
local function month_of(now)
  local z = math.floor(now / DAY_MS) + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
    - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local y, m = yoe + era * 400, mp + 3
  if mp >= 10 then y, m = y + 1, mp - 9 end
  return (y - 1970) * 12 + m - 1
end

-- 00:00 UTC on the 1st of the month after epoch month `month` (kernel nextUtcMonthStart), by
-- days-from-civil.
local function month_end(month)
  local y, m = 1970 + math.floor((month + 1) / 12), (month + 1) % 12 + 1
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = m + 9
  if m > 2 then mp = m - 3 end
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100)
    + math.floor((153 * mp + 2) / 5)
  return (era * 146097 + doe - 719468) * DAY_MS
end

-- Appends one cost window's (limit, committed, in flight), '' three times where unlimited; a
-- committed of '' under a limit means that counter is missing (the caller asks the ledger).
-- stored: the period the counter holds (nil when none), current: the period of now.
local function push_window(out, limit, limit_s, stored, current, committed, inflight)
  if limit < 0 then
    out[#out + 1] = ''; out[#out + 1] = ''; out[#out + 1] = ''
    return
  end
  out[#out + 1] = limit_s
  if stored and number(stored) == current then out[#out + 1] = committed else out[#out + 1] = '' end
  out[#out + 1] = inflight or '0'
end

-- Appends concurrent (limit, active), then the daily and the monthly window (push_window).
-- lim: conc, daily and monthly (negative: unlimited) with their strings conc_s, daily_s and
-- monthly_s. s: the subject's day, dcost, icost, mon, mcost. active: the running leases when the
-- caller knows them.
local function push_limits(out, lim, now, s, active)
  if lim.conc >= 0 then
    out[#out + 1] = lim.conc_s; out[#out + 1] = num(active or active_leases(num(now)))
  else
    out[#out + 1] = ''; out[#out + 1] = ''
  end
  push_window(out, lim.daily, lim.daily_s, s[1], math.floor(now / DAY_MS), s[2], s[3])
  -- month_of() only where a monthly limit asks for it.
  push_window(out, lim.monthly, lim.monthly_s, lim.monthly >= 0 and s[4],
    lim.monthly >= 0 and month_of(now), s[5], s[3])
end
