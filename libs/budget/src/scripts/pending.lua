-- pending: refs of settlements the ledger has not confirmed for at least ARGV[2] ms.
-- KEYS: 1 pending ledger; ARGV: 1 clock offset, 2 older than ms, 3 most refs
local now = clock(number(ARGV[1]))
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', num(now - number(ARGV[2])), 'LIMIT', 0,
  number(ARGV[3]))
