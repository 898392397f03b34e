-- wrk script: 95 % GET /products/<id>, 5 % PUT /products/<id> {"price": ...}, ids uniform at
-- random in [lo, hi]. Usage: wrk ... -s bench/wrk/mix.lua URL -- LO HI [LABEL]
-- Prints the same RESULT and QUANTILES lines as get-random.lua, whose response() and done()
-- it reuses, so that the summaries treat both alike.
dofile((debug.getinfo(1, "S").source:sub(2):gsub("mix%.lua$", "get-random.lua")))

local writes = { ["Content-Type"] = "application/json" }

function request()
  local id = math.random(lo, hi)
  if math.random() < 0.05 then
    local body = string.format('{"price":%d.%02d}', math.random(1, 999), math.random(0, 99))
    return wrk.format("PUT", "/products/" .. id, writes, body)
  end
  return wrk.format("GET", "/products/" .. id)
end
