-- Prelude of the scripts that keep a group's index zsets (due, unconfirmed) in step with a
-- subject's own zset (leases, pending ledger), after lib.lua: one entry per subject, scored by
-- the lowest score of the subject's zset, so a sweep reading the index finds it when it is due.

-- Sets the subject's entry in index to the lowest score in zset, or removes it when zset is
-- empty (or gone: expired, flushed). Returns that score, nil when removed.
local function follow_first(index, zset, tag)
  local first = redis.call('ZRANGE', zset, 0, 0, 'WITHSCORES')
  if first[2] then
    redis.call('ZADD', index, first[2], tag)
  else
    redis.call('ZREM', index, tag)
  end
  return first[2]
end
