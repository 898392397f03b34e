-- Reads an entry: returns {state, version, json}, or an empty list when there is nothing of ours.
-- A key we could not have written is dropped and read as a miss, so that whoever can write to
-- Redis cannot pin a product: no TTL, a TTL longer than any of ours, an unknown state, a version
-- that is not a number, or a value without its JSON.
-- While the change feed is behind (ARGV[2] above 0), a value lives at most that much longer: its
-- TTL is cut down to it, so that a change the feed has not applied yet is served for a bounded
-- time. Markers keep their TTL (they refuse older fills).
-- The fill lease (ARGV[3] its length in ms, ARGV[4] the caller's token): on a miss (nothing, or a
-- 'stale', 'pending' or 'deleting' marker) the caller takes it unless another caller's lease
-- runs, so that one caller among all instances reads the database while the others wait for its
-- fill. It lives in the entry's hash (fields 'lease', the holder's token or 'failed', and
-- 'lease_until', Redis's clock in ms), so whatever replaces the entry voids it: the holder's
-- fill, a write's marker. A lease alone (no entry yet) is a hash that expires with it; one on a
-- marker ends at 'lease_until', and one that claims to run longer than ARGV[3] was not taken by
-- this script and is taken over. A lease is never taken on a value or a 404.
-- Then the answer has a fourth element: 'granted' (the caller holds the lease), 'leased'
-- (another caller does), 'failed' (its holder's database read failed) or false (no lease: a hit
-- or a 404), and the state, version and JSON are false where there are none.
-- KEYS[1] the key; ARGV[1] the longest TTL in ms that any key of ours can have; ARGV[2], if
-- given, the longest a value may still live, in ms (0: no bound); ARGV[3], ARGV[4], if given,
-- the lease.
local key = KEYS[1]
local bound = tonumber(ARGV[2] or '0')
local leaseMillis = tonumber(ARGV[3] or '0')
local fields = nil
local holder, lease_until = false, false
local kind = redis.call('TYPE', key).ok
if kind == 'hash' then
  local found = redis.call('HMGET', key, 'state', 'version', 'json', 'lease', 'lease_until')
  local ttl = redis.call('PTTL', key)
  local state = found[1]
  local ours = ttl > 0 and ttl <= tonumber(ARGV[1])
  local leased = found[4] and tonumber(found[5]) ~= nil
  local known = state == 'value' and found[3] or state == 'stale' or state == 'deleted'
    or state == 'absent' or state == 'pending' or state == 'deleting'
  if ours and state == false and leased then
    fields = {false, false, false}
  elseif ours and known and tonumber(found[2]) ~= nil then
    if state == 'value' and bound > 0 and ttl > bound then
      redis.call('PEXPIRE', key, bound)
    end
    fields = {found[1], found[2], found[3]}
  end
  if fields ~= nil and leased then
    holder, lease_until = found[4], tonumber(found[5])
  end
end
if fields == nil then
  if kind ~= 'none' then
    redis.call('DEL', key)
  end
  fields = {false, false, false}
end
if leaseMillis <= 0 then
  if fields[1] == false then
    return {}
  end
  return fields
end
local state = fields[1]
if state == 'value' or state == 'absent' or state == 'deleted' then
  fields[4] = false
  return fields
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if holder and lease_until > now and lease_until <= now + leaseMillis then
  fields[4] = (holder == 'failed') and 'failed' or 'leased'
  return fields
end
redis.call('HSET', key, 'lease', ARGV[4], 'lease_until', now + leaseMillis)
if state == false then
  redis.call('PEXPIRE', key, leaseMillis)
end
fields[4] = 'granted'
return fields
