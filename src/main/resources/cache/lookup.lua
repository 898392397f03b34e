-- Reads an entry: returns {state, version, json}, or an empty list when there is nothing of ours.
-- A key we could not have written is dropped and read as a miss, so that whoever can write to
-- Redis cannot pin a product: no TTL, a TTL longer than any of ours, an unknown state, a version
-- that is not a number, or a value without its JSON.
-- KEYS[1] the key; ARGV[1] the longest TTL in ms that any key of ours can have.
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
    return fields
  end
end
redis.call('DEL', key)
return {}
