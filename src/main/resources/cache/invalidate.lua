-- Replaces the entry with a marker ('stale' after a create or update, 'deleted' after a delete)
-- carrying the version just committed, so that a slower reader cannot store an older copy.
-- A marker or entry of the same or a newer version is kept: it is already as fresh.
-- KEYS[1] the key; ARGV[1] version, ARGV[2] state, ARGV[3] TTL in ms. Returns 1 marked, 0 kept.
local key = KEYS[1]
if redis.call('TYPE', key).ok == 'hash' then
  local current = tonumber(redis.call('HGET', key, 'version'))
  if current ~= nil and current >= tonumber(ARGV[1]) then
    return 0
  end
end
redis.call('DEL', key)
redis.call('HSET', key, 'state', ARGV[2], 'version', ARGV[1])
redis.call('PEXPIRE', key, ARGV[3])
return 1
