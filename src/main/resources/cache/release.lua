-- Removes a provisional marker ('pending' or 'deleting') whose transaction rolled back, if it
-- is still the one that transaction wrote: the version it announced was never committed.
-- KEYS[1] the key; ARGV[1] state, ARGV[2] version. Returns 1 removed, 0 left as it was.
local fields = redis.call('HMGET', KEYS[1], 'state', 'version')
if fields[1] == ARGV[1] and fields[2] == ARGV[2] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
