-- Reads an entry: returns {state, version, json}, or an empty list when there is no entry of ours.
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then
  return {}
end
return redis.call('HMGET', KEYS[1], 'state', 'version', 'json')
