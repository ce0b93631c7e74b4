-- Shared prelude, prepended to every budget script when it is loaded (budget.scripts.ts).
-- Redis runs a script's whole text on every call, so each local function here is created again
-- per call: only what every script needs lives here; lib-buckets.lua and lib-settle.lua are
-- prepended only to the scripts that use them.
-- The helpers expect the subject's keys in this order: KEYS[1] buckets (hash), KEYS[2] subject
-- state (hash), KEYS[3] leases (zset), then script-specific keys.

local DAY_MS = 86400000
local MINUTE_MS = 60000

-- A string that holds a number, as that number. tonumber() parses a string twice
-- (lua_isnumber, then lua_tonumber); arithmetic coercion parses it once, into the same double
-- (x * 1 keeps -0 too). Unlike tonumber, anything else is an error, never nil.
local function number(s)
  return s * 1
end

-- Time comes from Redis only; the offset (ARGV[1], 0 in production) lets tests move it.
-- Every script calls clock() before anything else, and every script's last argument is its
-- deadline in Redis time (budget.scripts.ts, -1: none): a script that runs after it (its caller
-- gave up: Redis hung, then ran what sat in its socket) fails with LATE, having written nothing.
local function clock(offset)
  local t = redis.call('TIME')
  local raw = number(t[1]) * 1000 + math.floor(number(t[2]) / 1000)
  local deadline = number(ARGV[#ARGV])
  if deadline >= 0 and raw > deadline then
    error({ err = 'LATE the caller gave up ' .. (raw - deadline) .. ' ms before this ran' })
  end
  return raw + offset
end

-- Lua numbers reach Redis through "%.14g"; keep every digit instead. Integers well inside
-- the exact range print the same digits through the much cheaper '%d' (-0 keeps '%.17g').
-- Formatting is among the costliest steps of a script: format each value once and reuse it.
local function num(x)
  if x == math.floor(x) and x > -1e15 and x < 1e15 and x ~= 0 then
    return string.format('%d', x)
  end
  return string.format('%.17g', x)
end

-- Leases still running at now (now_s: num(now)).
local function active_leases(now_s)
  return redis.call('ZCOUNT', KEYS[3], '(' .. now_s, '+inf')
end
