-- Stores a product read from the database, unless the key holds a newer version (an entry,
-- an invalidation marker or a deletion marker) or already an entry of the same version. A
-- marker of the same version is replaced: it names exactly the committed version this reader
-- loaded. This refuses the "stale set" of a reader that loaded version N before a writer
-- committed N+1 and invalidated the key. Whatever lookup.lua would not accept (see there) is
-- replaced.
-- KEYS[1] the key; ARGV[1] version, ARGV[2] JSON, ARGV[3] TTL in ms, ARGV[4] longest TTL in ms.
-- Returns 1 stored, 0 already cached, -1 refused because a newer version was seen.
local key = KEYS[1]
local version = tonumber(ARGV[1])
if redis.call('TYPE', key).ok == 'hash' then
  local fields = redis.call('HMGET', key, 'state', 'version', 'json')
  local current = tonumber(fields[2])
  local ttl = redis.call('PTTL', key)
  if current ~= nil and fields[1] and ttl > 0 and ttl <= tonumber(ARGV[4]) then
    if current > version then
      return -1
    end
    if current == version and fields[1] == 'value' and fields[3] then
      return 0
    end
  end
end
redis.call('DEL', key)
redis.call('HSET', key, 'state', 'value', 'version', ARGV[1], 'json', ARGV[2])
redis.call('PEXPIRE', key, ARGV[3])
return 1
