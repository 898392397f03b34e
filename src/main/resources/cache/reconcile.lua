-- The change feed's marker: the database holds this version of the product now, whoever wrote
-- it. Kept: an entry or marker of this version or a newer one, since the feed re-reads what
-- the service's own writes already marked (a value of the committed version is fresh: the
-- database's version guard gives every change a new version), and a provisional marker of a
-- write still in flight wins as it would over any fill. Replaced: anything older, whatever
-- lookup.lua would drop, and a deletion marker: the row is there again (a restore re-inserted
-- it).
-- KEYS[1] the key; ARGV[1] version, ARGV[2] TTL in ms, ARGV[3] longest TTL in ms.
-- Returns 1 marked, 0 kept.
local key = KEYS[1]
local version = tonumber(ARGV[1])
if redis.call('TYPE', key).ok == 'hash' then
  local fields = redis.call('HMGET', key, 'state', 'version')
  local current = tonumber(fields[2])
  local ttl = redis.call('PTTL', key)
  if current ~= nil and fields[1] and fields[1] ~= 'deleted' and current >= version
      and ttl > 0 and ttl <= tonumber(ARGV[3]) then
    return 0
  end
end
redis.call('DEL', key)
redis.call('HSET', key, 'state', 'stale', 'version', ARGV[1])
redis.call('PEXPIRE', key, ARGV[2])
return 1
