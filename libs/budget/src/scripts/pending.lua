-- pending: refs of settlements the ledger has not confirmed for at least ARGV[2] ms. First the
-- subject's unconfirmed-index entry follows its pending ledger (a sweep visiting an entry whose
-- zset was emptied or expired removes it).
-- KEYS: 1 pending ledger, 2 unconfirmed index
-- ARGV: 1 clock offset, 2 older than ms, 3 most refs, 4 the subject's tag
local now = clock(number(ARGV[1]))
if not follow_first(KEYS[2], KEYS[1], ARGV[4]) then return {} end
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', num(now - number(ARGV[2])), 'LIMIT', 0,
  number(ARGV[3]))
