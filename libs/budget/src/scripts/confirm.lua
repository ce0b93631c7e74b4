-- confirm: the ledger holds these settlements; forget them as pending and let each record
-- expire a retention after its settlement (instead of the longer unconfirmed retention).
-- KEYS: 1 pending ledger, 2.. records; ARGV: 1 clock offset, 2 retention ms, 3.. refs
local now = clock(number(ARGV[1]))
local retention = number(ARGV[2])
for i = 2, #KEYS do
  redis.call('ZREM', KEYS[1], ARGV[i + 1])
  local sat = redis.call('HGET', KEYS[i], 'sat')
  if sat then
    redis.call('PEXPIRE', KEYS[i], math.max(1000, number(sat) + retention - now))
  end
end
return #KEYS - 1
