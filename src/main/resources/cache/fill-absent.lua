-- Remembers that no product has this id, unless anything is stored under the key already:
-- a product created meanwhile leaves a marker or an entry, which wins over "absent". A fill
-- lease alone (a hash with no state, see lookup.lua) is no entry: it is replaced, which ends it.
-- KEYS[1] the key; ARGV[1] TTL in ms. Returns 1 stored, 0 left as it was.
local kind = redis.call('TYPE', KEYS[1]).ok
if kind ~= 'none' and (kind ~= 'hash' or redis.call('HEXISTS', KEYS[1], 'state') == 1) then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'absent', 'version', '-1')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
