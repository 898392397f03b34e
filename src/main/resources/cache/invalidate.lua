-- Replaces the entry with a marker carrying a version, so that a slower reader cannot store an
-- older copy. Final markers, written after the commit: 'stale' after a create, 'deleted' after a
-- delete; after an update, the committed value itself ('value' with its JSON), which refuses
-- older copies the same way and spares the next read a database read. Provisional ones, written
-- inside the transaction before it commits: 'pending' and 'deleting' (see release.lua for a
-- rollback).
-- Kept: a newer version, or a final marker of the same version (already as fresh). Replaced: an
-- entry of the same version (the database may have lost the commit that produced it and
-- committed that version again), a provisional marker, and anything lookup.lua would drop.
-- KEYS[1] the key; ARGV[1] version, ARGV[2] state, ARGV[3] TTL in ms, ARGV[4] longest TTL in ms,
-- ARGV[5] the JSON when ARGV[2] is 'value'.
-- Returns 1 marked, 0 kept.
local key = KEYS[1]
local version = tonumber(ARGV[1])
if redis.call('TYPE', key).ok == 'hash' then
  local fields = redis.call('HMGET', key, 'state', 'version')
  local current = tonumber(fields[2])
  local ttl = redis.call('PTTL', key)
  if current ~= nil and ttl > 0 and ttl <= tonumber(ARGV[4]) then
    if current > version then
      return 0
    end
    if current == version and (fields[1] == 'stale' or fields[1] == 'deleted') then
      return 0
    end
  end
end
redis.call('DEL', key)
if ARGV[5] then
  redis.call('HSET', key, 'state', ARGV[2], 'version', ARGV[1], 'json', ARGV[5])
else
  redis.call('HSET', key, 'state', ARGV[2], 'version', ARGV[1])
end
redis.call('PEXPIRE', key, ARGV[3])
return 1
