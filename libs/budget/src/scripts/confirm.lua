-- confirm: the ledger holds these settlements (or their records are gone); forget them as
-- pending and let each record expire a retention after its settlement (instead of the longer
-- unconfirmed retention). Each subject's unconfirmed-index entry then follows what is left.
-- One or more subjects per call (several only where every key is on one node: not on Cluster).
-- KEYS, per subject: its pending ledger, its group's unconfirmed index, its n records
-- ARGV: 1 clock offset, 2 retention ms, then per subject: its tag, n, its n refs
local now = clock(number(ARGV[1]))
local retention = number(ARGV[2])
local k, a, done = 1, 3, 0
-- The last ARGV is the deadline (lib.lua clock()).
while a < #ARGV do
  local pending, index, tag, n = KEYS[k], KEYS[k + 1], ARGV[a], number(ARGV[a + 1])
  for j = 1, n do
    redis.call('ZREM', pending, ARGV[a + 1 + j])
    local record = KEYS[k + 1 + j]
    local sat = redis.call('HGET', record, 'sat')
    if sat then
      redis.call('PEXPIRE', record, math.max(1000, number(sat) + retention - now))
    end
  end
  follow_first(index, pending, tag)
  done = done + n
  k, a = k + 2 + n, a + 2 + n
end
return done
