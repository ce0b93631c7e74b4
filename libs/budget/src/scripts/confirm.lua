-- confirm: the ledger holds these settlements (or their records are gone); forget them as
-- pending and let each record expire a retention after its settlement (instead of the longer
-- unconfirmed retention). The subject's unconfirmed-index entry then follows what is left.
-- KEYS: 1 pending ledger, 2 unconfirmed index, 3.. records
-- ARGV: 1 clock offset, 2 retention ms, 3 the subject's tag, 4.. refs
local now = clock(number(ARGV[1]))
local retention = number(ARGV[2])
for i = 3, #KEYS do
  redis.call('ZREM', KEYS[1], ARGV[i + 1])
  local sat = redis.call('HGET', KEYS[i], 'sat')
  if sat then
    redis.call('PEXPIRE', KEYS[i], math.max(1000, number(sat) + retention - now))
  end
end
follow_first(KEYS[2], KEYS[1], ARGV[3])
return #KEYS - 2
