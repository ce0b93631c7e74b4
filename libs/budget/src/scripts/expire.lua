-- expire: claim and settle due reservations of one subject. The status check and the settlement
-- happen in one script, so concurrent sweepers settle each reservation exactly once. Then the
-- subject's due-index entry follows what is left: with no candidates, the script only does that
-- (a sweep's clean-up of an entry whose leases were settled or vanished).
-- KEYS: 1 buckets, 2 subject, 3 leases, 4 pending ledger, 5 due index, 6 unconfirmed index,
--   7.. candidate records
-- ARGV: 1 clock offset, 2 policy (charge|release), 3 keep ms, 4 tag, 5.. refs of the records
local now = clock(number(ARGV[1]))
local charge = ARGV[2] == 'charge'
local keep_ms = number(ARGV[3])
local now_s = num(now)
local s
local out = {}
for i = 7, #KEYS do
  local ref = ARGV[i - 2]
  local r = read_record(KEYS[i])
  if r and r.st == 'held' and number(r.exp) <= now then
    s = s or subject_state()
    if charge then
      settle(KEYS[i], ref, r, 'expired', number(r.p), number(r.c), false, now, now_s, keep_ms, s,
        0)
    else
      settle(KEYS[i], ref, r, 'expired', 0, 0, true, now, now_s, keep_ms, s, 0)
    end
    -- An ancestor's share (lvl) expires like the subject's own reservation, for no ledger row.
    if not r.lvl then out[#out + 1] = settlement_reply(ref, r) end
  elseif not r then
    -- The record outlived its retention unswept: nothing left to settle, drop the lease.
    local score = redis.call('ZSCORE', KEYS[3], ref)
    if score and number(score) <= now then redis.call('ZREM', KEYS[3], ref) end
  end
end
reindex(ARGV[4], #out > 0, now_s)
return out
