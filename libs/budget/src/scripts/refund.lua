-- refund: release a reservation entirely (request counted back too, zero cost), or settle it
-- to a partial usage (that usage is charged, the rest of the tokens go back).
-- KEYS: 1 buckets, 2 subject, 3 leases, 4 pending ledger, 5 due index, 6 unconfirmed index,
--   7 record
-- ARGV: 1 clock offset, 2 ref, 3 prompt tokens (-1: release all), 4 completion, 5 keep ms,
--   6 tag, 7 cached prompt tokens (of 3)
local now = clock(number(ARGV[1]))
local up, uc = number(ARGV[3]), number(ARGV[4])
if up < 0 then
  return settle_request(ARGV[2], ARGV[6], 'refunded', 0, 0, true, now, number(ARGV[5]), 0)
end
return settle_request(ARGV[2], ARGV[6], 'refunded', up, uc, false, now, number(ARGV[5]),
  number(ARGV[7]))
