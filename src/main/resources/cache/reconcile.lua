-- The change feed's marker: the database holds this version of the product now, whoever wrote
-- it. Kept: an entry or marker of this version or a newer one, since the feed re-reads what
-- the service's own writes already marked (a value of the committed version is fresh: the
-- database's version guard gives every change a new version), and a provisional marker of a
-- write still in flight wins as it would over any fill. Replaced: anything older, and whatever
-- lookup.lua would drop. A deletion marker is replaced only when ARGV[4] is '1': the feed may
-- have read the row before the service deleted it, so it asks again, with '1', only after
-- reading the row once more and finding it there (a restore re-inserted it).
-- KEYS[1] the key; ARGV[1] version, ARGV[2] TTL in ms, ARGV[3] longest TTL in ms, ARGV[4] '1' to
-- replace a deletion marker.
-- Returns 1 marked, 0 kept, 2 kept a deletion marker.
local key = KEYS[1]
local version = tonumber(ARGV[1])
if redis.call('TYPE', key).ok == 'hash' then
  local fields = redis.call('HMGET', key, 'state', 'version')
  local current = tonumber(fields[2])
  local ttl = redis.call('PTTL', key)
  if current ~= nil and fields[1] and ttl > 0 and ttl <= tonumber(ARGV[3]) then
    if fields[1] == 'deleted' then
      if ARGV[4] ~= '1' then
        return 2
      end
    elseif current >= version then
      return 0
    end
  end
end
redis.call('DEL', key)
redis.call('HSET', key, 'state', 'stale', 'version', ARGV[1])
redis.call('PEXPIRE', key, ARGV[2])
return 1
