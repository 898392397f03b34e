-- Reads an entry: returns {state, version, json}, or an empty list when there is nothing of ours.
-- A key we could not have written is dropped and read as a miss, so that whoever can write to
-- Redis cannot pin a product: no TTL, a TTL longer than any of ours, an unknown state, a version
-- that is not a number, or a value without its JSON.
-- While the change feed is behind (ARGV[2] given), a value lives at most that much longer: its
-- TTL is cut down to it, so that a change the feed has not applied yet is served for a bounded
-- time. Markers keep their TTL (they refuse older fills).
-- KEYS[1] the key; ARGV[1] the longest TTL in ms that any key of ours can have; ARGV[2], if
-- given, the longest a value may still live, in ms.
local key = KEYS[1]
local kind = redis.call('TYPE', key).ok
if kind == 'none' then
  return {}
end
if kind == 'hash' then
  local fields = redis.call('HMGET', key, 'state', 'version', 'json')
  local ttl = redis.call('PTTL', key)
  local state = fields[1]
  local known = state == 'value' and fields[3] or state == 'stale' or state == 'deleted'
    or state == 'absent' or state == 'pending' or state == 'deleting'
  if known and tonumber(fields[2]) ~= nil and ttl > 0 and ttl <= tonumber(ARGV[1]) then
    if state == 'value' and ARGV[2] and ttl > tonumber(ARGV[2]) then
      redis.call('PEXPIRE', key, ARGV[2])
    end
    return fields
  end
end
redis.call('DEL', key)
return {}
