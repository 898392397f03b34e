-- The next generation of the cached list pages (ProductPageCache), in one round trip: INCR,
-- except on a missing key (never set, or lost to a restart or an eviction), which starts
-- from the caller's clock instead of 1, above every generation used before the loss.
-- KEYS[1] the generation; ARGV[1] the start when missing (microseconds since the epoch).
-- Returns the new generation.
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  return tonumber(ARGV[1])
end
return redis.call('INCR', KEYS[1])
