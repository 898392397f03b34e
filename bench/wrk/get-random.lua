-- wrk script: GET /products/<id> with id uniform at random in [lo, hi].
-- Usage: wrk ... -s bench/wrk/get-random.lua URL -- LO HI [LABEL] [PATH]
-- PATH is a template whose %d becomes the random number (default /products/%d); one without
-- %d is requested as it is (e.g. /actuator/info, the server's cheapest endpoint).
-- Counts statuses (2xx/3xx/4xx/5xx) and the X-Cache header (HIT/MISS/BYPASS) in response(),
-- and done() prints one machine-readable RESULT line (latencies in ms).

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

function init(args)
  lo = tonumber(args[1]) or 1
  hi = tonumber(args[2]) or 1000
  label = args[3] or "get"
  path = args[4] or "/products/%d"
  c2xx, c3xx, c4xx, c5xx, other = 0, 0, 0, 0, 0
  hit, miss, bypass = 0, 0, 0
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  -- the first values of a fresh LuaJIT generator are poorly mixed
  for _ = 1, 10 do math.random() end
end

function request()
  if string.find(path, "%d", 1, true) then
    return wrk.format("GET", string.format(path, math.random(lo, hi)))
  end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then c2xx = c2xx + 1
  elseif status >= 300 and status < 400 then c3xx = c3xx + 1
  elseif status >= 400 and status < 500 then c4xx = c4xx + 1
  elseif status >= 500 and status < 600 then c5xx = c5xx + 1
  else other = other + 1 end
  local xc = headers["X-Cache"] or headers["x-cache"]
  if xc == "HIT" then hit = hit + 1
  elseif xc == "MISS" then miss = miss + 1
  elseif xc == "BYPASS" then bypass = bypass + 1 end
end

local keys = { "c2xx", "c3xx", "c4xx", "c5xx", "other", "hit", "miss", "bypass" }

function done(summary, latency, requests)
  local t = {}
  for _, k in ipairs(keys) do t[k] = 0 end
  local lbl = "get"
  for _, thread in ipairs(threads) do
    for _, k in ipairs(keys) do t[k] = t[k] + (tonumber(thread:get(k)) or 0) end
    lbl = thread:get("label") or lbl
  end
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT label=%s requests=%d duration_s=%.2f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f " ..
    "c2xx=%d c3xx=%d c4xx=%d c5xx=%d other=%d non2xx=%d hit=%d miss=%d bypass=%d " ..
    "err_connect=%d err_read=%d err_write=%d err_timeout=%d\n",
    lbl, summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    t.c2xx, t.c3xx, t.c4xx, t.c5xx, t.other, t.c3xx + t.c4xx + t.c5xx + t.other, t.hit, t.miss, t.bypass,
    e.connect, e.read, e.write, e.timeout))
  -- the latency distribution, to merge runs: 9999 quantiles (0.01% .. 99.99%) in ms
  local q = {}
  for i = 1, 9999 do q[i] = string.format("%.3f", latency:percentile(i / 100) / 1000) end
  io.write("QUANTILES requests=" .. summary.requests .. " max=" .. string.format("%.3f", latency.max / 1000)
    .. " " .. table.concat(q, " ") .. "\n")
end
