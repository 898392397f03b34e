-- Marks a fill lease failed (its holder's database read failed), keeping its end, so that the
-- callers waiting for its fill read the database at once instead of waiting for the lease to
-- run out. Only the holder's own lease: a write may have voided it, or another caller taken it.
-- KEYS[1] the key; ARGV[1] the holder's token. Returns 1 marked, 0 not the holder's lease.
if redis.call('TYPE', KEYS[1]).ok == 'hash' and redis.call('HGET', KEYS[1], 'lease') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'lease', 'failed')
  return 1
end
return 0
