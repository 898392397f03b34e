-- wrk script: PUT /products/<id> {"price": ...} only, ids uniform at random in [lo, hi]: the
-- write path alone, e.g. to profile it (WRK_SCRIPT=put-random.lua bench/profile-hit.sh).
-- Usage: wrk ... -s bench/wrk/put-random.lua URL -- LO HI [LABEL]
-- Prints the same RESULT and QUANTILES lines as get-random.lua, whose response() and done()
-- it reuses.
dofile((debug.getinfo(1, "S").source:sub(2):gsub("put%-random%.lua$", "get-random.lua")))

local writes = { ["Content-Type"] = "application/json" }

function request()
  local id = math.random(lo, hi)
  local body = string.format('{"price":%d.%02d}', math.random(1, 999), math.random(0, 99))
  return wrk.format("PUT", "/products/" .. id, writes, body)
end
