-- Remembers that no product has this id, unless anything is stored under the key already:
-- a product created meanwhile leaves a marker or an entry, which wins over "absent".
-- KEYS[1] the key; ARGV[1] TTL in ms. Returns 1 stored, 0 left as it was.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'absent', 'version', '-1')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
