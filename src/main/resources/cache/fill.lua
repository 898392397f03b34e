-- Stores a product read from the database, unless the key holds a newer version (an entry,
-- an invalidation marker or a deletion marker) or already an entry of the same version. A
-- `stale` marker of the same version is replaced: the marker names exactly the committed
-- version this reader loaded. This refuses the "stale set" of a reader that loaded version N
-- before a writer committed N+1 and invalidated the key.
-- KEYS[1] the key; ARGV[1] version, ARGV[2] JSON, ARGV[3] TTL in ms.
-- Returns 1 stored, 0 already cached, -1 refused because a newer version was seen.
local key = KEYS[1]
local version = tonumber(ARGV[1])
local kind = redis.call('TYPE', key).ok
if kind == 'hash' then
  local current = tonumber(redis.call('HGET', key, 'version'))
  if current ~= nil then
    if current > version then
      return -1
    end
    if current == version and redis.call('HGET', key, 'state') == 'value' then
      return 0
    end
  end
end
redis.call('DEL', key)
redis.call('HSET', key, 'state', 'value', 'version', ARGV[1], 'json', ARGV[2])
redis.call('PEXPIRE', key, ARGV[3])
return 1
