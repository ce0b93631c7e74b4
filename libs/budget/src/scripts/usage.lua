-- usage: a read-only snapshot of one subject for GET /v1/subjects/{id}/usage; the TypeScript
-- side applies the current limits to it with the shared bucket math.
-- KEYS: 1 buckets, 2 subject, 3 leases; ARGV: 1 clock offset, 2 most leases listed
-- Reply: now, 2 buckets x 4, day, dcost, icost, active leases, refs, mon, mcost
local now = clock(number(ARGV[1]))
local out = { num(now) }
for _, dim in ipairs({ 'rq', 'tk' }) do
  local v = redis.call('HMGET', KEYS[1], 'l|' .. dim, 't|' .. dim, 'c|' .. dim, 'r|' .. dim)
  for i = 1, 4 do out[#out + 1] = v[i] or '' end
end
local s = redis.call('HMGET', KEYS[2], 'day', 'dcost', 'icost')
for i = 1, 3 do out[#out + 1] = s[i] or '' end
out[#out + 1] = num(active_leases(out[1]))
out[#out + 1] = redis.call('ZRANGE', KEYS[3], 0, number(ARGV[2]) - 1)
local m = redis.call('HMGET', KEYS[2], 'mon', 'mcost')
out[#out + 1] = m[1] or ''; out[#out + 1] = m[2] or ''
return out
