-- cancel: undo one level of a scoped check that another level refused (budget.scope.ts): the
-- reservation is released entirely, as a full refund would, but leaves no ledger row and no
-- record (a retried check with its idempotency key reserves afresh).
-- KEYS: 1 buckets, 2 subject, 3 leases, 4 pending ledger, 5 due index, 6 unconfirmed index,
--   7 record, [8 the check's idempotency key: forgotten when it names this reservation]
-- ARGV: 1 clock offset, 2 ref, 3 tag
-- Reply: 'gone' when there is no held reservation, else 'ok', now, the state block.
local now = clock(number(ARGV[1]))
local r = read_record(KEYS[7])
if not r or r.st ~= 'held' then return { 'gone' } end
local now_s = num(now)
local s, lim = subject_state()
r.lvl = '1'
local buckets = settle(KEYS[7], ARGV[2], r, 'refunded', 0, 0, true, now, now_s, 1000, s, 0)
redis.call('DEL', KEYS[7])
if #KEYS >= 8 and redis.call('HGET', KEYS[8], 'ref') == ARGV[2] then redis.call('DEL', KEYS[8]) end
reindex(ARGV[3], false, now_s)
local out = { 'ok', now_s }
for i = 1, 4 do push_bucket(out, buckets[i]) end
push_limits(out, lim, now, s)
return out
