-- commit: settle a reservation to its real usage (accepted even after expiry, until swept).
-- KEYS: 1 buckets, 2 subject, 3 leases, 4 pending ledger, 5 due index, 6 unconfirmed index,
--   7 record
-- ARGV: 1 clock offset, 2 ref, 3 prompt tokens, 4 completion tokens, 5 record keep ms, 6 tag,
--   7 cached prompt tokens (of 3)
local now = clock(number(ARGV[1]))
return settle_request(ARGV[2], ARGV[6], 'committed', number(ARGV[3]), number(ARGV[4]), false,
  now, number(ARGV[5]), number(ARGV[7]))
